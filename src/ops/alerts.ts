import type { Restatement } from '../pipeline/report.js';
import { grouped, share } from '../pipeline/restatements.js';
import type { AlertedAnomaly, Anomaly } from '../reports/anomaly-check.js';
import { restatementsOfDatesSql } from '../warehouse/state-sql.js';
import type { Warehouse } from '../warehouse/warehouse.js';

/** What an alert says: one line for people, and the failing days for machines. */
export interface Alert {
  text: string;
  /**
   * Each day with its status (`failed`, `deferred`, `provisional`, `revised` with the headline
   * metrics that moved since first published as the reason, or `anomaly` with its one-line summary as the reason).
   */
  days: { date: string; status: string; reason: string | null }[];
  /**
   * An anomaly alert's checks: metrics, baselines, changes and drivers (src/reports/anomaly-check.ts), and
   * in a run's alert `alerted`, the metrics whose judgement is new (each is alerted once).
   */
  anomalies?: (Anomaly | AlertedAnomaly)[];
}

export interface AlertOptions {
  retries: number;
  sleep: (ms: number) => Promise<void>;
  timeoutMs: number;
  /** All attempts and waits together end within this (a webhook that never answers cannot hold a run). */
  totalMs?: number;
}

/**
 * POSTs the alert as JSON to a webhook (a Slack or Google Chat incoming webhook accepts
 * `{ "text": … }` as is), retrying network errors and 5xx with jittered back-off, never 4xx.
 * The body holds dates, statuses and reasons (and an anomaly's aggregate figures: metrics,
 * segments, items) only: no config, no secret, no user data. The
 * webhook's URL is itself a secret and is never logged. Returns whether it was delivered.
 */
export async function sendAlert(url: string, alert: Alert, options: AlertOptions): Promise<boolean> {
  const deadline = performance.now() + (options.totalMs ?? Number.POSITIVE_INFINITY);
  for (let attempt = 0; ; attempt++) {
    let status = 0;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alert),
        signal: AbortSignal.timeout(Math.max(1, Math.min(options.timeoutMs, deadline - performance.now()))),
      });
      status = response.status;
      if (response.ok) return true;
    } catch {
      status = 0; // network error or timeout: worth another try
    }
    if ((status >= 400 && status < 500) || attempt >= options.retries) return false;
    const wait = Math.round(2 ** attempt * 500 * (0.5 + Math.random()));
    if (performance.now() + wait >= deadline) return false;
    await options.sleep(wait);
  }
}

/** How every alert is sent: 10 s per attempt, and at most 30 s in all, retries and waits included. */
export function webhookDelivery(retries: number): AlertOptions {
  return { retries, timeoutMs: 10_000, totalMs: 30_000, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };
}

export function alertFor(days: Alert['days']): Alert {
  const worst = days.map((d) => `${d.date} ${d.status}${d.reason ? ` (${d.reason})` : ''}`).join('; ');
  return { text: `cartlens: ${days.length} day(s) need attention: ${worst}`, days };
}

/**
 * The headline metrics of cart_funnel_daily that `alerts.on_restatement_above_pct` watches: its
 * counts and money. The abandonment rate is left out: it moves in points, and its counts are here.
 */
export const RESTATEMENT_ALERT_METRICS: readonly string[] = ['sessions', 'sessions_with_add_to_cart', 'abandoned_carts', 'purchases', 'revenue', 'abandoned_value'];

/**
 * The run's restated dates (`restatements`) whose headline metrics this run changed to more than
 * `abovePct` % away from the value the date was first published with — the `before` of the
 * earliest restatement of that date and metric (this run's, when it is the first) — as `revised`
 * days: `sessions 3,069 → 3,250 (+5.9%) since first published`. From 0, any change is beyond.
 * Read inside the run, before it releases the warehouse (its own restatements are committed).
 */
export async function revisedDays(warehouse: Pick<Warehouse, 'dialect' | 'query'>, restatements: readonly Restatement[], abovePct: number | undefined): Promise<Alert['days']> {
  const funnel = restatements.filter((r) => r.table === 'cart_funnel_daily' && r.changes.some((c) => RESTATEMENT_ALERT_METRICS.includes(c.column)));
  if (abovePct === undefined || funnel.length === 0) return [];
  const first = new Map<string, string | null>();
  // Oldest run first: the first row of a date and metric holds what it was first published with.
  for (const row of await warehouse.query(restatementsOfDatesSql(warehouse.dialect, funnel.map((r) => r.date), 'cart_funnel_daily'))) {
    const key = `${String(row.date)} ${String(row.column_name)}`;
    if (!first.has(key)) first.set(key, row.before === null || row.before === undefined ? null : String(row.before));
  }
  return funnel.flatMap((r) => {
    const moved = r.changes.flatMap(({ column, before, after }) => {
      if (!RESTATEMENT_ALERT_METRICS.includes(column)) return [];
      const since = first.has(`${r.date} ${column}`) ? first.get(`${r.date} ${column}`)! : before;
      if (since === null || after === null || since === '' || after === '') return [];
      const [b, a] = [Number(since), Number(after)];
      const pct = b === 0 ? (a === 0 ? 0 : Number.POSITIVE_INFINITY) : (Math.abs(a - b) / Math.abs(b)) * 100;
      return pct > abovePct ? [`${column} ${grouped(since)} → ${grouped(after)}${share(since, after)}`] : [];
    });
    return moved.length > 0 ? [{ date: r.date, status: 'revised', reason: `${moved.join(', ')} since first published` }] : [];
  });
}
