import { ANOMALY_METRICS, DECIMALS, metricKind, publishedColumn, publishedTable, RECOVERY_ANOMALY_METRIC, RECOVERY_WINDOWS_HOURS, type MetricKind, type PublishedColumn } from '../contract/tables.js';
import { addDays } from '../util/dates.js';
import type { Dialect, MaterializationDialect } from '../warehouse/dialect.js';
import type { Row, Warehouse } from '../warehouse/warehouse.js';
import { cartDateClosedBy, recoveriesByCartDate, recoveryCountsSql, type RecoverySource } from './recovery.js';

/**
 * Anomaly checks of published dates (issue 13, item 3). Each published date's
 * `cart_abandonment_rate`, `abandoned_value`, `sessions` and `revenue` are compared with the
 * median of the same weekday over the 4 weeks before it (the baseline), and so is
 * `recovery_rate_7d`: the 7-day recovery rate of the cart date whose window the date's
 * publication closes (9 days before it), against those of the baseline days. A date is judged only when
 * all 4 baseline days are published. A metric beyond its threshold is an anomaly, and the anomaly
 * names its drivers: the segments of `abandoned_carts` (device, country, source / medium) and the
 * items of `cart_items_daily` that contribute most to the change in abandoned value.
 *
 * The SQL only reads the published tables through the dialect, with functions DuckDB and BigQuery
 * share; the medians are computed here, exactly, from the published text of each value (integers
 * of cents, of 1/10,000 of a rate, of sessions). Read-only: the dashboard and report.html judge
 * with it too; recording judgements and alerting them is the run's (src/ops/anomalies.ts).
 */

/** How many weeks before a date make its baseline. */
export const BASELINE_WEEKS = 4;

/** When a metric is an anomaly (config `anomalies`, docs/operations.md). */
export interface AnomalyThresholds {
  /** The abandonment rate: beyond ± this many percentage points of its baseline. */
  rate_points: number;
  /** Sessions, revenue, abandoned value: beyond ± this share of their baseline (0.3 = 30%). */
  relative_change: number;
}

export const DEFAULT_ANOMALY_THRESHOLDS: AnomalyThresholds = { rate_points: 5, relative_change: 0.3 };

/** A metric of `cart_funnel_daily` the check judges (src/contract/tables.ts). */
export type FunnelAnomalyMetric = (typeof ANOMALY_METRICS)[number];
/** A metric the check judges: the funnel's, then the recovery rate (listed in that order). */
export type AnomalyMetric = FunnelAnomalyMetric | typeof RECOVERY_ANOMALY_METRIC.name;

/** The funnel metrics' columns (read as published text). */
const FUNNEL_COLUMNS: Record<FunnelAnomalyMetric, PublishedColumn> = Object.fromEntries(ANOMALY_METRICS.map((name) => [name, publishedColumn(publishedTable('cart_funnel_daily'), name)])) as Record<FunnelAnomalyMetric, PublishedColumn>;

/**
 * How each metric is compared, from the contract: its unit, and its decimals (the values are
 * compared exactly, as integers of 10^-decimals). The recovery rate is a rate.
 */
const METRICS: Record<AnomalyMetric, { kind: MetricKind; scale: number }> = {
  ...(Object.fromEntries(ANOMALY_METRICS.map((name) => [name, { kind: metricKind(FUNNEL_COLUMNS[name]), scale: DECIMALS[metricKind(FUNNEL_COLUMNS[name])] }])) as Record<FunnelAnomalyMetric, { kind: MetricKind; scale: number }>),
  [RECOVERY_ANOMALY_METRIC.name]: { kind: 'rate', scale: DECIMALS.rate },
};

const RECOVERY_WINDOW_INDEX = RECOVERY_WINDOWS_HOURS.indexOf(RECOVERY_ANOMALY_METRIC.window_hours);

/** The cart date whose recovery rate a date's check judges: the one whose window that date closes. */
export function recoveryCartDate(date: string): string {
  return cartDateClosedBy(date, RECOVERY_ANOMALY_METRIC.window_hours);
}

