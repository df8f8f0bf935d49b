import { createHash } from 'node:crypto';
import { mkdir, open, rename, rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CsvContent } from '../csv.js';
import { csvFileName, type Exporter, type PublishedFile } from '../exporter.js';

/** Publishes to a local folder: the embedded stand-in for a Cloud Storage bucket. */
export class LocalExporter implements Exporter {
  constructor(private readonly root: string) {}

  get description(): string {
    return this.root;
  }

  async publish(table: string, date: string, csv: CsvContent, extra: Record<string, unknown> = {}): Promise<PublishedFile> {
    const dir = join(this.root, table, `dt=${date}`);
    const name = csvFileName(table, date);
    const hash = createHash('sha256');
    let bytes = 0;
    await writeAtomically(join(dir, name), async (write) => {
      for await (const chunk of csv.chunks) {
        const buffer = Buffer.from(chunk, 'utf8');
        hash.update(buffer);
        bytes += buffer.length;
        await write(buffer);
      }
    });
    const published: PublishedFile = { table, date, location: join(dir, name), rows: csv.rowCount(), bytes, sha256: hash.digest('hex') };
    const manifest = { table, date, file: name, rows: published.rows, bytes, sha256: published.sha256, ...extra };
    await writeAtomically(join(dir, 'manifest.json'), (write) => write(Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`)));
    return published;
  }

  async remove(table: string, date: string): Promise<void> {
    const dir = join(this.root, table, `dt=${date}`);
    // The manifest first, so that no manifest ever names a missing file.
    await rm(join(dir, 'manifest.json'), { force: true });
    await rm(join(dir, csvFileName(table, date)), { force: true });
    await rm(dir, { recursive: true, force: true });
  }

  async writeJson(relativePath: string, document: unknown): Promise<string> {
    return this.writeText(relativePath, `${JSON.stringify(document, null, 2)}\n`, 'application/json');
  }

  async deleteFile(relativePath: string): Promise<void> {
    const path = join(this.root, relativePath);
    await rm(path, { force: true });
    // Leave no empty dt= folder behind, as `remove` does not.
    await rmdir(dirname(path)).catch(() => undefined);
  }

  async writeText(relativePath: string, text: string, _contentType: string): Promise<string> {
    const path = join(this.root, relativePath);
    await writeAtomically(path, (write) => write(Buffer.from(text)));
    return path;
  }
}

/** Writes to a temporary name in the same folder, flushes it to disk, then renames it into place. */
async function writeAtomically(path: string, produce: (write: (bytes: Buffer) => Promise<void>) => Promise<void>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${process.pid}`;
  const handle = await open(temporary, 'w');
  try {
    await produce(async (bytes) => {
      await handle.write(bytes);
    });
    await handle.sync();
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
  await rename(temporary, path);
}
