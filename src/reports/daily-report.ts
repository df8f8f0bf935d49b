import type { Warehouse } from '../warehouse/warehouse.js';
import { exportQuery } from '../exports/export-query.js';
import { REMARKETABLE_SQL } from '../contract/remarketing.js';
import { PUBLISHED_TABLES } from '../contract/tables.js';
import { detectAnomalies, formatAnomaly, isAnomaly, type AnomalyCheck, type AnomalyThresholds } from './anomaly-check.js';
import { recoveriesByCartDate, recoveryCountsSql, reportCartDates, type Recovery } from './recovery.js';
import { restatementsOfDatesSql } from '../warehouse/state-sql.js';
import { BASE_STYLE, escapeHtml, Formats, funnelSvg, recoveryHtml, remarketingHtml, remarketingTotals, tilesHtml, topItemsHtml, type Labels, type ReportLocale, type Row } from './render.js';
import { dateMarksHtml, latestRevisions, MARK_STYLE, revisionHtml, type Revision } from './revision.js';

/**
 * The self-contained daily report (issue 6, item 4): one HTML file per published date, beside
 * the CSV files, with the day's tiles, funnel and top abandoned items. Everything is inlined
 * (styles, SVG charts, no scripts, no fonts, no images) so it opens with no network.
 * Its numbers come from the same queries as the CSVs, so the two cannot disagree.
 */

export type { ReportLocale, Row } from './render.js';

export interface DailyReportOptions {
  locale: ReportLocale;
  /** ISO 4217, the property's currency. */
  currency: string;
  /** How many items the "top abandoned items" table lists. */
  topItems?: number;
  /** Thresholds of the day's anomaly check against its weekday's last 4 weeks (default: 5 points, 30%). */
  anomalies?: AnomalyThresholds;
  /**
   * What the date was computed from (run_state.input): 'intraday' — GA4's intraday tables or files,
   * the daily export not there yet — marks the report provisional (intraday). Default 'daily'.
   */
  input?: 'daily' | 'intraday';
}

export const REPORT_FILE = 'report.html';

/** Where a date's report lives in the bucket: `report/dt=<date>/report.html`. */
export function reportPath(date: string, namespace = ''): string {
  return `report/${namespace}dt=${date}/${REPORT_FILE}`;
}

/** Where a date's run report lives: `run_report/dt=<date>/run_report_<yyyymmdd>.json`. */
export function runReportPath(date: string, namespace = ''): string {
  return `run_report/${namespace}dt=${date}/run_report_${date.replaceAll('-', '')}.json`;
}

/** The last run's report: `run_report/last_run.json` (`ga4_api_last_run.json` for the Data API's). */
export function lastRunReportPath(namespace = ''): string {
  return `run_report/${namespace.replace(/\/$/, '_')}last_run.json`;
}

/**
 * A source's daily report: its HTML (null when the date has nothing to show), and the published
 * funnel row it was drawn from, when there is one (the run report's summary).
 */
export type DailyReportBuilder = (warehouse: Warehouse, date: string, options: DailyReportOptions) => Promise<{ html: string; funnel: Row | null } | null>;

/** The events' report, from the day's published funnel row and its items (the export queries). */
export const eventsDailyReport: DailyReportBuilder = async (warehouse, date, options) => {
  const [funnel] = await warehouse.query(exportQuery(warehouse.dialect, PUBLISHED_TABLES.find((t) => t.name === 'cart_funnel_daily')!, date));
  if (!funnel) return null;
  // The same check the run makes after publishing, for this day: the published tables are committed.
  // Best effort, as the run's: a check that cannot be made says so and never fails the day's files.
  const anomaly = await detectAnomalies(warehouse, [date], options.anomalies).then(
    ([check]) => check,
    (error: unknown): AnomalyCheck => ({ date, judged: false, reason: `the anomaly check failed: ${((error as Error)?.message ?? String(error)).split('\n')[0]}`, baseline_dates: [] }),
  );
  return { html: await buildDailyReport(warehouse, date, funnel, options, anomaly), funnel };
};

/** Renders the report from the day's published funnel row and its items (the export query). */
export async function buildDailyReport(warehouse: Warehouse, date: string, funnel: Row, options: DailyReportOptions, anomaly?: AnomalyCheck): Promise<string> {
  const itemsTable = PUBLISHED_TABLES.find((t) => t.name === 'cart_items_daily')!;
  const items = await warehouse.query(exportQuery(warehouse.dialect, itemsTable, date));
  return renderDailyReport(date, funnel, items, options, await remarketingByConsent(warehouse, date), anomaly, await reportRecoveries(warehouse, date), await dateRevision(warehouse, date));
}

