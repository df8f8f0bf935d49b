import { addDays } from '../util/dates.js';
import { EARLIEST_DATE, LATEST_DATE, dateRange, isHandledDate } from '../util/dates.js';
import { dialectFor } from '../warehouse/index.js';
import type { Row } from '../warehouse/warehouse.js';
import { DEFAULT_ANOMALY_THRESHOLDS, detectAnomalies, type AnomalyCheck, type AnomalyThresholds } from '../reports/anomaly-check.js';
import { InputError } from '../util/errors.js';
import { REMARKETABLE_SQL } from '../contract/remarketing.js';
import { DUCKDB_COLUMN_TYPES } from '../contract/column-types.js';
import { publishedTable } from '../contract/tables.js';
import { recoveriesByCartDate, recoveryCountsSql, recoveryOfRange, type Recovery } from '../reports/recovery.js';
import { latestRevisions, type Revision } from '../reports/revision.js';
import { RECOVERY_WINDOWS, type Query } from './snapshot.js';

/**
 * The dashboard's numbers for a date range, from the copy of the published tables.
 * A range's counts and money are sums of the published days; its rates are computed again from
 * those sums with the contract's rounding (never an average of daily rates), so they are what
 * the CSVs of the range give. docs/dashboard.md says why.
 */

export interface DateRange {
  from: string;
  to: string;
}

export interface DashboardData {
  range: DateRange;
  previous: DateRange;
  /** The published days that exist, oldest and newest (null: nothing published yet). */
  available: { first: string | null; last: string | null };
  totals: Row;
  previousTotals: Row;
  /** One row per published day of the range: date, cart_abandonment_rate, abandoned_value. */
  trend: Row[];
  topItems: Row[];
  breakdowns: { device: Row[]; country: Row[]; sourceMedium: Row[] };
  /** One row per day of the range, published or not, with its run status (and `input`: daily, intraday) and quality counts. */
  days: Row[];
  /** The range's revised days: each one's latest revision (the restatement log), oldest first. */
  revisions: Revision[];
  /** Abandoned carts by ads consent: all, bought later, remarketable (count and value). */
  consent: Row[];
  /** Days of the range whose metrics are beyond the anomaly thresholds against their weekday's last 4 weeks. */
  anomalies: Extract<AnomalyCheck, { judged: true }>[];
  /**
   * The recovery of the range's published cart dates, as of the newest published day: each cart
   * date's (newest first on the page) and the range's as one (`total`; null without a cart date).
   */
  recovery: { days: Recovery[]; total: Recovery | null };
}

/** The copy is DuckDB: its rounding is the contract's (rate: 4 decimals, half up). */
export const dialect = dialectFor({ type: 'duckdb' });
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** A year and a bit: the longest range one request may ask for. */
export const MAX_RANGE_DAYS = 400;
/** Rows of a breakdown before the rest is summed into one "(other)" row. */
const BREAKDOWN_ROWS = 8;

/** A range as asked for in the request (either end may be missing). */
export interface AskedRange {
  from?: string | undefined;
  to?: string | undefined;
}

/**
 * The range asked for, or the last 7 published days; checked, with a clear message.
 * `publishedDates`: a relation with a `date` column listing the published days (the view's).
 */
export async function resolveRange(query: Query, asked: AskedRange, publishedDates = 'cart_funnel_daily'): Promise<{ range: DateRange; available: DashboardData['available'] }> {
  // A corrupt published date (e.g. 9999-12-31) is left out: it must not become the default range.
  const [bounds] = await query(
    `SELECT strftime(min(date), '%Y-%m-%d') AS first, strftime(max(date), '%Y-%m-%d') AS last FROM ${publishedDates} WHERE ${within({ from: EARLIEST_DATE, to: LATEST_DATE })}`,
  );
  const available = { first: (bounds?.first as string | null) ?? null, last: (bounds?.last as string | null) ?? null };
  for (const [name, value] of Object.entries(asked)) {
    if (value !== undefined && !isCalendarDate(value)) throw new InputError(`${name}=${value} is not a date`, 'use YYYY-MM-DD');
    // The range and the previous one of its length stay inside the handled window, so no date
    // arithmetic runs past year 9999 or before year 0.
    if (value !== undefined && !isHandledDate(value)) throw new InputError(`${name}=${value} is outside ${EARLIEST_DATE} … ${LATEST_DATE}`, 'choose a date in that window');
  }
  const to = asked.to ?? available.last ?? new Date().toISOString().slice(0, 10);
  const weekBefore = addDays(to, -6);
  const from = asked.from ?? (weekBefore < EARLIEST_DATE ? EARLIEST_DATE : weekBefore);
  if (from > to) throw new InputError(`from=${from} is after to=${to}`, 'choose a start on or before the end');
  if (daysBetween(from, to) > MAX_RANGE_DAYS) throw new InputError(`${from}..${to} spans more than ${MAX_RANGE_DAYS} days`, 'choose a shorter range');
  return { range: { from, to }, available };
}