/** One metric of a judged date against its baseline. */
export interface MetricJudgement {
  metric: AnomalyMetric;
  /** The day's published value (the rate as a fraction, money in the property's currency); null: none (a rate without carts). */
  value: number | null;
  /** The median of the 4 baseline days; null when one of them has no value. */
  baseline: number | null;
  /** `points`: the rate's change in percentage points; `relative`: (value − baseline) / baseline. */
  unit: 'points' | 'relative';
  /** In `unit`; null when there is nothing to compare (no value, or a relative change from 0). */
  change: number | null;
  /** Strictly beyond the threshold: an anomaly. */
  beyond: boolean;
  /** The recovery rate's: the cart date it is of (its baseline: those of the baseline dates). */
  cart_date?: string;
}

/** A segment or an item that moved the day's abandoned value, against the same baseline. */
export interface AnomalyDriver {
  /** `device`, `country`, `source_medium` (segments of abandoned_carts) or `item` (cart_items_daily). */
  dimension: 'device' | 'country' | 'source_medium' | 'item';
  /** The segment's value (`mobile`, `Brazil`, `google / organic`; empty: not set) or the item_id. */
  value: string;
  /** The item's name, for an item. */
  name?: string;
  /** Abandoned value of the segment or item that day. */
  day_value: number;
  /** The median of its abandoned value over the 4 baseline days (a day without it counts 0). */
  baseline: number;
  /** day_value − baseline. */
  contribution: number;
}

/**
 * The anomaly check of one published date, as the run report carries it (`DateReport.anomalies`).
 * A date not judged says why.
 */
export type AnomalyCheck =
  | { date: string; judged: false; reason: string; baseline_dates: string[] }
  | {
      date: string;
      judged: true;
      baseline_dates: string[];
      metrics: MetricJudgement[];
      /** The metrics beyond their threshold; empty: no anomaly. */
      beyond: AnomalyMetric[];
      /** For a date with an anomaly: the top 3 segments and the top 3 items; null otherwise. */
      drivers: { segments: AnomalyDriver[]; items: AnomalyDriver[] } | null;
    };

/** A judged date with at least one anomaly (what the alert, report.html and the dashboard show). */
export type Anomaly = Extract<AnomalyCheck, { judged: true }> & { drivers: { segments: AnomalyDriver[]; items: AnomalyDriver[] } };

export function isAnomaly(check: AnomalyCheck): check is Anomaly {
  return check.judged && check.beyond.length > 0 && check.drivers !== null;
}

/** A date's anomaly as alerted: `alerted` are its metrics whose judgement is new (all that are beyond, the first time). */
export type AlertedAnomaly = Anomaly & { alerted: AnomalyMetric[] };

/** The same weekday of the 4 weeks before `date`, oldest first. */
export function baselineDates(date: string): string[] {
  return Array.from({ length: BASELINE_WEEKS }, (_, i) => addDays(date, -7 * (BASELINE_WEEKS - i)));
}

/** What the check needs of a warehouse: its dialect and plain queries (the dashboard's copy can be one). */
export type AnomalyReader = Pick<Warehouse, 'dialect' | 'query'>;

/**
 * Judges each date against its baseline, reading the published tables. Dates without their 4
 * baseline days published are not judged (with the reason); a date with an anomaly gets its drivers.
 */
export async function detectAnomalies(
  warehouse: AnomalyReader,
  dates: readonly string[],
  thresholds: AnomalyThresholds = DEFAULT_ANOMALY_THRESHOLDS,
  /**
   * `drivers: false` judges the metrics only (the dashboard's copy has no cart-level rows);
   * `recoveries`: where the recoveries are read (the dashboard's copy counts them per window).
   */
  options: { drivers?: boolean; recoveries?: RecoverySource } = {},
): Promise<AnomalyCheck[]> {
  if (dates.length === 0) return [];
  const queries = anomalyQueries(warehouse.dialect);
  const around = withBaselines(dates);
  const funnel = new Map((await warehouse.query(queries.funnel(around))).map((row) => [String(row.day), row]));
  // Each day's rate is of a cart date whose window closed by that day, so reading up to the last
  // day gives every day the rate it had on its own (a later recovery is beyond the window).
  const latest = around.at(-1)!;
  const recoveryRates = new Map(
    recoveriesByCartDate(await warehouse.query(queries.recoveries(around, latest, options.recoveries)), latest).map((r) => [r.cart_date, r.windows[RECOVERY_WINDOW_INDEX]!.rate]),
  );
  const checks = dates.map((date) => judgeDate(date, funnel, recoveryRates, thresholds));
  const anomalous = checks.filter((c): c is Extract<AnomalyCheck, { judged: true }> => c.judged && c.beyond.length > 0);
  if (anomalous.length > 0 && options.drivers !== false) {
    const around = withBaselines(anomalous.map((c) => c.date));
    const [segments, items] = [await warehouse.query(queries.segments(around)), await warehouse.query(queries.items(around))];
    for (const check of anomalous) check.drivers = { segments: segmentDrivers(segments, check.date, check.baseline_dates), items: itemDrivers(items, check.date, check.baseline_dates) };
  }
  return checks;
}

