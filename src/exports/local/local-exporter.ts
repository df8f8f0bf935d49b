import { createHash } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { csvFileName, type Exporter, type PublishedFile } from '../exporter.js';

/** Publishes to a local folder: the embedded stand-in for a Cloud Storage bucket. */
export class LocalExporter implements Exporter {
  constructor(private readonly root: string) {}

  get description(): string {
    return this.root;
  }

  async publish(table: string, date: string, csv: string, rows: number): Promise<PublishedFile> {
    const dir = join(this.root, table, `dt=${date}`);
    const name = csvFileName(table, date);
    const bytes = Buffer.from(csv, 'utf8');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await writeAtomically(join(dir, name), bytes);
    const published: PublishedFile = { table, date, location: join(dir, name), rows, bytes: bytes.length, sha256 };
    const manifest = { table, date, file: name, rows, bytes: bytes.length, sha256 };
    await writeAtomically(join(dir, 'manifest.json'), Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
    return published;
  }

  async writeJson(relativePath: string, document: unknown): Promise<string> {
    const path = join(this.root, relativePath);
    await writeAtomically(path, Buffer.from(`${JSON.stringify(document, null, 2)}\n`));
    return path;
  }
}

/** Writes to a temporary name in the same folder, flushes it to disk, then renames it into place. */
async function writeAtomically(path: string, bytes: Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${process.pid}`;
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temporary, path);
}
