import type { CartlensConfig } from '../config/schema.js';
import type { DateReport } from '../pipeline/report.js';
import { baselineDates, detectAnomalies, formatAnomaly, isAnomaly, type AlertedAnomaly, type Anomaly, type AnomalyCheck, type AnomalyMetric, type AnomalyThresholds, type MetricJudgement } from '../reports/anomaly-check.js';
import type { Dialect, MaterializationDialect } from '../warehouse/dialect.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { sendAlert, webhookDelivery, type Alert } from './alerts.js';

/**
 * After a run publishes: its anomaly checks (src/reports/anomaly-check.ts) put in its run report,
 * the judgements kept per date and metric, and the new ones alerted.
 */

/** A metric's judgement as kept per date (`anomaly_judgements`): within its threshold, or beyond it upwards or downwards. */
export type Judgement = 'normal' | 'high' | 'low';

export function judgementOf(metric: MetricJudgement): Judgement {
  return !metric.beyond ? 'normal' : (metric.change ?? 0) > 0 ? 'high' : 'low';
}

/** Most dates an alert's text lists; the rest are counted (a backfill can judge a year). */
const ALERT_TEXT_DATES = 10;

/**
 * The webhook's message for the anomalies of a run: one line per date (naming the metrics it
 * alerts, when it says which), and the checks for machines.
 */
export function anomalyAlert(anomalies: readonly (Anomaly & { alerted?: AnomalyMetric[] })[]): Alert {
  const line = (a: (typeof anomalies)[number]) => formatAnomaly(a, a.alerted);
  const lines = anomalies.slice(0, ALERT_TEXT_DATES).map(line);
  const more = anomalies.length > ALERT_TEXT_DATES ? `\n… and ${anomalies.length - ALERT_TEXT_DATES} more date(s)` : '';
  return {
    text: `cartlens: ${anomalies.length} day(s) with an anomaly:\n${lines.join('\n')}${more}`,
    days: anomalies.map((a) => ({ date: a.date, status: 'anomaly', reason: line(a) })),
    anomalies: [...anomalies],
  };
}

/**
 * After a run publishes: judges its published dates, puts each date's check in its run report
 * (`DateReport.anomalies`) and returns the checks. Best effort: the numbers are already
 * published, so a check that cannot be made is reported on each date, never fails the run.
 */
export async function checkPublishedDates(
  warehouse: Warehouse,
  reports: DateReport[],
  thresholds: AnomalyThresholds,
  step: (message: string, fields?: Record<string, unknown>) => void,
): Promise<AnomalyCheck[]> {
  const published = reports.filter((r) => r.status === 'published');
  if (published.length === 0) return [];
  let checks: AnomalyCheck[];
  try {
    checks = await detectAnomalies(warehouse, published.map((r) => r.date), thresholds);
  } catch (error) {
    const reason = `the anomaly check failed: ${firstLine(error)}`;
    step(`warning: ${reason}`, { step: 'anomalies' });
    checks = published.map((r) => ({ date: r.date, judged: false, reason, baseline_dates: baselineDates(r.date) }));
  }
  for (const [i, report] of published.entries()) report.anomalies = checks[i]!;
  const anomalies = checks.filter(isAnomaly);
  const notJudged = checks.filter((c) => !c.judged).length;
  step(`anomaly check: ${anomalies.length} anomalous of ${checks.length - notJudged} judged date(s)${notJudged > 0 ? `, ${notJudged} not judged (the run report says why)` : ''}`, { step: 'anomalies' });
  for (const anomaly of anomalies) step(`anomaly ${formatAnomaly(anomaly)}`, { step: 'anomalies', date: anomaly.date });
  return checks;
}

function firstLine(error: unknown): string {
  return ((error as Error)?.message ?? String(error)).split('\n')[0]!;
}

