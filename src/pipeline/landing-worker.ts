// The landing thread (landing-thread.ts): lands the files of the one request it gets with
// landFiles, sending the bytes read as it goes, then the landed files or the error; with nothing left
// to do (the one request taken), the thread ends.
import { parentPort } from 'node:worker_threads';
import { toThreadError } from '../util/threads.js';
import { landFiles } from './landing.js';
import type { LandingReply, LandingRequest } from './landing-thread.js';

const port = parentPort!;
const reply = (message: LandingReply) => port.postMessage(message);

port.once('message', ({ files, landingDir, scratchDir, runId, options }: LandingRequest) => {
  landFiles(files, landingDir, scratchDir, runId, (bytes) => reply({ bytes }), options).then(
    (landed) => reply({ landed }),
    (error: unknown) => reply({ error: toThreadError(error) }),
  );
});
