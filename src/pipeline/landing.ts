import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { once } from 'node:events';
import { Transform, type TransformCallback } from 'node:stream';
import { NormalizeLineEnds } from '../util/line-ends.js';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { InputError } from '../util/errors.js';
import type { InputFile } from '../sources/source.js';

/** A file landed for a run: the unchanged copy, and the plain-text copy the warehouse reads. */
export interface LandedFile {
  /** Position in input order (files sorted by path). */
  index: number;
  sourcePath: string;
  sha256: string;
  bytes: number;
  /** The landed, unchanged copy (content-addressed, kept for re-derivation and replay). */
  landedPath: string;
  /** Decompressed, line ends normalized (NormalizeLineEnds): scratch, deleted after the run. */
  plainPath: string;
}

/**
 * Lands input files unchanged under `<landing>/objects/` (content-addressed by SHA-256, so the
 * same file landed twice is stored once) and writes `<landing>/runs/<run id>.json`, the run's
 * manifest. In the same single read it writes the decompressed scratch copy the warehouse scans
 * in parallel (gzip cannot be split across threads).
 */
export async function landFiles(
  files: InputFile[],
  landingDir: string,
  scratchDir: string,
  runId: string,
  onBytes: (bytes: number) => void,
): Promise<LandedFile[]> {
  const objectsDir = join(landingDir, 'objects');
  await mkdir(objectsDir, { recursive: true });
  await mkdir(join(landingDir, 'runs'), { recursive: true });
  await mkdir(scratchDir, { recursive: true });
  // Two files at a time: gzip is one thread per file, and a day of files should use both cores.
  const landed: LandedFile[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < files.length; index = next++) {
      landed[index] = await landOne(files[index]!, index, objectsDir, scratchDir, runId, onBytes);
    }
  };
  await Promise.all([worker(), worker()]);
  const manifest = { run_id: runId, landed_at: new Date().toISOString(), files: landed.map(({ plainPath: _scratch, ...rest }) => rest) };
  const manifestPath = join(landingDir, 'runs', `${runId}.json`);
  await writeFile(`${manifestPath}.tmp`, JSON.stringify(manifest, null, 2));
  await rename(`${manifestPath}.tmp`, manifestPath);
  return landed;
}

async function landOne(file: InputFile, index: number, objectsDir: string, scratchDir: string, runId: string, onBytes: (bytes: number) => void): Promise<LandedFile> {
  const name = basename(file.path);
  const gzipped = name.toLowerCase().endsWith('.gz');
  const tmpLanded = join(objectsDir, `.${runId}-${index}.tmp`);
  const plainPath = join(scratchDir, `${String(index).padStart(5, '0')}.ndjson`);
  const hash = createHash('sha256');
  const landedOut = createWriteStream(tmpLanded);
  const tee = new TeeToFile(landedOut, (chunk) => {
    hash.update(chunk);
    onBytes(chunk.length);
  });
  try {
    await pipeline(
      createReadStream(file.path, { highWaterMark: 1 << 20 }),
      tee,
      ...(gzipped ? [createGunzip({ chunkSize: 1 << 20 })] : []),
      new NormalizeLineEnds(),
      createWriteStream(plainPath),
    );
    landedOut.end();
    await once(landedOut, 'close');
  } catch (error) {
    landedOut.destroy();
    await rm(tmpLanded, { force: true });
    await rm(plainPath, { force: true });
    const reason = (error as { code?: string }).code === 'ENOENT' ? 'the file disappeared while reading' : (error as Error).message;
    const hint = gzipped ? 'the file is not valid gzip (truncated or corrupt): export it again, or remove it from source.path' : 'check that the file is readable';
    throw new InputError(`${file.path}: cannot read: ${reason}`, hint, false, { cause: error });
  }
  const sha256 = hash.digest('hex');
  const landedPath = join(objectsDir, `${sha256}${extensionOf(name)}`);
  const already = await stat(landedPath).then(() => true, () => false);
  if (already) await rm(tmpLanded, { force: true });
  else await rename(tmpLanded, landedPath);
  return { index, sourcePath: file.path, sha256, bytes: file.bytes, landedPath, plainPath };
}

function extensionOf(name: string): string {
  const match = /(\.[a-z]+)?(\.gz)?$/i.exec(name);
  return match?.[0] ?? '';
}

/** Passes chunks through unchanged while writing them to a second file, honouring back-pressure. */
class TeeToFile extends Transform {
  constructor(
    private readonly out: WriteStream,
    private readonly onChunk: (chunk: Buffer) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.onChunk(chunk);
    if (this.out.write(chunk)) done(null, chunk);
    else this.out.once('drain', () => done(null, chunk));
  }
}
