/** The calendar date of `instant` in `timeZone`, `YYYY-MM-DD` — never the machine's UTC date. */
export function localDate(instant: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(instant);
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

export function dateRange(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}

/** A day is final once it ended more than 72 hours ago: GA4 no longer revises it. */
export function isFinal(date: string, now: Date, timeZone: string): boolean {
  return date <= addDays(localDate(now, timeZone), -4);
}

export type DayStatus = 'complete' | 'provisional' | 'failed' | 'deferred';

/**
 * What a scheduled run must compute, in the property's time zone, up to yesterday: the
 * lookback window (GA4 revises recent days); every day after the last one done (catching up
 * after an outage); and days done but not final (provisional), failed or deferred, so that
 * they converge. With no state yet, the lookback window alone.
 */
export function dueDates(now: Date, timeZone: string, state: readonly { date: string; status: DayStatus }[], lookbackDays: number): string[] {
  const yesterday = addDays(localDate(now, timeZone), -1);
  const due = new Set(dateRange(addDays(yesterday, -(lookbackDays - 1)), yesterday));
  const done = state.filter((s) => s.status === 'complete' || s.status === 'provisional').map((s) => s.date).sort();
  const lastDone = done.at(-1);
  if (lastDone) for (const date of dateRange(addDays(lastDone, 1), yesterday)) due.add(date);
  for (const s of state) if (s.status !== 'complete' && s.date <= yesterday) due.add(s.date);
  return [...due].sort();
}