/**
 * The date's latest revision, when a run has republished it with other numbers (the warehouse
 * table `restatements`; drawn after the run's commit, so a run's own revision is there).
 */
export async function dateRevision(warehouse: Pick<Warehouse, 'dialect' | 'query'>, date: string): Promise<Revision | undefined> {
  return latestRevisions(await warehouse.query(restatementsOfDatesSql(warehouse.dialect, [date])))[0];
}

/**
 * The recovery of the 16 cart dates before the report's date, as of that date: the data after it
 * is left out, so the report of a date says what was known on it (and re-rendering it later
 * gives the same figures); the oldest cart date has every window closed.
 */
export async function reportRecoveries(warehouse: Pick<Warehouse, 'dialect' | 'query'>, date: string): Promise<Recovery[]> {
  return recoveriesByCartDate(await warehouse.query(recoveryCountsSql(warehouse.dialect, reportCartDates(date), date)), date);
}

/**
 * The day's abandoned carts by consent (`granted`, `denied`, '' for not given): all of them, those
 * bought later that day, and the remarketable ones (not bought later, consent granted).
 */
export async function remarketingByConsent(warehouse: Warehouse, date: string): Promise<Row[]> {
  const { dialect } = warehouse;
  return warehouse.query(`
    SELECT COALESCE(ads_consent, '') AS consent, COUNT(*) AS carts, ${dialect.money('SUM(cart_value)')} AS value,
      SUM(CASE WHEN purchased_later THEN 1 ELSE 0 END) AS bought_later,
      SUM(CASE WHEN ${REMARKETABLE_SQL} THEN 1 ELSE 0 END) AS remarketable,
      ${dialect.money(`SUM(CASE WHEN ${REMARKETABLE_SQL} THEN cart_value ELSE 0 END)`)} AS remarketable_value
    FROM ${dialect.tableName('abandoned_carts', false)} WHERE date = ${dialect.dateLiteral(date)}
    GROUP BY 1 ORDER BY 1`);
}

export function renderDailyReport(date: string, funnel: Row, items: Row[], options: DailyReportOptions, byConsent: Row[] = [], anomaly?: AnomalyCheck, recoveries?: readonly Recovery[], revision?: Revision): string {
  const formats = new Formats(options);
  const { text } = formats;
  const top = items
    .filter((item) => Number(item.abandoned_value) > 0)
    .sort((a, b) => Number(b.abandoned_value) - Number(a.abandoned_value) || String(a.item_id).localeCompare(String(b.item_id)))
    .slice(0, options.topItems ?? 10);
  const intraday = options.input === 'intraday';
  // Only a marked report carries the marks' style: the others' bytes stay as they were.
  const marked = intraday || revision !== undefined;

  return `<!doctype html>
<html lang="${options.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${text.title} ${date}</title>
<style>
${BASE_STYLE}${marked ? `\n${MARK_STYLE}` : ''}
</style>
</head>
<body>
<h1>${text.title} — ${date}${dateMarksHtml(revision, intraday, formats)}</h1>
${intraday ? `<p class="note intraday" data-input="intraday">${text.intradayNote}</p>\n` : ''}${revision ? revisionHtml(revision, formats) : ''}${anomalyHtml(anomaly, text)}<section class="tiles">
${tilesHtml(funnel, formats)}
</section>
<h2>${text.funnel}</h2>
${funnelSvg(funnel, formats)}
<h2>${text.topItems}</h2>
${topItemsHtml(top, formats, text.noItems)}
<h2>${text.remarketing}</h2>
${remarketingHtml(remarketingTotals(funnel, byConsent), byConsent, formats)}
${recoveries ? `<h2>${text.recovery}</h2>\n${recoveryHtml(recoveries, formats)}\n` : ''}</body>
</html>
`;
}

/** The day's anomaly, when it is one: the metrics that moved and what drove them; or why it was not compared. */
function anomalyHtml(anomaly: AnomalyCheck | undefined, text: Labels): string {
  if (!anomaly) return '';
  if (!anomaly.judged) return `<p class="note" data-anomaly="not-judged">${text.anomalyNotJudged}: ${escapeHtml(anomaly.reason)}</p>\n`;
  if (!isAnomaly(anomaly)) return '';
  return `<section class="anomalies" data-anomaly="${anomaly.date}"><h2>${text.anomalies}</h2><p class="anomaly">${escapeHtml(formatAnomaly(anomaly))}</p><p class="note">${text.anomalyNote}</p></section>\n`;
}
