import { fromThreadError, startSiblingWorker, type ThreadError } from '../util/threads.js';
import type { InputFile } from '../sources/source.js';
import type { LandedFile } from '../warehouse/warehouse.js';
import type { LandingOptions } from './landing.js';

/** What the landing thread is asked: landFiles' arguments, as data (its options without the file-system seam). */
export interface LandingRequest {
  files: InputFile[];
  landingDir: string;
  scratchDir: string;
  runId: string;
  options: Partial<Omit<LandingOptions, 'createWriteStream'>>;
}

/** What it answers: bytes read so far (as landFiles' onBytes), then the landed files or the error. */
export type LandingReply = { bytes: number } | { landed: LandedFile[] } | { error: ThreadError };

/**
 * landFiles (landing.ts), on a worker thread of its own that ends with it. Landing allocates a
 * buffer for every MiB it decompresses (1.65 GB at a million events); on the main thread, whose
 * heap holds the whole run's code, the collections they start cost as much as the landing itself
 * (the 64-file 1M day: 7.4–10 s in a run against 5.0–5.4 s with a heap of its own;
 * docs/benchmark.md). The thread ends when its landing does: kept, it held 60–80 MiB more at the
 * run's peak. The files, the error and the progress are the same as landFiles'.
 */
export function landFilesOnThread(
  files: InputFile[],
  landingDir: string,
  scratchDir: string,
  runId: string,
  onBytes: (bytes: number) => void,
  options: LandingRequest['options'] = {},
): Promise<LandedFile[]> {
  return new Promise<LandedFile[]>((resolve, reject) => {
    const worker = startSiblingWorker(import.meta.url, 'landing-worker');
    let answer: { landed: LandedFile[] } | { error: Error } | undefined;
    worker.on('message', (reply: LandingReply) => {
      if ('bytes' in reply) onBytes(reply.bytes);
      else answer ??= 'landed' in reply ? { landed: reply.landed } : { error: fromThreadError(reply.error) };
    });
    // The thread itself failed (it could not start, or ran out of memory): its error is the landing's.
    worker.on('error', (error) => (answer ??= { error }));
    // Settled once the thread is gone, so that nothing of it outlives the landing.
    worker.on('exit', (code) => {
      if (answer && 'landed' in answer) resolve(answer.landed);
      else reject(answer?.error ?? new Error(`the landing thread stopped (exit code ${code}) before it answered`));
    });
    worker.postMessage({ files: files.map(({ path, bytes }) => ({ path, bytes })), landingDir, scratchDir, runId, options } satisfies LandingRequest);
  });
}
