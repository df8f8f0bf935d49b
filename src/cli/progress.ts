import cliProgress from 'cli-progress';
import type { RunProgress } from '../pipeline/progress.js';

/** A progress bar on a terminal; plain timestamped lines when stderr is a file or a pipe. */
export function createProgress(stream: NodeJS.WriteStream = process.stderr, quiet = false): RunProgress {
  if (quiet) return { step() {}, startBytes() {}, addBytes() {}, endBytes() {} };
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  if (!stream.isTTY) {
    // Not a terminal (a log collector, a pipe): one JSON object per line.
    const log = (message: string, fields: Record<string, unknown> = {}) =>
      stream.write(`${JSON.stringify({ time: new Date().toISOString(), level: message.startsWith('warning') ? 'warning' : 'info', message, elapsed_s: Number(elapsed().slice(0, -1)), ...fields })}\n`);
    return {
      step: (message, fields) => log(message, fields),
      startBytes: (total, label) => log(label, { bytes: total }),
      addBytes() {},
      endBytes() {},
    };
  }
  let bar: cliProgress.SingleBar | undefined;
  return {
    step: (message) => stream.write(`${message}\n`),
    startBytes(total, label) {
      bar = new cliProgress.SingleBar(
        { stream, format: `${label} [{bar}] {percentage}% | {done} of {size} | {eta_formatted} left`, hideCursor: true, clearOnComplete: true },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0, { done: formatBytes(0), size: formatBytes(total) });
    },
    addBytes(bytes) {
      if (!bar) return;
      bar.increment(bytes);
      bar.update({ done: formatBytes(bar.getProgress() * bar.getTotal()) });
    },
    endBytes() {
      bar?.stop();
      bar = undefined;
    },
  };
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
