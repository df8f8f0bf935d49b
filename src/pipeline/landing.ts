import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
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
  // A zero-byte .gz is an empty file, as an empty .json is (gunzip calls it a truncated stream).
  // Its size is read now, not taken from the listing: a missing file fails below, naming it.
  const empty = await stat(file.path).then((info) => info.size === 0, () => false);
  const gzipped = name.toLowerCase().endsWith('.gz') && !empty;
  const tmpLanded = join(objectsDir, `.${runId}-${index}.tmp`);
  const plainPath = join(scratchDir, `${String(index).padStart(5, '0')}.ndjson`);
  const hash = createHash('sha256');
  const landedOut = createWriteStream(tmpLanded);
  // The landed copy is written beside the pipeline, not in it: its error is kept and raised here,
  // never left unhandled (a write still in flight when a corrupt gzip stops the pipeline fails late).
  let landedError: Error | undefined;
  landedOut.on('error', (error) => (landedError ??= error));
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
    if (landedError) throw landedError;
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

/** A run id as run.ts makes it (`20261111T090000Z-a1b2c3`): what cleanup may recognise as its own. */
const RUN_ID = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;
/** cartlens's own folder inside `landing.scratch_dir`, and the file that marks it as cartlens's. */
export const SCRATCH_FOLDER = 'cartlens-scratch';
const SCRATCH_MARKER = '.cartlens-scratch';

/**
 * Makes the run's scratch folder, `<scratch_dir>/cartlens-scratch/<run id>/`, marking
 * `cartlens-scratch` as cartlens's. scratch_dir itself is the user's: nothing else in it is
 * touched.
 */
export async function openRunScratch(scratchRoot: string, runId: string): Promise<string> {
  const own = join(scratchRoot, SCRATCH_FOLDER);
  await mkdir(own, { recursive: true });
  await writeFile(join(own, SCRATCH_MARKER), 'Scratch folders of cartlens runs: deleted when the run ends, or by the next run.\n', { flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  const dir = join(own, runId);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Deletes a run's scratch folder (the run ends). */
export async function removeRunScratch(scratchRoot: string, runId: string): Promise<void> {
  await rm(join(scratchRoot, SCRATCH_FOLDER, runId), { recursive: true, force: true });
}

/**
 * Deletes what killed runs left behind, and only that: run folders inside the marked
 * `cartlens-scratch` (and, from releases before it, run folders directly in the default scratch
 * folder), and partial landed files named after a run. Call only while holding the warehouse, so
 * that no other run is active.
 */
export async function removeLeftovers(landingDir: string, scratchRoot: string): Promise<void> {
  const own = join(scratchRoot, SCRATCH_FOLDER);
  const marked = await stat(join(own, SCRATCH_MARKER)).then(() => true, () => false);
  const folders = [...(marked ? [own] : []), ...(scratchRoot === join(landingDir, 'scratch') ? [scratchRoot] : [])];
  for (const folder of folders) {
    for (const entry of await readdir(folder, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory() && RUN_ID.test(entry.name)) await rm(join(folder, entry.name), { recursive: true, force: true });
    }
  }
  const objects = join(landingDir, 'objects');
  const partial = (await readdir(objects).catch(() => [] as string[])).filter((name) => /^\.(.+)-\d+\.tmp$/.exec(name)?.[1]?.match(RUN_ID));
  await Promise.all(partial.map((name) => rm(join(objects, name), { force: true })));
}
