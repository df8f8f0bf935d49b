import { CartlensError } from './errors.js';

const ISO = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * The dates cartlens computes, shows and loops over. GA4 began in 2020; a date outside this
 * window is a corrupt one (e.g. `99991231`), never the bound of a loop or a range.
 */
export const EARLIEST_DATE = '2000-01-01';
export const LATEST_DATE = '2099-12-31';
/** Ten years: the longest range one run, plan or backfill may ask for. */
export const MAX_RUN_DAYS = 3660;

/** A valid calendar date `YYYY-MM-DD` inside EARLIEST_DATE … LATEST_DATE. */
export function isHandledDate(text: string): boolean {
  if (!ISO.test(text) || text < EARLIEST_DATE || text > LATEST_DATE) return false;
  return new Date(`${text}T00:00:00Z`).toISOString().slice(0, 10) === text;
}

/** Parses `YYYY-MM-DD` (or `YYYYMMDD`) into a valid calendar date, `YYYY-MM-DD`. */
export function parseDate(text: string, option: string): string {
  const normalized = /^\d{8}$/.test(text) ? `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6)}` : text;
  const match = ISO.exec(normalized);
  const date = match ? new Date(`${normalized}T00:00:00Z`) : undefined;
  if (!date || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== normalized) {
    throw new CartlensError(`${option} ${text} is not a date`, 'write dates as YYYY-MM-DD');
  }
  if (!isHandledDate(normalized)) {
    throw new CartlensError(`${option} ${text} is outside the dates cartlens handles (${EARLIEST_DATE} … ${LATEST_DATE})`, 'give a date in that window');
  }
  return normalized;
}

/** Whole days from `from` to `to`, both included (0 or less when `from` is after `to`). */
export function daysInRange(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;
}

/** The dates a run covers: `--date`, or `--from`…`--to` inclusive, or undefined for all found. */
export function datesFromOptions(options: { date?: string; from?: string; to?: string }): string[] | undefined {
  if (options.date && (options.from || options.to)) throw new CartlensError('--date cannot be combined with --from/--to', 'give one date, or a range');
  if (options.date) return [parseDate(options.date, '--date')];
  if (!options.from && !options.to) return undefined;
  if (!options.from || !options.to) throw new CartlensError('--from and --to go together', 'give both ends of the range');
  const from = parseDate(options.from, '--from');
  const to = parseDate(options.to, '--to');
  if (from > to) throw new CartlensError(`--from ${from} is after --to ${to}`, 'swap them');
  // Counted before any list is built: a range is never looped over to find it is too long.
  const length = daysInRange(from, to);
  if (length > MAX_RUN_DAYS) throw new CartlensError(`--from/--to covers ${length} days`, 'use a range of at most 10 years');
  const dates: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`), i = 0; i < length; t += 86_400_000, i++) dates.push(new Date(t).toISOString().slice(0, 10));
  return dates;
}

/** The calendar date of `instant` in `timeZone`, `YYYY-MM-DD` — never the machine's UTC date. */
export function localDate(instant: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(instant);
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** Every date from `from` to `to`, both included; both must be dates cartlens handles (dates.ts). */
export function dateRange(from: string, to: string): string[] {
  // Checked first: past year 9999 addDays gives `+010000-…`, which sorts before any date, so a
  // loop to such a bound never ends.
  if (!isHandledDate(from) || !isHandledDate(to)) throw new RangeError(`date range ${from}..${to} is outside the dates cartlens handles`);
  const length = daysInRange(from, to);
  return Array.from({ length: Math.max(0, length) }, (_, i) => addDays(from, i));
}

/** Each date and the days from `before` (negative) to `after` around it, once each, in order; only dates cartlens handles. */
export function datesAround(dates: readonly string[], before: number, after: number): string[] {
  const around = new Set<string>();
  for (const date of dates) for (let day = before; day <= after; day++) around.add(addDays(date, day));
  return [...around].filter(isHandledDate).sort();
}
