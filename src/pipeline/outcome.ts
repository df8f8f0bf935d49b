import type { RunReport } from './report.js';

/**
 * What a finished run means to whoever called it, in one place: the CLI's exit code and the daily
 * function's HTTP status come from here, so Cloud Scheduler and Airflow see exactly what
 * `cartlens run` says (docs/google-cloud.md, "What the function answers").
 */
export interface RunOutcome {
  /** 0: everything asked for is published (or rightly deferred); 1: something needs attention. */
  exitCode: 0 | 1;
  /**
   * 200: done. 503: not ready yet (extract mode: GA4's export still to come) — a retry later can
   * help. 500: a date was withheld (a blocking assertion, a shrink), or dates asked for have no
   * events — retrying the same input gives the same answer, so it is an alert, not a retry.
   */
  httpStatus: 200 | 500 | 503;
  /** Why, in one line each; empty when all is well. */
  problems: string[];
}

/**
 * The outcome of a run's report. `named`: the dates were named by the caller (`--date`, a request
 * body) — then a date that yields nothing is a failure, while found in passing it is a warning.
 */
export function outcomeOf(report: RunReport, { named, mode = 'run' }: { named: boolean; mode?: 'run' | 'publish' | 'extract' }): RunOutcome {
  const problems: string[] = [];
  const withheld = report.dates.filter((d) => d.status === 'failed').map((d) => d.date);
  if (withheld.length > 0) problems.push(`withheld: ${withheld.join(', ')}`);
  if (report.missing_dates.length > 0) problems.push(`${mode === 'extract' ? 'not ready' : 'no events'}: ${report.missing_dates.join(', ')}`);
  if (report.kept_dates.length > 0) problems.push(`no events (kept as published): ${report.kept_dates.map((k) => k.date).join(', ')}`);
  const empty = report.dates.filter((d) => d.status === 'no_events').map((d) => d.date);
  if (named && empty.length > 0) problems.push(`no included events: ${empty.join(', ')}`);
  if (problems.length === 0) return { exitCode: 0, httpStatus: 200, problems };
  // Only a day whose input is still to come is worth retrying soon.
  const onlyNotReady = mode === 'extract' && withheld.length === 0 && report.kept_dates.length === 0 && !(named && empty.length > 0);
  return { exitCode: 1, httpStatus: onlyNotReady ? 503 : 500, problems };
}