export async function dashboardData(query: Query, range: DateRange, available: DashboardData['available'], thresholds: AnomalyThresholds = DEFAULT_ANOMALY_THRESHOLDS): Promise<DashboardData> {
  const previous = previousPeriod(range);
  // One connection runs one statement at a time: in sequence, on the request's transaction.
  const totals = await query(totalsSql(range));
  const previousTotals = await query(totalsSql(previous));
  const trend = await query(`SELECT strftime(date, '%Y-%m-%d') AS date, cart_abandonment_rate, abandoned_value FROM cart_funnel_daily WHERE ${within(range)} ORDER BY date`);
  const topItems = await query(topItemsSql(range));
  const device = await query(breakdownSql(range, notSet('device_category')));
  const country = await query(breakdownSql(range, notSet('country')));
  const sourceMedium = await query(breakdownSql(range, `concat(${notSet('source')}, ' / ', ${notSet('medium')})`));
  const days = await query(daysSql(range));
  const revisions = latestRevisions(await query(revisionsSql(range)));
  const remarketing = await query(remarketingSql(range));
  const consent = await query(consentSql(range));
  // The range's unusual days, judged on the copy as the run judges them (their drivers are in the run report).
  const published = trend.map((row) => String(row.date));
  const anomalies = (await detectAnomalies({ dialect, query }, published, thresholds, { drivers: false, recoveries: { copy: RECOVERY_WINDOWS } })).filter(
    (c): c is Extract<AnomalyCheck, { judged: true }> => c.judged && c.beyond.length > 0,
  );
  const recovery = await rangeRecovery(query, range, available.last);
  return { range, previous, available, totals: { ...totals[0]!, ...remarketing[0]! }, previousTotals: previousTotals[0]!, trend, topItems, breakdowns: { device, country, sourceMedium }, days, revisions, consent, anomalies, recovery };
}

/**
 * The range read as cart dates: their recoveries on every date up to the newest published day
 * (past the range's end), each window counted once it has closed there.
 */
async function rangeRecovery(query: Query, range: DateRange, latest: string | null): Promise<DashboardData['recovery']> {
  if (latest === null) return { days: [], total: null };
  const days = recoveriesByCartDate(await query(recoveryCountsSql(dialect, dateRange(range.from, range.to), latest, { copy: RECOVERY_WINDOWS })), latest);
  return { days, total: days.length > 0 ? recoveryOfRange(days, range) : null };
}

/** The period of the same length that ends the day before `range` starts. */
export function previousPeriod(range: DateRange): DateRange {
  const length = daysBetween(range.from, range.to);
  return { from: addDays(range.from, -length), to: addDays(range.from, -1) };
}

/** YYYY-MM-DD naming a real day (Date.parse alone takes 2026-02-30 as 2 March). */
function isCalendarDate(value: string): boolean {
  return DATE.test(value) && !Number.isNaN(Date.parse(value)) && new Date(Date.parse(value)).toISOString().slice(0, 10) === value;
}

/** Whole days from `from` to `to`, both included. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000) + 1;
}

/** Missing and empty values alike read "(not set)", as in GA4's own reports. */
export function notSet(column: string): string {
  return `coalesce(nullif(${column}, ''), '(not set)')`;
}

export function within(range: DateRange, column = 'date'): string {
  return `${column} BETWEEN ${dialect.dateLiteral(range.from)} AND ${dialect.dateLiteral(range.to)}`;
}

/**
 * The range's funnel: every metric of cart_funnel_daily as the contract says it adds up, additive
 * ones summed (in their published type), rates computed again from the sums of their counts.
 */
function totalsSql(range: DateRange): string {
  const sum = (column: string) => `coalesce(sum(${column}), 0)`;
  const metrics = publishedTable('cart_funnel_daily').columns.flatMap((c) => {
    if (c.metric?.ratio) return [`${dialect.rate(sum(c.metric.ratio[0]), sum(c.metric.ratio[1]))} AS ${c.name}`];
    return c.metric?.additive ? [`${sum(c.name)}::${DUCKDB_COLUMN_TYPES[c.kind]} AS ${c.name}`] : [];
  });
  return `
SELECT count(*)::BIGINT AS days,
  ${metrics.join(',\n  ')}
FROM cart_funnel_daily WHERE ${within(range)}`;
}

