/** Receives what a run is doing, for a progress bar on a terminal or plain lines elsewhere. */
export interface RunProgress {
  /** A step began; `fields` are the structured parts of the log line (run id, step, date, rows…). */
  step(message: string, fields?: Record<string, unknown>): void;
  startBytes(total: number, label: string): void;
  addBytes(bytes: number): void;
  endBytes(): void;
}

export const SILENT_PROGRESS: RunProgress = { step() {}, startBytes() {}, addBytes() {}, endBytes() {} };
