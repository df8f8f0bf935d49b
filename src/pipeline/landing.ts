import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform, Writable, type TransformCallback } from 'node:stream';
import { once } from 'node:events';
import { finished, pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { NormalizeLineEnds } from '../util/line-ends.js';
import { LineIndexer, lineHasher, type LineIndexSummary } from '../util/line-index.js';
import { DiskError, InputError, writeFailure } from '../util/errors.js';
import { ga4FileName, type InputFile } from '../sources/source.js';
import type { LandedFile } from '../warehouse/warehouse.js';


/**
 * Below this many decompressed bytes a .gz is never refused, whatever its ratio: a small file of
 * repetitive lines compresses far better than a day's export, and is harmless.
 */
export const EXPANSION_FLOOR_BYTES = 64 * 1024 * 1024;

export interface LandingOptions {
  /** `landing.max_expansion_ratio`: a .gz may expand to this many times its size (past the floor). */
  maxExpansionRatio: number;
  /** EXPANSION_FLOOR_BYTES; a test lowers it rather than write 64 MiB. */
  expansionFloorBytes: number;
  /**
   * Opens a file to write (`at`: from a position, creating the file or keeping what it holds): the
   * file-system seam through which a test fills a disk.
   */
  createWriteStream: (path: string, at?: WritePosition) => Writable;
}

/** Where a write starts: `w` creates (or empties) the file, `r+` keeps what it holds. */
export interface WritePosition {
  start: number;
  flags: 'w' | 'r+';
}

const DEFAULT_OPTIONS: LandingOptions = {
  maxExpansionRatio: 100, // landing.max_expansion_ratio's default (config/schema.ts)
  expansionFloorBytes: EXPANSION_FLOOR_BYTES,
  createWriteStream: (path, at) => createWriteStream(path, at ?? {}),
};

/**
 * Lands input files unchanged under `<landing>/objects/` (content-addressed by SHA-256, so the
 * same file landed twice is stored once) and writes `<landing>/runs/<run id>.json`, the run's
 * manifest. In the same single read it decompresses the file and writes its line index
 * (src/util/line-index.ts): the warehouse reads a file as landed unless the index found a line
 * its JSON reader may not read where it lies (a line cut short would run on into the next); only
 * such a file is read a second time, into a decompressed scratch copy with line ends normalized,
 * where the warehouse blanks those lines out. A failure leaves no partial file behind.
 */
export async function landFiles(
  files: InputFile[],
  landingDir: string,
  scratchDir: string,
  runId: string,
  onBytes: (bytes: number) => void,
  options: Partial<LandingOptions> = {},
): Promise<LandedFile[]> {
  const settings = { ...DEFAULT_OPTIONS, ...options };
  const objectsDir = join(landingDir, 'objects');
  const manifestPath = join(landingDir, 'runs', `${runId}.json`);
  await Promise.all([mkdir(objectsDir, { recursive: true }), mkdir(dirname(manifestPath), { recursive: true })]).catch((error: unknown) => {
    throw landingWriteError(landingDir, undefined, error);
  });
  await mkdir(scratchDir, { recursive: true }).catch((error: unknown) => {
    throw scratchWriteError(scratchDir, undefined, error);
  });
  // Two files at a time: gzip is one thread per file, and a day of files should use both cores.
  // After a failure no new file starts, and the other one in flight is let finish (and clean up
  // after itself) before the failure is raised: nothing partial is left behind.
  const landed: LandedFile[] = new Array(files.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    for (let index = next++; index < files.length && !failure; index = next++) {
      try {
        landed[index] = await landOne(files[index]!, index, { landingDir, objectsDir, scratchDir }, runId, onBytes, settings);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all([worker(), worker()]);
  if (failure) {
    // The files landed whole stay (content-addressed, as any landed input); their scratch files go.
    await Promise.all(landed.flatMap((file) => [rm(file.plainPath, { force: true }), rm(file.lineIndexPath, { force: true })]));
    throw failure.error;
  }
  const manifest = { run_id: runId, landed_at: new Date().toISOString(), files: landed.map(({ plainPath: _scratch, readPath: _read, lineIndexPath: _index, ...rest }) => rest) };
  try {
    await writeFile(`${manifestPath}.tmp`, JSON.stringify(manifest, null, 2));
    await rename(`${manifestPath}.tmp`, manifestPath);
  } catch (error) {
    await rm(`${manifestPath}.tmp`, { force: true });
    throw landingWriteError(landingDir, undefined, error);
  }
  return landed;
}

interface Folders {
  landingDir: string;
  objectsDir: string;
  scratchDir: string;
}

/** The part of landing a stream failed in: what an error is about (the input, a disk, gzip). */
type Step = 'read' | 'land' | 'gunzip' | 'scratch';

async function landOne(file: InputFile, index: number, folders: Folders, runId: string, onBytes: (bytes: number) => void, options: LandingOptions): Promise<LandedFile> {
  const name = basename(file.path);
  // A zero-byte .gz is an empty file, as an empty .json is (gunzip calls it a truncated stream).
  // Its size is read now, not taken from the listing: a missing file fails below, naming it.
  const size = await stat(file.path).then((info) => info.size, () => undefined);
  const gzipped = name.toLowerCase().endsWith('.gz') && size !== 0;
  const tmpLanded = join(folders.objectsDir, `.${runId}-${index}.tmp`);
  const plainPath = join(folders.scratchDir, `${String(index).padStart(5, '0')}.ndjson`);
  const lineIndexPath = join(folders.scratchDir, `${String(index).padStart(5, '0')}.lines.csv`);
  const expansionLimit = Math.max(options.maxExpansionRatio * (size ?? 0), options.expansionFloorBytes);
  let sha256: string;
  let lines: LineIndexSummary | undefined;
  let copied: ScratchPrefix | undefined;
  let refused: string | undefined;
  let reported = 0;
  try {
    ({ sha256, lines, prefix: copied } = await copy(file.path, tmpLanded, { indexPath: lineIndexPath, plainPath, gzipped, expansionLimit }, (bytes) => {
      reported += bytes;
      onBytes(bytes);
    }, options));
  } catch (error) {
    if (!(error instanceof ExpansionLimitReached)) throw describeFailure(file, gzipped, folders, error);
    // A gzip bomb: its decompression stopped at the bound. It is landed unchanged all the same (in
    // a second read, without gunzip, counting only the bytes the first read did not) and has no
    // lines; the other files run.
    refused =
      `${file.path}: refused, not read: it decompresses to more than landing.max_expansion_ratio (${options.maxExpansionRatio}) × its ${formatBytes(size ?? 0)} ` +
      `and more than ${formatBytes(options.expansionFloorBytes)} (a gzip bomb, or not a GA4 export) — its landed copy is kept; if the file is genuine, raise landing.max_expansion_ratio and run again`;
    let read = 0;
    try {
      ({ sha256 } = await copy(file.path, tmpLanded, undefined, (bytes) => onBytes(Math.max(0, Math.min(bytes, (read += bytes) - reported))), options));
      await Promise.all([writeFile(plainPath, ''), writeFile(lineIndexPath, '')]).catch((cause: unknown) => {
        throw new StepFailure('scratch', cause);
      });
    } catch (second) {
      await Promise.all([rm(tmpLanded, { force: true }), rm(plainPath, { force: true }), rm(lineIndexPath, { force: true })]);
      throw describeFailure(file, false, folders, second);
    }
  }
  const landedPath = join(folders.objectsDir, `${sha256}${extensionOf(name)}`);
  try {
    const already = await stat(landedPath).then(() => true, () => false);
    if (already) await rm(tmpLanded, { force: true });
    else await rename(tmpLanded, landedPath);
  } catch (error) {
    await Promise.all([rm(tmpLanded, { force: true }), rm(plainPath, { force: true }), rm(lineIndexPath, { force: true })]);
    throw landingWriteError(folders.landingDir, file.path, error);
  }
  // A refused file has no lines: its empty scratch copy is read. A clean file is read as landed.
  const asLanded = lines !== undefined && lines.suspect === 0 && readableAsLanded(landedPath, gzipped);
  if (lines !== undefined && !asLanded) {
    try {
      await decompressToScratch(landedPath, plainPath, gzipped, options, copied);
    } catch (error) {
      await Promise.all([rm(lineIndexPath, { force: true }), rm(plainPath, { force: true })]);
      throw describeFailure(file, gzipped, folders, error);
    }
  }
  return { index, sourcePath: file.path, sha256, bytes: file.bytes, named: ga4FileName(file.path), landedPath, plainPath, readPath: asLanded ? landedPath : plainPath, lineIndexPath, ...(refused ? { refused } : {}) };
}

/**
 * Whether DuckDB's JSON reader reads the landed copy as the scratch copy would be: it picks gzip by
 * the name's `.gz` (an empty .gz is not gzip), and takes a name ending otherwise as plain text.
 */
function readableAsLanded(landedPath: string, gzipped: boolean): boolean {
  return gzipped ? landedPath.endsWith('.gz') : /\.(json|ndjson|jsonl|txt)$/i.test(landedPath);
}

/**
 * The second read of a file that needs a scratch copy: its decompressed text, line ends
 * normalized; given `prefix` (the first read wrote the scratch copy from a line on), only the
 * lines before, into the start of the copy.
 */
async function decompressToScratch(landedPath: string, plainPath: string, gzipped: boolean, options: LandingOptions, prefix: ScratchPrefix | undefined): Promise<void> {
  const steps = new Map<unknown, Step>();
  const watch = <S extends NodeJS.ReadableStream | NodeJS.WritableStream>(stream: S, step: Step): S => {
    stream.on('error', (error: unknown) => {
      if (!steps.has(error)) steps.set(error, step);
    });
    return stream;
  };
  const out = watch(options.createWriteStream(plainPath, prefix ? { start: 0, flags: 'r+' } : undefined), 'scratch');
  const input = watch(createReadStream(landedPath, { highWaterMark: 1 << 20 }), 'read');
  const text = gzipped ? input.pipe(watch(createGunzip({ chunkSize: 1 << 20 }), 'gunzip')) : input;
  try {
    const normalize = new NormalizeLineEnds();
    let scratchBytes = 0;
    const counted = new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        scratchBytes += chunk.length;
        done(null, chunk);
      },
    });
    const written = pipeline(normalize, counted, out);
    let left = prefix?.inputBytes ?? Infinity;
    for await (const chunk of text as AsyncIterable<Buffer>) {
      const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
      left -= part.length;
      if (!normalize.write(part)) await Promise.race([once(normalize, 'drain'), written]);
      if (left === 0) break;
    }
    normalize.end();
    await written;
    // The lines before the copy's start must fill exactly the bytes the first read left for them.
    if (prefix && scratchBytes !== prefix.scratchBytes) throw new Error(`the scratch copy's first lines took ${scratchBytes} bytes, not ${prefix.scratchBytes}: this is a cartlens bug`);
  } catch (error) {
    await discard(out);
    await rm(plainPath, { force: true });
    throw new StepFailure(steps.get(error) ?? 'read', error);
  } finally {
    input.destroy();
    if (text !== input) (text as Transform).destroy();
  }
}

/**
 * The lines before the point from which the first read wrote the scratch copy (the line end after
 * the file's first suspect line): their decompressed bytes, and their bytes in the scratch copy.
 */
interface ScratchPrefix {
  inputBytes: number;
  scratchBytes: number;
}

/** Raised inside the decompression when a .gz passes its expansion bound. */
class ExpansionLimitReached extends Error {}

/** A stream step's failure, with the step it happened in. */
class StepFailure extends Error {
  constructor(
    readonly step: Step,
    readonly error: unknown,
  ) {
    super((error as Error)?.message ?? String(error), { cause: error });
  }
}

/**
 * One read of `source`: its SHA-256, its unchanged copy at `landedTmp` and, given `scratch`, the
 * line index of its decompressed text (stopped with ExpansionLimitReached past `expansionLimit`
 * decompressed bytes). On failure both files are deleted, every stream closed, and the error says
 * which step failed.
 */
async function copy(
  source: string,
  landedTmp: string,
  scratch: { indexPath: string; plainPath: string; gzipped: boolean; expansionLimit: number } | undefined,
  onBytes: (bytes: number) => void,
  options: LandingOptions,
): Promise<{ sha256: string; lines?: LineIndexSummary; prefix?: ScratchPrefix }> {
  const hash = createHash('sha256');
  const steps = new Map<unknown, Step>();
  const watch = <S extends NodeJS.ReadableStream | NodeJS.WritableStream>(stream: S, step: Step): S => {
    // The first stream to emit an error is where it happened (pipeline then destroys the others with it).
    stream.on('error', (error: unknown) => {
      if (!steps.has(error)) steps.set(error, step);
    });
    return stream;
  };
  const landedOut = watch(options.createWriteStream(landedTmp), 'land');
  const scratchOut = scratch ? watch(options.createWriteStream(scratch.indexPath), 'scratch') : new Writable({ write: (_chunk, _encoding, done) => done() });
  const decompress = scratch?.gzipped ? [watch(createGunzip({ chunkSize: 1 << 20 }), 'gunzip'), new ExpansionLimit(scratch.expansionLimit)] : [];
  const indexer = scratch ? new LineIndexer(await lineHasher()) : undefined;
  const indexing = scratch && indexer ? new IndexLines(indexer, scratchOut, (start) => watch(options.createWriteStream(scratch.plainPath, { start, flags: 'w' }), 'scratch')) : undefined;
  try {
    await pipeline(
      watch(createReadStream(source, { highWaterMark: 1 << 20 }), 'read'),
      new TeeToFile(landedOut, (chunk) => {
        hash.update(chunk);
        onBytes(chunk.length);
      }),
      ...decompress,
      indexing ?? scratchOut,
    );
  } catch (error) {
    await Promise.all([discard(landedOut), discard(scratchOut), ...(indexing?.copyOut ? [discard(indexing.copyOut)] : [])]);
    await Promise.all([rm(landedTmp, { force: true }), ...(scratch ? [rm(scratch.indexPath, { force: true }), rm(scratch.plainPath, { force: true })] : [])]);
    if (error instanceof ExpansionLimitReached) throw error;
    throw new StepFailure(steps.get(error) ?? 'read', error);
  }
  return { sha256: hash.digest('hex'), ...(indexer ? { lines: indexer.summary } : {}), ...(indexing?.prefix ? { prefix: indexing.prefix } : {}) };
}

/**
 * Indexes the decompressed text's lines (LineIndexer), writing the index to `out`, honouring
 * back-pressure. From the line end after the first suspect line on, it also writes the scratch
 * copy (at its place in the file, opened by `openCopy`): only the lines before it are then read
 * again (`prefix`), not the whole file.
 */
class IndexLines extends Writable {
  copyOut: Writable | undefined;
  private copy: NormalizeLineEnds | undefined;
  private copied: Promise<void> | undefined;
  /** A suspect line was found: the copy starts at the next line end. */
  private wantCopy = false;
  private inputBytes = 0;
  prefix: ScratchPrefix | undefined;

  constructor(
    private readonly indexer: LineIndexer,
    private readonly out: Writable,
    private readonly openCopy: (start: number) => Writable,
  ) {
    super();
    out.on('error', (error) => this.destroy(error));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.take(chunk).then(() => done(), done);
  }

  override _final(done: (error?: Error | null) => void): void {
    this.out.end(this.indexer.flush());
    this.copy?.end();
    Promise.all([finished(this.out), this.copied]).then(() => done(), done);
  }

  private async take(chunk: Buffer): Promise<void> {
    if (this.copy) {
      await this.index(chunk);
      await this.toCopy(chunk);
      return;
    }
    if (!this.wantCopy) {
      await this.index(chunk);
      if (this.indexer.summary.suspect === 0) return;
      this.wantCopy = true;
      if (!this.indexer.midLine) this.startCopy();
      return;
    }
    // The line end that closes the line being read: the copy starts after it.
    const end = chunk.indexOf(0x0a);
    if (end === -1) return this.index(chunk);
    await this.index(chunk.subarray(0, end + 1));
    this.startCopy();
    await this.index(chunk.subarray(end + 1));
    await this.toCopy(chunk.subarray(end + 1));
  }

  private startCopy(): void {
    this.prefix = { inputBytes: this.inputBytes, scratchBytes: this.indexer.scratchBytes };
    this.copyOut = this.openCopy(this.prefix.scratchBytes);
    this.copyOut.on('error', (error) => this.destroy(error));
    this.copy = new NormalizeLineEnds(false);
    this.copied = pipeline(this.copy, this.copyOut);
  }

  private async index(part: Buffer): Promise<void> {
    this.inputBytes += part.length;
    const text = this.indexer.push(part);
    if (text !== undefined && !this.out.write(text)) await once(this.out, 'drain');
  }

  private async toCopy(part: Buffer): Promise<void> {
    if (part.length > 0 && !this.copy!.write(part)) await Promise.race([once(this.copy!, 'drain'), this.copied]);
  }
}

/** Destroys a stream and waits until it has closed its file: only then can the file be deleted for good. */
async function discard(stream: Writable): Promise<void> {
  if (stream.closed) return;
  stream.destroy();
  await finished(stream).catch(() => undefined);
}

/** The one-line error for a file whose landing failed: about the input, the landing disk, the scratch disk, or gzip. */
function describeFailure(file: InputFile, gzipped: boolean, folders: Folders, error: unknown): Error {
  if (!(error instanceof StepFailure)) return error as Error;
  switch (error.step) {
    case 'land':
      return landingWriteError(folders.landingDir, file.path, error.error);
    case 'scratch':
      return scratchWriteError(folders.scratchDir, file.path, error.error);
    case 'gunzip':
      return new InputError(`${file.path}: cannot read: ${error.message}`, 'the file is not valid gzip (truncated or corrupt): export it again, or remove it from source.path', false, { cause: error.error });
    case 'read': {
      const reason = (error.error as { code?: string }).code === 'ENOENT' ? 'the file disappeared while reading' : error.message;
      const hint = gzipped ? 'check that the file is readable and is whole' : 'check that the file is readable';
      return new InputError(`${file.path}: cannot read: ${reason}`, hint, false, { cause: error.error });
    }
    default: {
      const unknown: never = error.step;
      throw new Error(`unknown landing step ${String(unknown)}`);
    }
  }
}

/** landing.dir cannot take a write (the landed copy, a folder, the run's manifest). */
function landingWriteError(landingDir: string, file: string | undefined, error: unknown): Error {
  const failure = writeFailure(error);
  if (!failure) return error as Error;
  const what = file ? `cannot land ${file} in landing.dir ${landingDir}` : `cannot write in landing.dir ${landingDir}`;
  return new DiskError(`${what}: ${failure.reason} on the disk mounted at ${mountPointOf(landingDir)}`, `${failure.fix} (or set landing.dir to a folder on another disk), then run again; no partial file was kept`, false, { cause: error });
}

/** The scratch folder (landing.scratch_dir) cannot take the decompressed copy: the disk, not the input. */
function scratchWriteError(scratchDir: string, file: string | undefined, error: unknown): Error {
  const failure = writeFailure(error);
  if (!failure) return error as Error;
  const what = file ? `cannot decompress ${file} into landing.scratch_dir ${scratchDir}` : `cannot write in landing.scratch_dir ${scratchDir}`;
  return new DiskError(
    `${what}: ${failure.reason} on the disk mounted at ${mountPointOf(scratchDir)}`,
    `${failure.fix} (a run needs about 1.6 GB per million events there), or set landing.scratch_dir to a folder on another disk, then run again`,
    false,
    { cause: error },
  );
}

/** The folder a disk is mounted at: the highest folder above `path` on the same device (`path` itself need not exist). */
function mountPointOf(path: string): string {
  let folder = path;
  let device: number | undefined;
  for (;;) {
    try {
      device ??= statSync(folder).dev;
      break;
    } catch {
      if (dirname(folder) === folder) return folder;
      folder = dirname(folder);
    }
  }
  for (let parent = dirname(folder); parent !== folder; folder = parent, parent = dirname(folder)) {
    if (statSync(parent, { throwIfNoEntry: false })?.dev !== device) return folder;
  }
  return folder;
}

function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  for (; value >= 1024 && unit < units.length - 1; unit++) value /= 1024;
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function extensionOf(name: string): string {
  const match = /(\.[a-z]+)?(\.gz)?$/i.exec(name);
  return match?.[0] ?? '';
}

/**
 * Passes chunks through unchanged while writing them to a second file, honouring back-pressure.
 * The second file's failure is the pipeline's (never a wait for a `drain` that will not come),
 * and the pipeline ends only once that file is written and closed.
 */
class TeeToFile extends Transform {
  constructor(
    private readonly out: Writable,
    private readonly onChunk: (chunk: Buffer) => void,
  ) {
    super();
    out.on('error', (error) => this.destroy(error));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.onChunk(chunk);
    if (this.out.write(chunk)) done(null, chunk);
    else this.out.once('drain', () => done(null, chunk));
  }

  override _flush(done: TransformCallback): void {
    this.out.end();
    finished(this.out).then(() => done(), done);
  }
}

/** Counts decompressed bytes and fails with ExpansionLimitReached before passing on more than `limit`. */
class ExpansionLimit extends Transform {
  private total = 0;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.total += chunk.length;
    if (this.total > this.limit) done(new ExpansionLimitReached(`decompressed past ${this.limit} bytes`));
    else done(null, chunk);
  }
}
