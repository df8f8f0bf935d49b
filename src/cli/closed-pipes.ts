/**
 * When the reader of cartlens's output goes away early (`cartlens status | head -3`), writing to
 * the pipe fails with EPIPE, which Node throws as an unhandled 'error' event: a stack trace and
 * exit code 1. Nobody is left to read the rest, so it is dropped (the stream is destroyed and
 * later writes are no-ops) and the command finishes its work and ends with its own exit code.
 * Any other error of the stream is as unexpected as before, and still thrown.
 */
export function dropOutputOnClosedPipes(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  }
}
