import { createHash } from 'node:crypto';
import * as nodeFs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { crashPoint } from '../../util/crash-points.js';
import { CartlensError, PublishError } from '../../util/errors.js';
import type { CsvContent } from '../csv.js';
import { csvFileName, type Exporter, type PublishedFile } from '../exporter.js';

/** The slice of `node:fs/promises` the exporter calls: a test hands it one that fails like a full or read-only disk. */
export type ExportFs = Pick<typeof nodeFs, 'mkdir' | 'open' | 'rename' | 'rm' | 'rmdir' | 'readdir' | 'readFile'>;

/** Cartlens' temporary names, `<final name>.tmp-<pid>`, and only those: what a sweep may delete. */
const TEMPORARY_NAME = /^[\w.=-]+\.(?:csv|json|html)\.tmp-\d+$/;

/** Publishes to a local folder: the embedded stand-in for a Cloud Storage bucket. */
export class LocalExporter implements Exporter {
  constructor(
    private readonly root: string,
    private readonly fs: ExportFs = nodeFs,
  ) {}

  get description(): string {
    return this.root;
  }

  async publish(table: string, date: string, csv: CsvContent, extra: Record<string, unknown> = {}): Promise<PublishedFile> {
    return this.guarded(async () => {
      const dir = join(this.root, table, `dt=${date}`);
      const name = csvFileName(table, date);
      // Once the new file is written and verified, the old manifest goes just before the file is
      // replaced: a manifest never describes another file than the one beside it, even when writing
      // the new manifest then fails; a failed write leaves the previous file and manifest.
      const written = await writeAtomically(
        this.fs,
        join(dir, name),
        async (write) => {
          for await (const chunk of csv.chunks) await write(Buffer.from(chunk, 'utf8'));
        },
        () => this.fs.rm(join(dir, 'manifest.json'), { force: true }),
      );
      const published: PublishedFile = { table, date, location: join(dir, name), rows: csv.rowCount(), ...written };
      const manifest = { table, date, file: name, rows: published.rows, bytes: written.bytes, sha256: written.sha256, ...extra };
      await writeAtomically(this.fs, join(dir, 'manifest.json'), (write) => write(Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`)));
      return published;
    });
  }

  async remove(table: string, date: string): Promise<void> {
    await this.guarded(async () => {
      const dir = join(this.root, table, `dt=${date}`);
      // The manifest first, so that no manifest ever names a missing file.
      await this.fs.rm(join(dir, 'manifest.json'), { force: true });
      await this.fs.rm(join(dir, csvFileName(table, date)), { force: true });
      await this.fs.rm(dir, { recursive: true, force: true });
    });
  }

  async writeJson(relativePath: string, document: unknown): Promise<string> {
    return this.writeText(relativePath, `${JSON.stringify(document, null, 2)}\n`, 'application/json');
  }

  async readJson(relativePath: string): Promise<unknown> {
    const text = await this.fs.readFile(join(this.root, relativePath), 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    return text === undefined ? undefined : (JSON.parse(text) as unknown);
  }

  async deleteFile(relativePath: string): Promise<void> {
    await this.guarded(async () => {
      const path = join(this.root, relativePath);
      await this.fs.rm(path, { force: true });
      // Leave no empty dt= folder behind, as `remove` does not.
      await this.fs.rmdir(dirname(path)).catch(() => undefined);
    });
  }

  async writeText(relativePath: string, text: string, _contentType: string): Promise<string> {
    return this.guarded(async () => {
      const path = join(this.root, relativePath);
      await writeAtomically(this.fs, path, (write) => write(Buffer.from(text)));
      return path;
    });
  }

  /**
   * Looks where cartlens writes (`<root>/<folder>/` and `<root>/<folder>/dt=…/`), not deeper, so
   * a misplaced root is not walked whole.
   */
  async sweepTemporaryFiles(): Promise<string[]> {
    return this.guarded(async () => {
      const swept: string[] = [];
      const sweep = async (folder: string, depth: number): Promise<void> => {
        const entries = await this.fs.readdir(folder, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return [];
          throw error;
        });
        for (const entry of entries) {
          const path = join(folder, entry.name);
          if (entry.isFile() && TEMPORARY_NAME.test(entry.name)) {
            // A process still alive may be writing it (a run of another source into the same root).
            if (isAlive(Number(/\.tmp-(\d+)$/.exec(entry.name)![1]))) continue;
            await this.fs.rm(path, { force: true });
            swept.push(path);
          } else if (entry.isDirectory() && (depth === 0 || (depth <= 2 && entry.name.startsWith('dt=')) || (depth === 1 && entry.name === 'ga4_api'))) {
            await sweep(path, depth + 1);
          }
        }
      };
      await sweep(this.root, 0);
      return swept;
    });
  }

  /** Rewrites a file-system failure as a one-line error naming export.dir and what to do. */
  private async guarded<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw publishError(this.root, error);
    }
  }
}

type Write = (bytes: Buffer) => Promise<void>;

/**
 * Writes to a temporary name in the same folder, reads it back to check its byte count and
 * SHA-256 against what was sent, flushes it to disk, renames it into place and flushes the folder.
 * Any failure removes the temporary file and leaves the file at `path` as it was.
 */
async function writeAtomically(fs: ExportFs, path: string, produce: (write: Write) => Promise<void>, beforeRename?: () => Promise<void>): Promise<{ bytes: number; sha256: string }> {
  await fs.mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${process.pid}`;
  const sent = createHash('sha256');
  let bytes = 0;
  const handle = await fs.open(temporary, 'w+');
  let sha256: string;
  try {
    await produce(async (chunk) => {
      await writeFully(handle, chunk, bytes, temporary);
      sent.update(chunk);
      bytes += chunk.length;
    });
    sha256 = sent.digest('hex');
    await verify(handle, temporary, bytes, sha256);
    await handle.sync();
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
  crashPoint('before-rename');
  await beforeRename?.();
  await fs.rename(temporary, path);
  // The rename is durable only once the folder's entry is on disk too.
  await syncFolder(fs, dirname(path));
  return { bytes, sha256 };
}

/**
 * A write may store fewer bytes than asked (POSIX): the rest is written again, and a write that
 * stores nothing is an error. On a full disk the next write fails with ENOSPC.
 */
async function writeFully(handle: FileHandle, chunk: Buffer, position: number, path: string): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset, position + offset);
    if (!(bytesWritten > 0)) throw Object.assign(new Error(`a write to ${path} stored 0 of ${chunk.length - offset} bytes`), { code: 'ESHORTWRITE', path });
    offset += bytesWritten;
  }
}

/** Reads the file back: what is on disk must be exactly what was sent. */
async function verify(handle: FileHandle, path: string, expectedBytes: number, expectedSha256: string): Promise<void> {
  const hash = createHash('sha256');
  const buffer = Buffer.alloc(1 << 20);
  let position = 0;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  const found = hash.digest('hex');
  if (position !== expectedBytes || found !== expectedSha256) {
    throw Object.assign(new Error(`${path} holds ${position} bytes (SHA-256 ${found.slice(0, 12)}…) where ${expectedBytes} (${expectedSha256.slice(0, 12)}…) were written`), { code: 'EVERIFY', path });
  }
}

async function syncFolder(fs: ExportFs, folder: string): Promise<void> {
  // Windows cannot open a folder to flush it; NTFS journals the rename.
  if (process.platform === 'win32') return;
  const handle = await fs.open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** What a file-system error code means for an export folder, and what to do about it. */
const FAILURES: Record<string, { reason: string; fix: string }> = {
  EROFS: { reason: 'read-only file system', fix: 'make it writable, or point export.dir at a writable folder' },
  ENOSPC: { reason: 'no space left on device', fix: 'free space on its disk (or point export.dir at another), then run again' },
  EDQUOT: { reason: 'disk quota exceeded', fix: 'raise the quota or free space, then run again' },
  ESHORTWRITE: { reason: 'the disk stored only part of a file (is it full?)', fix: 'free space on its disk, then run again' },
  EVERIFY: { reason: 'a file read back differs from what was written', fix: 'check the disk (dmesg, fsck); nothing was published' },
  EACCES: { reason: 'permission denied', fix: 'give the user running cartlens write access to it' },
  EPERM: { reason: 'operation not permitted', fix: 'give the user running cartlens write access to it' },
  ENOTDIR: { reason: 'a file is where a folder should be', fix: 'move that file away, or point export.dir at a folder' },
  EEXIST: { reason: 'a file is where a folder should be', fix: 'move that file away, or point export.dir at a folder' },
  EISDIR: { reason: 'a folder is where a file should be', fix: 'move that folder away' },
};

function publishError(root: string, error: unknown): CartlensError {
  if (error instanceof CartlensError) return error;
  const { code, path } = error as NodeJS.ErrnoException;
  const known = code ? FAILURES[code] : undefined;
  const at = typeof path === 'string' && isAbsolute(path) ? relative(root, path) : '';
  const where = `${code ?? 'error'}${at && !at.startsWith('..') ? ` at ${at}` : ''}`;
  if (known) return new PublishError(`cannot write to export.dir ${root}: ${known.reason} (${where})`, known.fix, false, { cause: error });
  const message = ((error as Error).message ?? String(error)).split('\n')[0];
  return new PublishError(`cannot write to export.dir ${root}: ${message}`, 'check export.dir and its disk, then run again', false, { cause: error });
}

/** Whether a process with this id runs (signal 0 only checks; EPERM: it runs, as another user). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
