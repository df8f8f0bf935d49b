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