function topItemsSql(range: DateRange): string {
  // An item's name and category: those of its latest day in the range.
  return `
SELECT item_id, arg_max(item_name, date) AS item_name, arg_max(item_category, date) AS item_category,
  sum(abandoned_units)::BIGINT AS abandoned_units, sum(abandoned_value)::DECIMAL(38,2) AS abandoned_value,
  ${dialect.rate('sum(purchased_units)', 'sum(add_to_cart_units)')} AS cart_to_purchase_rate
FROM cart_items_daily WHERE ${within(range)}
GROUP BY item_id HAVING sum(abandoned_value) > 0
ORDER BY abandoned_value DESC, item_id LIMIT 10`;
}

/** Abandoned carts and their value by one dimension: the top rows, the rest as one "(other)" row. */
/** Remarketable carts (abandoned, not bought later that day, ads consent granted) and their value. */
function remarketingSql(range: DateRange): string {
  return `
SELECT coalesce(sum(carts) FILTER (WHERE ${REMARKETABLE_SQL}), 0)::BIGINT AS remarketable,
  coalesce(sum(value) FILTER (WHERE ${REMARKETABLE_SQL}), 0)::DECIMAL(38,2) AS remarketable_value
FROM abandoned_carts_by_dimension WHERE ${within(range)}`;
}

/** Abandoned carts by consent (granted, denied, not given), with those bought later and the remarketable ones. */
function consentSql(range: DateRange): string {
  return `
SELECT coalesce(ads_consent, '') AS consent, sum(carts)::BIGINT AS carts, sum(value)::DECIMAL(38,2) AS value,
  coalesce(sum(carts) FILTER (WHERE purchased_later), 0)::BIGINT AS bought_later,
  coalesce(sum(carts) FILTER (WHERE ${REMARKETABLE_SQL}), 0)::BIGINT AS remarketable,
  coalesce(sum(value) FILTER (WHERE ${REMARKETABLE_SQL}), 0)::DECIMAL(38,2) AS remarketable_value
FROM abandoned_carts_by_dimension WHERE ${within(range)} GROUP BY 1 ORDER BY 1`;
}

function breakdownSql(range: DateRange, dimension: string): string {
  return rankedBreakdownSql('abandoned_carts_by_dimension', range, dimension, { name: 'value', column: 'value', type: 'DECIMAL(38,2)' }, { name: 'carts', column: 'carts', type: 'BIGINT' });
}

export interface BreakdownMeasure {
  /** The output column. */
  name: string;
  /** The copied column summed into it. */
  column: string;
  type: string;
}

/**
 * A measure summed by one dimension over the range, ranked by `rank` (then `then`, then the
 * label): the top BREAKDOWN_ROWS rows, the rest as one "(other)" row (key NULL), with each row's
 * share of `rank`'s total.
 */
export function rankedBreakdownSql(table: string, range: DateRange, dimension: string, rank: BreakdownMeasure, then: BreakdownMeasure): string {
  return `
WITH grouped AS (
  SELECT ${dimension} AS label, sum(${rank.column})::${rank.type} AS ${rank.name}, sum(${then.column})::${then.type} AS ${then.name}
  FROM ${table} WHERE ${within(range)} GROUP BY 1
), ranked AS (
  SELECT *, CASE WHEN row_number() OVER (ORDER BY ${rank.name} DESC, ${then.name} DESC, label) <= ${BREAKDOWN_ROWS} THEN label END AS bucket FROM grouped
)
SELECT bucket AS key, sum(${rank.name})::${rank.type} AS ${rank.name}, sum(${then.name})::${then.type} AS ${then.name},
  (sum(${rank.name}) / nullif(sum(sum(${rank.name})) OVER (), 0))::DOUBLE AS share
FROM ranked GROUP BY bucket
ORDER BY bucket IS NULL, ${rank.name} DESC, ${then.name} DESC, bucket`;
}

/** Every day of the range, with its run state and the quality counts of its last load. */
function daysSql(range: DateRange): string {
  return `
SELECT strftime(d.date, '%Y-%m-%d') AS date, s.status, s.final, s.last_error, s.input, q.lines, q.duplicates, q.quarantined, f.date IS NOT NULL AS published
FROM (SELECT CAST(unnest(generate_series(${dialect.dateLiteral(range.from)}, ${dialect.dateLiteral(range.to)}, INTERVAL 1 DAY)) AS DATE) AS date) d
LEFT JOIN run_state s ON s.date = d.date
LEFT JOIN quality_daily q ON q.date = d.date
LEFT JOIN cart_funnel_daily f ON f.date = d.date
ORDER BY d.date`;
}

/** The restatement rows of the range's days, oldest run first, in the order each run recorded them. */
function revisionsSql(range: DateRange): string {
  return `
SELECT strftime(date, '%Y-%m-%d') AS date, table_name, run_id, previous_run_id, column_name, before, after
FROM restatements WHERE ${within(range)} ORDER BY date, run_id, seq`;
}