function withBaselines(dates: readonly string[]): string[] {
  return [...new Set(dates.flatMap((d) => [...baselineDates(d), d]))].sort();
}

function judgeDate(date: string, funnel: Map<string, Row>, recoveryRates: Map<string, string | null>, thresholds: AnomalyThresholds): AnomalyCheck {
  const baseline = baselineDates(date);
  const missing = baseline.filter((d) => !funnel.has(d));
  const day = funnel.get(date);
  if (!day) return { date, judged: false, reason: 'the date has no published cart_funnel_daily row', baseline_dates: baseline };
  if (missing.length > 0) {
    return { date, judged: false, reason: `${BASELINE_WEEKS - missing.length} of ${BASELINE_WEEKS} baseline weeks published (missing ${missing.join(', ')})`, baseline_dates: baseline };
  }
  const metrics = ANOMALY_METRICS.map((metric) => judgeMetric(metric, text(day[metric]), baseline.map((d) => text(funnel.get(d)![metric])), thresholds));
  // A cart date with no published row (or no abandoned cart) has no rate: not compared.
  const rate = (d: string) => recoveryRates.get(recoveryCartDate(d)) ?? null;
  metrics.push({ ...judgeMetric(RECOVERY_ANOMALY_METRIC.name, rate(date), baseline.map(rate), thresholds), cart_date: recoveryCartDate(date) });
  return { date, judged: true, baseline_dates: baseline, metrics, beyond: metrics.filter((m) => m.beyond).map((m) => m.metric), drivers: null };
}

/**
 * One metric against its 4 baseline values, all as published text. The rate's change is in
 * percentage points (a rate that goes from 2% to 3% changed by 1 point, not by 50%); the others'
 * is relative. Exact: values are integers of their smallest unit, the median of 4 is kept doubled
 * (the sum of the middle two), and the thresholds are compared in the same integers.
 */
export function judgeMetric(metric: AnomalyMetric, value: string | null, baseline: readonly (string | null)[], thresholds: AnomalyThresholds): MetricJudgement {
  const { kind, scale } = METRICS[metric];
  const unit = kind === 'rate' ? 'points' : 'relative';
  const day = units(value, scale);
  const past = baseline.map((b) => units(b, scale));
  const known = past.filter((b): b is bigint => b !== null);
  const median2 = known.length === past.length && known.length > 0 ? doubledMedian(known) : null;
  const result = { metric, value: day === null ? null : toNumber(day * 2n, scale), baseline: median2 === null ? null : toNumber(median2, scale), unit } as const;
  if (day === null || median2 === null) return { ...result, change: null, beyond: false };
  const diff2 = day * 2n - median2; // twice (value − median), in the metric's smallest unit
  const magnitude = diff2 < 0n ? -diff2 : diff2;
  if (unit === 'points') {
    // 1 percentage point is 100 units of 1/10,000.
    const limit2 = 2n * BigInt(Math.round(thresholds.rate_points * 100));
    return { ...result, change: Number(diff2) / 200, beyond: magnitude > limit2 };
  }
  if (median2 === 0n) return { ...result, change: day === 0n ? 0 : null, beyond: false };
  const limitMillionths = BigInt(Math.round(thresholds.relative_change * 1_000_000));
  return { ...result, change: Number(diff2) / Number(median2), beyond: magnitude * 1_000_000n > limitMillionths * median2 };
}

/** Twice the median (the sum of the two middle values of an even count), so that it stays an integer. */
export function doubledMedian(values: readonly bigint[]): bigint {
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? 2n * sorted[middle]! : sorted[middle - 1]! + sorted[middle]!;
}

/** The median of numbers: doubledMedian for plain numbers (report.html and the dashboard may show it). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** A published decimal's text as an integer of 10^-scale; null for an empty (null) value. */
function units(value: string | null, scale: number): bigint | null {
  if (value === null || value === '') return null;
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(value);
  if (!match) throw new Error(`not a published number: ${value}`);
  const [, sign, whole, fraction = ''] = match;
  const digits = BigInt(whole! + fraction.padEnd(scale, '0').slice(0, scale));
  return sign === '-' ? -digits : digits;
}

