import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import { createExporter } from '../exports/index.js';
import { csvContent } from '../exports/csv.js';
import { exportQuery } from '../exports/export-query.js';
import { PUBLISHED_TABLES, PUBLISHED_TABLE_NAMES } from '../exports/published-tables.js';
import { completionMarker, completionMarkerPath, type Exporter, type PublishedFile } from '../exports/exporter.js';
import { buildDailyReport, reportPath, type DailyReportOptions } from '../reports/daily-report.js';
import { compileModels } from '../models/compile.js';
import { planAssertions } from '../models/assertions.js';
import { checkAssertions } from './check-assertions.js';
import { planModels, readModels } from '../models/graph.js';
import { createSource } from '../sources/index.js';
import { CartlensError, ConfigError, ModelGraphError, NoEventsError, PublishError } from '../util/errors.js';
import { dueDates, isFinal, type DayStatus } from './due-dates.js';
import { readDays, recordDays, type DayState } from './run-state.js';
import { alertFor, sendAlert } from '../ops/alerts.js';
import { purgeExpired } from '../ops/retention.js';
import { openWarehouse } from '../warehouse/index.js';
import { readsBigQueryExport, readsLandedFiles, type StagedLineCount, type Warehouse } from '../warehouse/warehouse.js';
import { runStateKeys, type EventSource } from '../sources/source.js';
import type { CartlensConfig } from '../config/schema.js';
import { crashPoint } from './crash-points.js';
import { landFiles, openRunScratch, removeLeftovers, removeRunScratch, type LandedFile } from './landing.js';
import type { AssertionFailure, DateReport, QualityReport, RunReport } from './report.js';
import { resolveUserKeySecret } from './user-key.js';

/** Receives what a run is doing, for a progress bar on a terminal or plain lines elsewhere. */
export interface RunProgress {
  /** A step began; `fields` are the structured parts of the log line (run id, step, date, rows…). */
  step(message: string, fields?: Record<string, unknown>): void;
  startBytes(total: number, label: string): void;
  addBytes(bytes: number): void;
  endBytes(): void;
}

export const SILENT_PROGRESS: RunProgress = { step() {}, startBytes() {}, addBytes() {}, endBytes() {} };

export interface RunRequest {
  loaded: LoadedConfig;
  /** Dates to compute (`YYYY-MM-DD`); undefined: every date found in the input (or, with `due`, the due dates). */
  dates?: string[];
  /** Compute the due dates (docs/operations.md) instead of every date in the input. */
  due?: boolean;
  progress?: RunProgress;
  now?: () => Date;
  /** Where to publish; default: the config's `export` (a test hands one that fails like a full disk). */
  exporter?: Exporter;
}

/**
 * One run: land → clean → load → models → export. The model graph is checked before anything
 * is read; every date of the run is replaced inside one warehouse transaction, and exports are
 * published after it commits, so the files always reflect committed tables.
 */