/** The SQL of the judgements kept per date and metric, as text (the ZetaSQL test analyzes it). */
export function judgementSql(dialect: Dialect & MaterializationDialect): {
  read(dates: readonly string[]): string;
  replace(rows: readonly { date: string; metric: AnomalyMetric; judgement: Judgement }[], runId: string): string[];
} {
  const table = dialect.tableName('anomaly_judgements', false);
  return {
    read: (dates) => `SELECT ${dialect.csvText('date', 't.date')} AS day, t.metric, t.judgement FROM ${table} AS t WHERE t.date IN ${dialect.dateList(dates)}`,
    replace: (rows, runId) => [
      `DELETE FROM ${table} WHERE date IN ${dialect.dateList([...new Set(rows.map((r) => r.date))])}`,
      `INSERT INTO ${table} VALUES ${rows.map((r) => `(${dialect.dateLiteral(r.date)}, ${dialect.stringLiteral(r.metric)}, ${dialect.stringLiteral(r.judgement)}, ${dialect.stringLiteral(runId)})`).join(', ')}`,
    ],
  };
}

/**
 * While the warehouse is open, after the run's checks: keeps each judged date's judgement per
 * metric (`anomaly_judgements`) and returns what to alert: the anomalies with a metric whose
 * judgement is new. An anomaly is alerted once per date and metric, and again only when it turns
 * (high to low, or back after a normal judgement); a return to normal is kept, not alerted. A date
 * not judged keeps its record. Best effort like the check: a record that cannot be read or written
 * is warned about, and its anomalies are alerted (twice rather than never).
 */
export async function recordAnomalyJudgements(
  warehouse: Warehouse,
  checks: readonly AnomalyCheck[],
  runId: string,
  step: (message: string) => void,
): Promise<AlertedAnomaly[]> {
  const judged = checks.filter((c): c is Extract<AnomalyCheck, { judged: true }> => c.judged);
  if (judged.length === 0) return [];
  const sql = judgementSql(warehouse.dialect);
  const key = (date: string, metric: string) => `${date} ${metric}`;
  const kept = new Map<string, Judgement>();
  try {
    for (const row of await warehouse.query(sql.read(judged.map((c) => c.date)))) kept.set(key(String(row.day), String(row.metric)), String(row.judgement) as Judgement);
  } catch (error) {
    step(`warning: the anomaly judgements could not be read, every anomaly is alerted: ${firstLine(error)}`);
  }
  const isNew = (date: string, m: MetricJudgement) => judgementOf(m) !== (kept.get(key(date, m.metric)) ?? 'normal');
  const changed = judged.filter((c) => c.metrics.some((m) => judgementOf(m) !== kept.get(key(c.date, m.metric))));
  if (changed.length > 0) {
    const rows = changed.flatMap((c) => c.metrics.map((m) => ({ date: c.date, metric: m.metric, judgement: judgementOf(m) })));
    try {
      for (const statement of sql.replace(rows, runId)) await warehouse.execute(statement);
    } catch (error) {
      step(`warning: the anomaly judgements could not be kept, the next run alerts them again: ${firstLine(error)}`);
    }
  }
  const anomalies = judged.filter(isAnomaly);
  const alerted = anomalies.flatMap((a) => {
    const metrics = a.metrics.filter((m) => m.beyond && isNew(a.date, m)).map((m) => m.metric);
    return metrics.length > 0 ? [{ ...a, alerted: metrics }] : [];
  });
  if (anomalies.length > 0) step(`anomaly alert: ${alerted.length} of ${anomalies.length} anomalous date(s) with a new judgement`);
  return alerted;
}

/** Posts a run's new anomalies to the alert webhook, when alerts are configured (best effort, as every alert), after the warehouse is closed. */
export async function notifyAnomalies(alerts: CartlensConfig['alerts'], anomalies: readonly AlertedAnomaly[], step: (message: string) => void): Promise<void> {
  if (!alerts || anomalies.length === 0) return;
  const delivered = await sendAlert(alerts.webhook_url, anomalyAlert(anomalies), webhookDelivery(alerts.retries));
  step(delivered ? `anomaly alert sent for ${anomalies.length} day(s)` : 'warning: the anomaly alert could not be delivered to the webhook');
}
