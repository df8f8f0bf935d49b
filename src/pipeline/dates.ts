import { CartlensError } from '../util/errors.js';

const ISO = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parses `YYYY-MM-DD` (or `YYYYMMDD`) into a valid calendar date, `YYYY-MM-DD`. */
export function parseDate(text: string, option: string): string {
  const normalized = /^\d{8}$/.test(text) ? `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6)}` : text;
  const match = ISO.exec(normalized);
  const date = match ? new Date(`${normalized}T00:00:00Z`) : undefined;
  if (!date || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== normalized) {
    throw new CartlensError(`${option} ${text} is not a date`, 'write dates as YYYY-MM-DD');
  }
  return normalized;
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
  const dates: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) {
    dates.push(new Date(t).toISOString().slice(0, 10));
  }
  if (dates.length > 3660) throw new CartlensError(`--from/--to covers ${dates.length} days`, 'use a range of at most 10 years');
  return dates;
}
