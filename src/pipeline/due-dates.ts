import { addDays, dateRange, daysInRange, isHandledDate, localDate } from '../util/dates.js';

/**
 * The last day done (complete or provisional from daily data) up to `yesterday`, and how many days
 * it is behind yesterday; days recorded after yesterday are not counted (a corrupt future date
 * would otherwise say "up to date" for good), nor days computed from intraday data (their daily
 * data has not come: not done). `daysBehind` is null when no day is done.
 */
export function freshnessOf(state: readonly DayRecord[], yesterday: string): { lastDone: string | null; daysBehind: number | null } {
  const lastDone = state.filter((s) => isDone(s) && isHandledDate(s.date) && s.date <= yesterday).map((s) => s.date).sort().at(-1) ?? null;
  return { lastDone, daysBehind: lastDone === null ? null : daysInRange(lastDone, yesterday) - 1 };
}

/** A recorded day, as due dates and freshness read it. `input` absent: daily. */
type DayRecord = { date: string; status: DayStatus; input?: 'daily' | 'intraday' };

/** Published from daily data (final or still within GA4's revision window). */
function isDone(s: DayRecord): boolean {
  return (s.status === 'complete' || s.status === 'provisional') && s.input !== 'intraday';
}

/** The last date a run computes: yesterday, or today when intraday data is read (source.intraday). */
export function lastDueDate(now: Date, timeZone: string, intraday: boolean): string {
  return addDays(localDate(now, timeZone), intraday ? 0 : -1);
}

/** A day is final once it ended more than 72 hours ago: GA4 no longer revises it. */
export function isFinal(date: string, now: Date, timeZone: string): boolean {
  return date <= addDays(localDate(now, timeZone), -4);
}

/**
 * `publishing`: written inside the run's transaction for the dates it replaces, and replaced by
 * the date's outcome once its files are published: a date left `publishing` was committed and not
 * published whole (the run was killed while publishing), and is redone.
 */
export type DayStatus = 'complete' | 'provisional' | 'failed' | 'deferred' | 'publishing';

/**
 * What a scheduled run must compute, in the property's time zone, up to yesterday (today too with
 * `intraday`: its intraday data, provisional): the lookback window (GA4 revises recent days); every
 * day after the last one done (catching up after an outage); and days done but not final
 * (provisional, from daily or intraday data), failed or deferred, so that they converge. With no
 * state yet, the lookback window alone.
 */
export function dueDates(now: Date, timeZone: string, state: readonly DayRecord[], lookbackDays: number, { intraday = false }: { intraday?: boolean } = {}): string[] {
  const last = lastDueDate(now, timeZone, intraday);
  const yesterday = addDays(localDate(now, timeZone), -1);
  const due = new Set(dateRange(addDays(yesterday, -(lookbackDays - 1)), last));
  // A recorded day after the last due one (or outside the handled window) is a corrupt date: it neither
  // counts as done nor is due. Without this, one `9999-12-31` stops every catch-up for good.
  const past = state.filter((s) => isHandledDate(s.date) && s.date <= last);
  const done = past.filter(isDone).map((s) => s.date).sort();
  const lastDone = done.at(-1);
  if (lastDone) for (const date of dateRange(addDays(lastDone, 1), last)) due.add(date);
  for (const s of past) if (s.status !== 'complete') due.add(s.date);
  return [...due].sort();
}
