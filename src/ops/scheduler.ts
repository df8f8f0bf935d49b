import { Cron } from 'croner';

/** `HH:MM` as a daily cron pattern (minute hour * * *). */
export function dailyPattern(at: string): string {
  const [hours, minutes] = at.split(':').map(Number);
  return `${minutes} ${hours} * * *`;
}

/** The next `count` times a daily `at` (one time, or several: schedule.at) fires in `timeZone`, after `from` (DST included: croner's). */
export function nextFireTimes(at: string | readonly string[], timeZone: string, from: Date, count: number): Date[] {
  const all = [at].flat().flatMap((time) => new Cron(dailyPattern(time), { timezone: timeZone, paused: true }).nextRuns(count, from));
  return all.sort((a, b) => a.getTime() - b.getTime()).slice(0, count);
}

export interface Scheduler {
  next(): Date | null;
  /** Runs now, as a scheduled fire would (never beside a run in progress). */
  trigger(): void;
  /** Stops firing, and waits for a run in progress (and its retries) to end. */
  stop(): Promise<void>;
}

/**
 * Runs `job` every day at `at` in `timeZone` (one time, or several a day: with intraday data each
 * run refreshes today's provisional files), through croner (no home-made timer loop). A run never
 * overlaps another: a fire while one is in progress is skipped and logged; a run that fails with a
 * transient error is tried again up to `retries` times after growing, jittered waits; `stop`
 * interrupts the waits.
 */
export function startScheduler(options: {
  at: string | readonly string[];
  timeZone: string;
  retries: number;
  retryWaitMs: number;
  job: () => Promise<void>;
  isTransient: (error: unknown) => boolean;
  onEvent: (message: string) => void;
}): Scheduler {
  let running: Promise<void> | undefined;
  let stopping = false;
  let wakeUp: (() => void) | undefined;
  const wait = (ms: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    wakeUp = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  const attempt = async () => {
    for (let n = 0; ; n++) {
      try {
        await options.job();
        return;
      } catch (error) {
        const retry = options.isTransient(error) && n < options.retries && !stopping;
        options.onEvent(`run failed${retry ? `, trying again (${n + 1}/${options.retries})` : ''}: ${(error as Error).message}`);
        if (!retry) return;
        await wait(Math.round(options.retryWaitMs * 2 ** n * (0.75 + Math.random() / 2)));
        if (stopping) return;
      }
    }
  };
  const fire = async () => {
    if (running) {
      options.onEvent('scheduled run skipped: the previous run is still in progress');
      return;
    }
    options.onEvent('scheduled run starting');
    running = attempt();
    await running;
    running = undefined;
  };
  const crons = [options.at].flat().map((time) => new Cron(dailyPattern(time), { timezone: options.timeZone, protect: true }, fire));
  return {
    next: () => crons.map((c) => c.nextRun()).filter((d): d is Date => d !== null).sort((a, b) => a.getTime() - b.getTime())[0] ?? null,
    trigger: () => void crons[0]!.trigger(),
    async stop() {
      stopping = true;
      for (const cron of crons) cron.stop();
      wakeUp?.();
      await running;
    },
  };
}
