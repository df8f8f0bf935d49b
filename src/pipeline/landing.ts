import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { once } from 'node:events';
import { Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BoundedQueue } from '../util/bounded-queue.js';
import { NormalizeLineEnds } from '../util/line-ends.js';
import { createGunzip } from 'node:zlib';
import { InputError } from '../util/errors.js';
import type { InputFile } from '../sources/source.js';

/** A file landed for a run: the unchanged copy, content-addressed. */
export interface LandedFile {
  /** Position in input order (files sorted by path). */
  index: number;
  sourcePath: string;
  sha256: string;
  bytes: number;
  /** The landed, unchanged copy (content-addressed, kept for re-derivation and replay). */
  landedPath: string;
}

/**
 * A decompressed piece of a landed file, cut at a line end, line ends normalized
 * (NormalizeLineEnds): what the warehouse scans. Scratch: the consumer deletes it.
 */
export interface Segment {
  fileIndex: number;
  sourcePath: string;
  /** Position of the segment within its file. */
  segmentIndex: number;
  path: string;
}

/** Segments are cut at a line end once they reach about this size. */
export const SEGMENT_BYTES = 128 * 1024 * 1024;

/**
 * Lands input files unchanged under `<landing>/objects/` (content-addressed by SHA-256, so the
 * same file landed twice is stored once) and writes `<landing>/runs/<run id>.json`, the run's
 * manifest. In the same single read it decompresses each file into segments and hands them to
 * the warehouse through `segments` as they are cut, so that decompressing (one thread: gzip
 * cannot be split) overlaps with the warehouse's parallel scans, and only a few segments are on
 * disk at a time. The queue is not closed here.
 */
export async function landFiles(
  files: InputFile[],
  landingDir: string,
  scratchDir: string,
  runId: string,
  onBytes: (bytes: number) => void,
  segments: BoundedQueue<Segment>,
  segmentBytes = SEGMENT_BYTES,
): Promise<LandedFile[]> {
  const objectsDir = join(landingDir, 'objects');
  await mkdir(objectsDir, { recursive: true });
  await mkdir(join(landingDir, 'runs'), { recursive: true });
  await mkdir(scratchDir, { recursive: true });
  const landed: LandedFile[] = [];
  for (const [index, file] of files.entries()) {
    const writer = new SegmentWriter(scratchDir, index, file.path, segmentBytes, (segment) => segments.push(segment));
    landed.push(await landOne(file, index, objectsDir, runId, onBytes, writer));
  }
  const manifest = { run_id: runId, landed_at: new Date().toISOString(), files: landed };
  const manifestPath = join(landingDir, 'runs', `${runId}.json`);
  await writeFile(`${manifestPath}.tmp`, JSON.stringify(manifest, null, 2));
  await rename(`${manifestPath}.tmp`, manifestPath);
  return landed;
}

async function landOne(file: InputFile, index: number, objectsDir: string, runId: string, onBytes: (bytes: number) => void, writer: SegmentWriter): Promise<LandedFile> {
  const name = basename(file.path);
  const gzipped = name.toLowerCase().endsWith('.gz');
  const tmpLanded = join(objectsDir, `.${runId}-${index}.tmp`);
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
      writer,
    );
    landedOut.end();
    await once(landedOut, 'close');
  } catch (error) {
    landedOut.destroy();
    await rm(tmpLanded, { force: true });
    const reason = (error as { code?: string }).code === 'ENOENT' ? 'the file disappeared while reading' : (error as Error).message;
    const hint = gzipped ? 'the file is not valid gzip (truncated or corrupt): export it again, or remove it from source.path' : 'check that the file is readable';
    throw new InputError(`${file.path}: cannot read: ${reason}`, hint, false, { cause: error });
  }
  const sha256 = hash.digest('hex');
  const landedPath = join(objectsDir, `${sha256}${extensionOf(name)}`);
  const already = await stat(landedPath).then(() => true, () => false);
  if (already) await rm(tmpLanded, { force: true });
  else await rename(tmpLanded, landedPath);
  return { index, sourcePath: file.path, sha256, bytes: file.bytes, landedPath };
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

/** Writes a decompressed stream into segment files cut at line ends, handing each over when full. */
class SegmentWriter extends Writable {
  private out: WriteStream | undefined;
  private path = '';
  private size = 0;
  private segmentIndex = 0;

  constructor(
    private readonly dir: string,
    private readonly fileIndex: number,
    private readonly sourcePath: string,
    private readonly maxBytes: number,
    private readonly handOver: (segment: Segment) => Promise<void>,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.take(chunk).then(() => done(), done);
  }

  override _final(done: (error?: Error | null) => void): void {
    (this.out ? this.finishSegment() : Promise.resolve()).then(() => done(), done);
  }

  private async take(chunk: Buffer): Promise<void> {
    let rest = chunk;
    if (this.size + rest.length >= this.maxBytes) {
      const lineEnd = rest.lastIndexOf(0x0a);
      if (lineEnd !== -1) {
        await this.append(rest.subarray(0, lineEnd + 1));
        await this.finishSegment();
        rest = rest.subarray(lineEnd + 1);
      }
    }
    if (rest.length > 0) await this.append(rest);
  }

  private async append(bytes: Buffer): Promise<void> {
    if (!this.out) {
      this.path = join(this.dir, `${String(this.fileIndex).padStart(5, '0')}-${String(this.segmentIndex).padStart(5, '0')}.ndjson`);
      this.out = createWriteStream(this.path);
    }
    this.size += bytes.length;
    if (!this.out.write(bytes)) await once(this.out, 'drain');
  }

  private async finishSegment(): Promise<void> {
    const out = this.out!;
    out.end();
    await once(out, 'close');
    this.out = undefined;
    this.size = 0;
    await this.handOver({ fileIndex: this.fileIndex, sourcePath: this.sourcePath, segmentIndex: this.segmentIndex++, path: this.path });
  }
}