/** A doubled integer of 10^-scale as a number. */
function toNumber(doubled: bigint, scale: number): number {
  return Number(doubled) / 2 / 10 ** scale;
}

function text(value: Row[string] | undefined): string | null {
  return value === null || value === undefined ? null : String(value);
}

/** The SQL the check reads, as text (pure: the ZetaSQL test analyzes it as BigQuery receives it). */
export function anomalyQueries(dialect: Dialect & MaterializationDialect): {
  funnel(dates: readonly string[]): string;
  /** The recovery counts of the cart dates the dates' checks judge, as of `latest`. */
  recoveries(dates: readonly string[], latest: string, source?: RecoverySource): string;
  segments(dates: readonly string[]): string;
  items(dates: readonly string[]): string;
} {
  const q = (name: string) => dialect.quoteIdentifier(name);
  const day = `${dialect.csvText('date', 't.date')} AS day`;
  const where = (dates: readonly string[]) => `WHERE t.date IN ${dialect.dateList(dates)}`;
  return {
    funnel: (dates) =>
      `SELECT ${day}, ${ANOMALY_METRICS.map((m) => `${dialect.csvText(FUNNEL_COLUMNS[m].kind, `t.${q(m)}`)} AS ${q(m)}`).join(', ')} FROM ${dialect.tableName('cart_funnel_daily', false)} AS t ${where(dates)}`,
    recoveries: (dates, latest, source) => recoveryCountsSql(dialect, dates.map(recoveryCartDate), latest, source),
    segments: (dates) =>
      `SELECT ${day}, t.device_category, t.country, t.source, t.medium, ${dialect.csvText('money', 'SUM(t.cart_value)')} AS abandoned_value ` +
      `FROM ${dialect.tableName('abandoned_carts', false)} AS t ${where(dates)} GROUP BY t.date, t.device_category, t.country, t.source, t.medium`,
    items: (dates) =>
      `SELECT ${day}, t.item_id, t.item_name, ${dialect.csvText('money', 't.abandoned_value')} AS abandoned_value ` +
      `FROM ${dialect.tableName('cart_items_daily', false)} AS t ${where(dates)} AND t.abandoned_value > 0`,
  };
}

const SEGMENT_DIMENSIONS: { dimension: AnomalyDriver['dimension']; of: (row: Row) => string }[] = [
  { dimension: 'device', of: (row) => String(row.device_category ?? '') },
  { dimension: 'country', of: (row) => String(row.country ?? '') },
  { dimension: 'source_medium', of: (row) => `${String(row.source ?? '')} / ${String(row.medium ?? '')}` },
];

/** The top 3 segments of abandoned carts by their contribution to the change in abandoned value. */
function segmentDrivers(rows: readonly Row[], date: string, baseline: readonly string[]): AnomalyDriver[] {
  const candidates = SEGMENT_DIMENSIONS.flatMap(({ dimension, of }) => {
    const values = valuesByKey(rows, date, baseline, of);
    // A dimension with one value over the 5 days (every cart from Brazil) holds the whole change
    // and says nothing about where it came from: it is left out.
    if (values.size < 2) return [];
    return [...values].map(([value, byDay]) => contribution(dimension, value, byDay, date, baseline));
  });
  return topDrivers(candidates);
}

/** The top 3 items by their contribution to the change in abandoned value. */
function itemDrivers(rows: readonly Row[], date: string, baseline: readonly string[]): AnomalyDriver[] {
  const names = new Map<string, string>();
  for (const row of rows) if (row.day === date || !names.has(String(row.item_id))) names.set(String(row.item_id), String(row.item_name ?? ''));
  const values = valuesByKey(rows, date, baseline, (row) => String(row.item_id));
  return topDrivers([...values].map(([id, byDay]) => ({ ...contribution('item', id, byDay, date, baseline), name: names.get(id) ?? '' })));
}

/** Abandoned value (cents) by key and day, over the date and its baseline. */
function valuesByKey(rows: readonly Row[], date: string, baseline: readonly string[], keyOf: (row: Row) => string): Map<string, Map<string, bigint>> {
  const days = new Set([date, ...baseline]);
  const values = new Map<string, Map<string, bigint>>();
  for (const row of rows) {
    const day = String(row.day);
    if (!days.has(day)) continue;
    const key = keyOf(row);
    const byDay = values.get(key) ?? new Map<string, bigint>();
    byDay.set(day, (byDay.get(day) ?? 0n) + (units(text(row.abandoned_value), 2) ?? 0n));
    values.set(key, byDay);
  }
  return values;
}

