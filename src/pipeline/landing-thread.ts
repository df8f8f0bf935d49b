import type { Worker } from 'node:worker_threads';
import { fromThreadError, startSiblingWorker, type ThreadError } from '../util/threads.js';
import type { InputFile } from '../sources/source.js';
import type { LandedFile } from '../warehouse/warehouse.js';
import type { LandingOptions } from './landing.js';

/** What the landing thread is asked: landFiles' arguments, as data (its options without the file-system seam). */
export interface LandingRequest {
  id: number;
  files: InputFile[];
  landingDir: string;
  scratchDir: string;
  runId: string;
  options: Partial<Omit<LandingOptions, 'createWriteStream'>>;
}

/** What it answers: bytes read so far (as landFiles' onBytes), then the landed files or the error. */
export type LandingReply = { id: number; bytes: number } | { id: number; landed: LandedFile[] } | { id: number; error: ThreadError };

interface Pending {
  onBytes: (bytes: number) => void;
  resolve: (landed: LandedFile[]) => void;
  reject: (error: unknown) => void;
}

/** The landing thread, started at the first landing and kept for the next ones; idle, it does not keep the process alive. */
let thread: { worker: Worker; pending: Map<number, Pending> } | undefined;
let lastId = 0;

/**
 * landFiles (landing.ts), on a worker thread of its own. Landing allocates a buffer for every MiB
 * it decompresses (1.65 GB at a million events); on the main thread, whose heap holds the whole
 * run's code, the collections they start cost as much as the landing itself (the 64-file 1M day:
 * 7.4–10 s in a run against 5.0–5.4 s with a heap of its own; docs/benchmark.md). The files, the
 * error and the progress are the same as landFiles'.
 */
export function landFilesOnThread(
  files: InputFile[],
  landingDir: string,
  scratchDir: string,
  runId: string,
  onBytes: (bytes: number) => void,
  options: LandingRequest['options'] = {},
): Promise<LandedFile[]> {
  const { worker, pending } = (thread ??= startThread());
  const id = ++lastId;
  return new Promise<LandedFile[]>((resolve, reject) => {
    if (pending.size === 0) worker.ref();
    pending.set(id, { onBytes, resolve, reject });
    worker.postMessage({ id, files: files.map(({ path, bytes }) => ({ path, bytes })), landingDir, scratchDir, runId, options } satisfies LandingRequest);
  });
}

function startThread(): NonNullable<typeof thread> {
  const worker = startSiblingWorker(import.meta.url, 'landing-worker');
  const pending = new Map<number, Pending>();
  const settled = (id: number) => {
    const request = pending.get(id);
    pending.delete(id);
    if (pending.size === 0) worker.unref();
    return request;
  };
  worker.on('message', (reply: LandingReply) => {
    if ('bytes' in reply) pending.get(reply.id)?.onBytes(reply.bytes);
    else if ('landed' in reply) settled(reply.id)?.resolve(reply.landed);
    else settled(reply.id)?.reject(fromThreadError(reply.error));
  });
  // The thread itself failed (it could not start, or ran out of memory): every request fails with it, and the next landing starts a new thread.
  const fail = (error: Error) => {
    if (thread?.worker === worker) thread = undefined;
    for (const id of [...pending.keys()]) settled(id)?.reject(error);
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the landing thread stopped (exit code ${code})`)));
  worker.unref();
  return { worker, pending };
}
