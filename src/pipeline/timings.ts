import { performance } from 'node:perf_hooks';

/**
 * Times a run's steps for the run report (`timings`): seconds per step, in the order the steps
 * first began. The run is always in exactly one step; entering another ends the current one, and a
 * step entered again (one per date, one per model) adds to its total. The steps are the `step`
 * field of the run's log lines, so the report and the logs name them alike.
 */
export class StepClock {
  private current: string;
  private since: number;
  private readonly seconds = new Map<string, number>();

  /** `clock` gives milliseconds (a test hands in its own). */
  constructor(
    first: string,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.current = first;
    this.since = clock();
  }

  /** The run moves on to `step`. */
  enter(step: string): void {
    if (step === this.current) return;
    this.settle();
    this.current = step;
  }

  /** Seconds per step so far (to the millisecond), the current step included. */
  timings(): Record<string, number> {
    this.settle();
    return Object.fromEntries([...this.seconds].map(([step, seconds]) => [step, Math.round(seconds * 1000) / 1000]));
  }

  private settle(): void {
    const now = this.clock();
    this.seconds.set(this.current, (this.seconds.get(this.current) ?? 0) + (now - this.since) / 1000);
    this.since = now;
  }
}

/** The run's peak resident memory and the step it was reached in (the run report's `peak_rss`). */
export interface PeakRss {
  mib: number;
  /** The log line of the step that was running when the peak was reached. */
  step: string;
}

/**
 * Finds the step in which the process's resident memory peaked: the kernel's high-water mark
 * (DuckDB's native memory included) is read as each step ends, and a rise belongs to the step that
 * was running. `maxRssKiB` reads the mark (a test hands in its own).
 */
export class PeakRssTracker {
  private high: number;
  private peakStep: string;

  constructor(
    private current: string,
    private readonly maxRssKiB: () => number = () => process.resourceUsage().maxRSS,
  ) {
    this.high = maxRssKiB();
    this.peakStep = current;
  }

  /** The run moves on to the step `message` names. */
  enter(message: string): void {
    this.settle();
    this.current = message;
  }

  peak(): PeakRss {
    this.settle();
    return { mib: Math.round(this.high / 1024), step: this.peakStep };
  }

  private settle(): void {
    const now = this.maxRssKiB();
    if (now > this.high) {
      this.high = now;
      this.peakStep = this.current;
    }
  }
}
