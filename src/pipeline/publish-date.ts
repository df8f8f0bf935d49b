// Publishing a date's files, and republishing the tables a run's reach changed (run.ts's publish and republish steps).
import { createHash } from 'node:crypto';
import { csvContent, type CsvContent } from '../exports/csv.js';
import { exportQuery } from '../exports/export-query.js';
import { completionMarker, completionMarkerPath, type CompletionMarker, type Exporter, type PublishedFile } from '../exports/exporter.js';
import { reportPath, type DailyReportOptions } from '../reports/daily-report.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { crashPoint } from '../util/crash-points.js';
import { type RunPlan } from './plan.js';
import type { AssertionFailure, DateReport } from './report.js';
import { type StagedInput } from './staged-input.js';

/**
 * Publishes a date's files (when it has anything to publish) and reports on it. The date's
 * completion marker goes first and comes back last, naming the new files: a reader never takes a
 * mix of two runs' files for a date's set.
 */
export async function publishDate(
  plan: RunPlan,
  warehouse: Warehouse,
  exporter: Exporter,
  staged: StagedInput,
  date: string,
  { runId, now, failures, reportOptions, publishable, final, input = 'daily', leftOut = 0 }: { runId: string; now: () => Date; failures: AssertionFailure[]; reportOptions: DailyReportOptions; publishable: boolean; final: boolean; input?: 'daily' | 'intraday'; leftOut?: number },
): Promise<DateReport> {
  const quality = await staged.dateQuality(date);
  const files: PublishedFile[] = [];
  const rows: Record<string, number> = {};
  // A blocking failure withholds the date's files: consumers keep the last ones that passed.
  const blocked = failures.some((f) => f.blocking);
  const { namespace } = plan.outputs;
  if (!blocked) await exporter.deleteFile(completionMarkerPath(date, namespace));
  for (const table of blocked ? [] : plan.outputs.tables) {
    if (!publishable) {
      // Nothing to publish: files of an earlier run for this date must not outlive its rows.
      await exporter.remove(table.name, date);
      continue;
    }
    const published = await exporter.publish(table.name, date, csvContent(table, warehouse.streamRows(exportQuery(warehouse.dialect, table, date))), staged.manifestExtra(date));
    files.push(published);
    rows[table.name] = published.rows;
    crashPoint('mid-export');
  }
  // Drawn after the CSVs, from the same published tables, so it never shows numbers they lack.
  const drawn = publishable ? await plan.outputs.dailyReport(warehouse, date, reportOptions) : null;
  const funnel = drawn?.funnel;
  if (!blocked) {
    if (drawn) await exporter.writeText(reportPath(date, namespace), drawn.html, 'text/html; charset=utf-8');
    else await exporter.deleteFile(reportPath(date, namespace));
    if (files.length > 0) await exporter.writeJson(completionMarkerPath(date, namespace), completionMarker(runId, date, files, now(), staged.manifestExtra(date)));
  }
  return {
    date,
    status: blocked ? 'failed' : publishable ? 'published' : 'no_events',
    final,
    provisional: input === 'intraday',
    source: input,
    left_out_lines: leftOut,
    assertion_failures: failures,
    rows,
    ...quality,
    summary: funnel
      ? {
          sessions: Number(funnel.sessions),
          sessions_with_add_to_cart: Number(funnel.sessions_with_add_to_cart),
          abandoned_carts: Number(funnel.abandoned_carts),
          cart_abandonment_rate: funnel.cart_abandonment_rate === null ? null : String(funnel.cart_abandonment_rate),
          purchases: Number(funnel.purchases),
          revenue: String(funnel.revenue),
          abandoned_value: String(funnel.abandoned_value),
        }
      : null,
    files,
  };
}

/**
 * Publishes again the tables of a date published before that read other dates (cart_recoveries),
 * when the run's dates reach it: the marker goes first and comes back naming the new file beside
 * the date's other files, which stay as they were (the contract: a re-run replaces that date's
 * files, and the recoveries of the dates its carts reach). A date without a marker is left alone.
 */
export async function republishReached(plan: RunPlan, warehouse: Warehouse, exporter: Exporter, date: string, runId: string, now: () => Date, extra: Record<string, unknown>): Promise<boolean> {
  const { namespace } = plan.outputs;
  const marker = (await exporter.readJson(completionMarkerPath(date, namespace))) as CompletionMarker | undefined;
  if (!marker) return false;
  const reaching = new Set(plan.models.filter((m) => m.reach).map((m) => m.name));
  // A date's recoveries are a small file: rendered here, they are published only when they changed.
  const changed: { table: (typeof plan.outputs.tables)[number]; csv: string; rows: number }[] = [];
  for (const table of plan.outputs.tables.filter((t) => reaching.has(t.name))) {
    const content = csvContent(table, warehouse.streamRows(exportQuery(warehouse.dialect, table, date)));
    let csv = '';
    for await (const chunk of content.chunks) csv += chunk;
    const kept = marker.files.find((f) => f.table === table.name);
    if (kept?.sha256 !== createHash('sha256').update(csv).digest('hex')) changed.push({ table, csv, rows: content.rowCount() });
  }
  if (changed.length === 0) return false;
  // The date's input is what it was published from (a reached date is not among the run's).
  const fields = { ...extra, ...(marker.source !== undefined ? { provisional: marker.provisional ?? false, source: marker.source } : {}) };
  await exporter.deleteFile(completionMarkerPath(date, namespace));
  const files: PublishedFile[] = [];
  for (const table of plan.outputs.tables) {
    const fresh = changed.find((c) => c.table === table);
    const kept = marker.files.find((f) => f.table === table.name);
    if (fresh) files.push(await exporter.publish(table.name, date, renderedCsv(fresh.csv, fresh.rows), fields));
    else if (kept) files.push({ table: kept.table, date, location: kept.path, rows: kept.rows, bytes: kept.bytes, sha256: kept.sha256 });
  }
  await exporter.writeJson(completionMarkerPath(date, namespace), completionMarker(runId, date, files, now(), fields));
  return true;
}

/** A rendered CSV as publishable content. */
function renderedCsv(csv: string, rows: number): CsvContent {
  return {
    chunks: (async function* () {
      yield csv;
    })(),
    rowCount: () => rows,
  };
}
