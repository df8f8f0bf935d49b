// The landing thread (landing-thread.ts): lands the files each request names with landFiles, and
// answers with the landed files or the error, sending the bytes read as it goes.
import { parentPort } from 'node:worker_threads';
import { toThreadError } from '../util/threads.js';
import { landFiles } from './landing.js';
import type { LandingReply, LandingRequest } from './landing-thread.js';

const port = parentPort!;
const reply = (message: LandingReply) => port.postMessage(message);

port.on('message', (request: LandingRequest) => {
  const { id, files, landingDir, scratchDir, runId, options } = request;
  landFiles(files, landingDir, scratchDir, runId, (bytes) => reply({ id, bytes }), options).then(
    (landed) => reply({ id, landed }),
    (error: unknown) => reply({ id, error: toThreadError(error) }),
  );
});