export async function runPipeline(request: RunRequest): Promise<RunReport> {
  const { loaded } = request;
  const { config } = loaded;
  const baseProgress = request.progress ?? SILENT_PROGRESS;
  const now = request.now ?? (() => new Date());
  const startedAt = now();
  const runId = `${startedAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
  // Every log line of the run carries its id.
  const progress: RunProgress = { ...baseProgress, step: (message, fields) => baseProgress.step(message, { run_id: runId, ...fields }) };

  const plan = planModels(await readModels(), PUBLISHED_TABLE_NAMES);
  const { assertions, problems } = planAssertions(plan, PUBLISHED_TABLES, config.assertions);
  if (problems.length > 0) throw new ModelGraphError(problems);
  const source = createSource(config.source, loaded.baseDir);
  const warehouse = await openWarehouse(config.warehouse);
  let asked: string[] | undefined = request.dates;
  // The dates the run replaces, once known: a failure after that marks them failed, named or not.
  let chosen: string[] | undefined;
  try {
    await warehouse.prepareSchema();
    const purged = await purgeExpired(warehouse, source.kind === 'files' ? config.landing.dir : undefined, config.retention, now(), config.property.time_zone);
    if (purged.files > 0) progress.step(`retention: deleted ${purged.files} landed file(s) older than ${config.retention.landed_days} days`);
    if (request.due && !asked) {
      asked = dueDates(now(), config.property.time_zone, await readDays(warehouse, runStateKeys(source)), config.property.lookback_days);
      progress.step(`due: ${asked.join(', ')}`);
    }
    const landed = await stageInput(source, warehouse, config, runId, asked, progress);
    crashPoint('after-staging');
    const found = await warehouse.stagedDates();
    const { dates, missing } = chooseDates(asked, found);
    chosen = dates;
    if (dates.length === 0) {
      const seen = found.length > 0 ? `the input has ${found[0]!.date} … ${found[found.length - 1]!.date}` : 'the input has no readable event';
      throw new NoEventsError(`no events for ${missing.join(', ')} in ${source.description} (${seen})`, 'choose a date the input covers, or add that day\'s export files');
    }

    await warehouse.setUserKeySecret(await resolveUserKeySecret(config.privacy.user_key_secret, config.warehouse.type === 'duckdb' ? config.warehouse.path : undefined));
    await warehouse.prepareSchema();
    const steps = compileModels(plan, warehouse.dialect, dates);
    const fileStats = await warehouse.stagedFiles();
    progress.step(`loading ${dates.length} date(s)`, { step: 'load', dates });
    const failures = await warehouse.transaction(async () => {
      await warehouse.loadStaged(dates, runId);
      for (const step of steps) {
        progress.step(`model ${step.model}`, { step: 'model', model: step.model });
        for (const statement of step.statements) await warehouse.execute(statement);
      }
      progress.step(`checking ${assertions.length} assertions`, { step: 'assertions' });
      const found = await checkAssertions(warehouse, assertions, dates, runId);
      progress.step('committing', { step: 'commit' });
      // A timestamp taken here, not CURRENT_TIMESTAMP: inside a transaction that can be its start.
      const literal = (date: Date) => `TIMESTAMP '${date.toISOString().replace('T', ' ').replace('Z', '')}'`;
      const { dialect } = warehouse;
      await warehouse.execute(
        `INSERT INTO ${dialect.tableName('runs', false)} VALUES (${dialect.stringLiteral(runId)}, ${literal(startedAt)}, ${literal(now())}, ${dialect.stringLiteral(dates.join(','))}, ${dialect.stringLiteral(source.description)}, ${fileStats.length})`,
      );
      crashPoint('before-commit');
      return found;
    });

    const exporter = request.exporter ?? createExporter(config.export);
    const lineCounts = await warehouse.stagedLineCounts();
    const dateReports: DateReport[] = [];
    const reportOptions = { locale: config.locale, currency: config.property.currency };
    // Holding the warehouse means no other run publishes here: a killed run's temporary files can go.
    const swept = await exporter.sweepTemporaryFiles();
    if (swept.length > 0) progress.step(`deleted ${swept.length} temporary file(s) a killed run left in ${exporter.description}`);
    for (const date of dates) {
      progress.step(`publishing ${date}`, { step: 'export', date });
      const byReason = quarantinedByReason(lineCounts, date);
      const publishing = { runId, now, failures: failures.get(date) ?? [], reportOptions };
      dateReports.push(await publishDate(warehouse, exporter, date, found.find((f) => f.date === date)?.includedEvents ?? 0, byReason, publishing).catch((error: unknown) => {
        if (error instanceof CartlensError) throw error;
        const message = ((error as Error)?.message ?? String(error)).split('\n')[0];
        throw new PublishError(`publishing ${date} failed after the warehouse commit: ${message}`, 'the warehouse holds the new numbers and the files stay as they were: fix the cause and run again', false, { cause: error });
      }));
      const published = dateReports.at(-1)!;
      progress.step(`${date}: ${published.status}`, { step: 'export', date, status: published.status, rows: published.rows });
    }
    const report: RunReport = {
      run_id: runId,
      started_at: startedAt.toISOString(),
      finished_at: now().toISOString(),
      source: source.description,
      warehouse: warehouse.description,
      export_root: exporter.description,
      files: fileStats.map((f, i) => ({
        path: f.name,
        sha256: landed?.[i]?.sha256 ?? null,
        bytes: landed?.[i]?.bytes ?? null,
        lines: f.lines,
        blank_lines: f.blankLines,
      })),
      undated: {
        quarantined_by_reason: quarantinedByReason(lineCounts, null),
        duplicates: lineCounts.filter((c) => c.date === null && c.duplicate).reduce((sum, c) => sum + c.lines, 0),
      },
      dates: dateReports,
      missing_dates: missing,
    };
    for (const date of dateReports) {
      await exporter.writeJson(join('run_report', `dt=${date.date}`, `run_report_${date.date.replaceAll('-', '')}.json`), { run_id: runId, ...date });
    }
    await exporter.writeJson(join('run_report', 'last_run.json'), report);
    progress.step('closing the warehouse');
    const finishedAt = now().toISOString();
    const fingerprint = landed ? createHash('sha256').update(landed.map((f) => f.sha256).sort().join(',')).digest('hex') : null;
    const days: DayState[] = [
      ...dateReports.map((d) => {
        const final = isFinal(d.date, now(), config.property.time_zone);
        const status: DayStatus = d.status === 'published' ? (final ? 'complete' : 'provisional') : 'failed';
        const error = d.status === 'failed' ? `assertion ${d.assertion_failures.find((f) => f.blocking)?.assertion} failed` : d.status === 'no_events' ? 'no included events' : null;
        return { source: source.identity, date: d.date, status, run_id: runId, started_at: startedAt.toISOString(), finished_at: finishedAt, input_fingerprint: fingerprint, rows: d.rows, final, last_error: error };
      }),
      // A day asked for whose input is not there yet waits for it; it is due again next time.
      ...missing.map((date) => ({ source: source.identity, date, status: 'deferred' as const, run_id: runId, started_at: startedAt.toISOString(), finished_at: finishedAt, input_fingerprint: fingerprint, rows: {}, final: false, last_error: 'no events in the input yet' })),
    ];
    await recordDays(warehouse, days, runStateKeys(source).legacy);
    await notify(config, days, progress);
    return report;
  } catch (error) {
    // The days the run was for are marked failed with the reason (best effort: the run's own error wins).
    const affected = asked ?? chosen;
    if (affected && affected.length > 0) {
      const message = error instanceof CartlensError ? error.oneLine : (error as Error).message;
      const at = now().toISOString();
      const status: DayStatus = error instanceof NoEventsError ? 'deferred' : 'failed';
      const failedDays: DayState[] = affected.map((date) => ({ source: source.identity, date, status, run_id: runId, started_at: startedAt.toISOString(), finished_at: at, input_fingerprint: null, rows: {}, final: false, last_error: message }));
      await recordDays(warehouse, failedDays, runStateKeys(source).legacy).catch(() => undefined);
      await notify(config, failedDays, progress);
    }
    throw error;
  } finally {
    await warehouse.close();
    await removeRunScratch(config.landing.scratch_dir ?? join(config.landing.dir, 'scratch'), runId);
  }
}

/**
 * Gets the input into the warehouse's staging, the way the source and the warehouse allow (their
 * capabilities, not their names): files are landed, then read by a warehouse that reads landed
 * files; GA4's BigQuery export is read in place by a warehouse that can. Returns the landed files.
 */
async function stageInput(
  source: EventSource,
  warehouse: Warehouse,
  config: CartlensConfig,
  runId: string,
  dates: string[] | undefined,
  progress: RunProgress,
): Promise<LandedFile[] | undefined> {
  if (source.kind === 'bigquery-export') {
    if (!readsBigQueryExport(warehouse)) {
      throw new ConfigError(`source ${config.source.type} is read in place by BigQuery, and warehouse ${config.warehouse.type} cannot`, 'use warehouse type bigquery with this source');
    }
    await warehouse.stageBigQueryExport(source, dates, (message) => progress.step(message));
    crashPoint('after-staging');
    return undefined;
  }
  if (source.kind === 'ga4-data-api') throw new ConfigError('the ga4-data-api source publishes its own tables', 'run it with `cartlens run` (runApiPipeline), not the events pipeline');
  if (!readsLandedFiles(warehouse)) {
    throw new ConfigError(`warehouse ${config.warehouse.type} does not read landed files`, 'use source type ga4-export-bigquery with the bigquery warehouse, or warehouse type duckdb');
  }
  await source.prepare((message) => progress.step(message));
  const files = await source.listFiles();
  const landingDir = config.landing.dir;
  const scratchRoot = config.landing.scratch_dir ?? join(landingDir, 'scratch');
  // Holding the warehouse means no other run is active: leftovers of a killed run can go.
  await removeLeftovers(landingDir, scratchRoot);
  progress.startBytes(files.reduce((sum, f) => sum + f.bytes, 0), `landing ${files.length} file(s)`);
  const landed = await landFiles(files, landingDir, await openRunScratch(scratchRoot, runId), runId, (bytes) => progress.addBytes(bytes));
  progress.endBytes();
  crashPoint('after-landing');
  await warehouse.stageLandedFiles(landed, (message) => progress.step(message));
  crashPoint('after-staging');
  return landed;
}

/**
 * The dates a run replaces: those asked for (default: all) that have lines in the input. A date
 * with lines but no included event is replaced too (its old rows and files go); a requested date
 * without any line is `missing` and left as it was.
 */
function chooseDates(requested: string[] | undefined, found: { date: string; includedEvents: number }[]): { dates: string[]; missing: string[] } {
  if (requested === undefined) return { dates: found.map((f) => f.date), missing: [] };
  const present = new Set(found.map((f) => f.date));
  return { dates: requested.filter((d) => present.has(d)), missing: requested.filter((d) => !present.has(d)) };
}

/**
 * Publishes the three files of a date (when it has included events) and reports on it. The
 * date's completion marker goes first and comes back last, naming the new files: a reader never
 * takes a mix of two runs' files for a date's set.
 */
async function publishDate(
  warehouse: Warehouse,
  exporter: Exporter,
  date: string,
  includedEvents: number,
  byReason: Record<string, number>,
  { runId, now, failures, reportOptions }: { runId: string; now: () => Date; failures: AssertionFailure[]; reportOptions: DailyReportOptions },
): Promise<DateReport> {
  const quality = await qualityOf(warehouse, date, byReason);
  const files: PublishedFile[] = [];
  const rows: Record<string, number> = {};
  // A blocking failure withholds the date's files: consumers keep the last ones that passed.
  const blocked = failures.some((f) => f.blocking);
  if (!blocked) await exporter.deleteFile(completionMarkerPath(date));
  for (const table of blocked ? [] : PUBLISHED_TABLES) {
    if (includedEvents === 0) {
      // Nothing to publish: files of an earlier run for this date must not outlive its rows.
      await exporter.remove(table.name, date);
      continue;
    }
    const published = await exporter.publish(table.name, date, csvContent(table, warehouse.streamRows(exportQuery(warehouse.dialect, table, date))));
    files.push(published);
    rows[table.name] = published.rows;
    crashPoint('mid-export');
  }
  const [funnel] = includedEvents > 0 ? await warehouse.query(exportQuery(warehouse.dialect, PUBLISHED_TABLES[0]!, date)) : [];
  if (!blocked) {
    // Written after the CSVs, from the same queries, so it never shows numbers they lack.
    if (funnel) await exporter.writeText(reportPath(date), await buildDailyReport(warehouse, date, funnel, reportOptions), 'text/html; charset=utf-8');
    else await exporter.deleteFile(reportPath(date));
    if (files.length > 0) await exporter.writeJson(completionMarkerPath(date), completionMarker(runId, date, files, now()));
  }
  return {
    date,
    status: blocked ? 'failed' : includedEvents > 0 ? 'published' : 'no_events',
    assertion_failures: failures,
    rows,
    quality,
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

async function qualityOf(warehouse: Warehouse, date: string, byReason: Record<string, number>): Promise<QualityReport> {
  const [row] = await warehouse.query(`SELECT * FROM ${warehouse.dialect.tableName('quality_daily', false)} WHERE date = ${warehouse.dialect.dateLiteral(date)}`);
  const n = (key: string) => Number(row?.[key] ?? 0);
  return {
    lines: n('lines'),
    duplicates: n('duplicates'),
    quarantined: n('quarantined'),
    quarantined_by_reason: byReason,
    included_events: n('included_events'),
    events_without_session: n('events_without_session'),
    items_without_id: n('items_without_id'),
    purchases_without_transaction_id: n('purchases_without_transaction_id'),
  };
}

/** Alerts the configured webhook about the days whose status it watches (best effort: never fails the run). */
async function notify(config: CartlensConfig, days: DayState[], progress: RunProgress): Promise<void> {
  if (!config.alerts) return;
  const on = new Set<string>(config.alerts.on);
  const attention = days.filter((d) => on.has(d.status));
  if (attention.length === 0) return;
  const delivered = await sendAlert(config.alerts.webhook_url, alertFor(attention.map((d) => ({ date: d.date, status: d.status, reason: d.last_error }))), {
    retries: config.alerts.retries,
    timeoutMs: 10_000,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  });
  progress.step(delivered ? `alert sent for ${attention.length} day(s)` : 'warning: the alert could not be delivered to the webhook');
}

function quarantinedByReason(counts: StagedLineCount[], date: string | null): Record<string, number> {
  const byReason: Record<string, number> = {};
  for (const c of counts) if (c.date === date && !c.duplicate && c.reason !== null) byReason[c.reason] = (byReason[c.reason] ?? 0) + c.lines;
  return byReason;
}