function contribution(dimension: AnomalyDriver['dimension'], value: string, byDay: Map<string, bigint>, date: string, baseline: readonly string[]): AnomalyDriver & { change2: bigint } {
  // Absent on a baseline day: it had no abandoned value there, which is 0, not unknown.
  const median2 = doubledMedian(baseline.map((d) => byDay.get(d) ?? 0n));
  const day = byDay.get(date) ?? 0n;
  const change2 = day * 2n - median2;
  return { dimension, value, day_value: toNumber(day * 2n, 2), baseline: toNumber(median2, 2), contribution: toNumber(change2, 2), change2 };
}

/**
 * Ranked by absolute contribution: a segment that fell explains a fall as much as one that rose
 * explains a rise, and the sign says which. Medians do not add up, so the contributions of a
 * dimension's values need not sum to the total's change: they rank, they are not shares.
 * Ties: the dimension's order, then the value, so the ranking is deterministic.
 */
function topDrivers(candidates: (AnomalyDriver & { change2: bigint })[]): AnomalyDriver[] {
  const abs = (n: bigint) => (n < 0n ? -n : n);
  const order = (d: AnomalyDriver) => ['device', 'country', 'source_medium', 'item'].indexOf(d.dimension);
  return candidates
    .filter((c) => c.change2 !== 0n)
    .sort((a, b) => (abs(b.change2) > abs(a.change2) ? 1 : abs(b.change2) < abs(a.change2) ? -1 : order(a) - order(b) || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0)))
    .slice(0, 3)
    .map(({ change2: _, ...driver }) => driver);
}

/** A driver as text: `device=mobile +120.00`, `item SKU-1 (Red shoe) −40.50`. */
export function formatDriver(driver: AnomalyDriver): string {
  const label = driver.dimension === 'item' ? `item ${driver.value}${driver.name ? ` (${driver.name})` : ''}` : `${driver.dimension}=${driver.value === '' || driver.value === ' / ' ? '(not set)' : driver.value}`;
  return `${label} ${signed(driver.contribution, money)}`;
}

/** A metric's line: `cart_abandonment_rate 62.5% vs 31.3% (+31.2 pp)`, `sessions 40 vs 80 (−50%)`. */
export function formatMetric(m: MetricJudgement): string {
  const { kind } = METRICS[m.metric];
  const show = (n: number | null) => (n === null ? '—' : kind === 'rate' ? `${(n * 100).toFixed(1)}%` : kind === 'count' ? String(n) : money(n));
  const change = m.change === null ? 'n/a' : m.unit === 'points' ? `${signed(m.change, (n) => n.toFixed(1))} pp` : `${signed(m.change * 100, (n) => n.toFixed(0))}%`;
  return `${m.metric}${m.cart_date ? ` (carts of ${m.cart_date})` : ''} ${show(m.value)} vs ${show(m.baseline)} (${change})`;
}

/**
 * An anomaly in one line, for the alert, the CLI's log, report.html and the dashboard's badge:
 * `2026-12-06: cart_abandonment_rate 62.5% vs 31.3% (+31.2 pp); drivers: device=mobile +120.00, …; items: item A (Item A) +60.00, …`.
 * `only`: the metrics to name (an alert names those whose judgement is new); default, all beyond.
 */
export function formatAnomaly(anomaly: Anomaly, only: readonly AnomalyMetric[] = anomaly.beyond): string {
  const metrics = anomaly.metrics.filter((m) => only.includes(m.metric)).map(formatMetric).join(', ');
  const list = (drivers: AnomalyDriver[]) => (drivers.length === 0 ? 'none' : drivers.map(formatDriver).join(', '));
  return `${anomaly.date}: ${metrics}; drivers: ${list(anomaly.drivers.segments)}; items: ${list(anomaly.drivers.items)}`;
}

function money(n: number): string {
  // A median of 4 can end in half a cent.
  return Number.isInteger(Math.round(n * 1000) / 10) ? n.toFixed(2) : n.toFixed(3);
}

function signed(n: number, format: (n: number) => string): string {
  return n < 0 ? `−${format(-n)}` : `+${format(n)}`;
}
