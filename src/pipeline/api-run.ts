import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { csvContent } from '../exports/csv.js';
import { exportQuery } from '../exports/export-query.js';
import { createExporter } from '../exports/index.js';
import { API_TABLES } from '../exports/published-tables.js';
import type { PublishedFile } from '../exports/exporter.js';
import { compileModels } from '../models/compile.js';
import { API_MODELS_DIR, planModels, readModels } from '../models/graph.js';
import { openDataClient } from '../sources/ga4-data-api/data-api-client.js';
import { FETCHER_DEFAULTS, QuotaDeferral, ReportFetcher, type FetchedReport, type ReportQuality } from '../sources/ga4-data-api/fetcher.js';
import { DEFAULT_REPORTS, type ReportDefinition } from '../sources/ga4-data-api/reports.js';
import { ConfigError, ModelGraphError } from '../util/errors.js';
import { planAssertions } from '../models/assertions.js';
import { checkAssertions } from './check-assertions.js';
import type { AssertionFailure } from './report.js';
import { openWarehouse } from '../warehouse/index.js';
import { readsApiPages, type Warehouse } from '../warehouse/warehouse.js';
import { reconcile, type Reconciliation } from './reconcile.js';
import type { RunProgress, RunRequest } from './run.js';
import { SILENT_PROGRESS } from './run.js';
import { addDays, dateRange as range, localDate } from './due-dates.js';

export interface ApiDateReport {
  date: string;
  /** `published`: fetched and published; `final`: already final, not fetched again; `deferred`: left for the next run (quota); `failed`: a blocking assertion failed. */
  status: 'published' | 'final' | 'deferred' | 'failed';
  assertion_failures?: AssertionFailure[];
  final: boolean;
  quality: Record<string, ReportQuality>;
  rows: Record<string, number>;
  files: PublishedFile[];
  /** Against the export's tables in the same warehouse, when they have this date. */
  reconciliation?: Reconciliation;
}

export interface ApiRunReport {
  run_id: string;
  property: string;
  tokens_spent: number;
  dates: ApiDateReport[];
}

/**
 * A run of the GA4 Data API source: each date's reports are fetched (paged, quota-aware), every
 * response page lands unchanged with its request, the pages load into raw tables, SQL models
 * publish `ga4_api_*` in the contract's file rules, with the quality signals in the manifests.
 * Recent days (the lookback window) are fetched again on every run, because GA4 revises them;
 * older days already fetched when final are not. When the quota or the run's token budget runs
 * out, the remaining dates are deferred: the next run fetches exactly those.
 */
export async function runApiPipeline(request: RunRequest): Promise<ApiRunReport> {
  const { config } = request.loaded;
  const source = config.source;
  if (source.type !== 'ga4-data-api') throw new ConfigError('runApiPipeline runs the ga4-data-api source', 'use runPipeline for event sources');
  const progress: RunProgress = request.progress ?? SILENT_PROGRESS;
  const now = request.now ?? (() => new Date());
  const runId = `${now().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
  const reports: ReportDefinition[] = source.reports ?? DEFAULT_REPORTS;
  const today = localDate(now(), source.time_zone);
  const lookbackStart = addDays(today, -source.lookback_days);
  const dates = request.dates ?? range(lookbackStart, addDays(today, -1));
  const plan = planModels(await readModels(API_MODELS_DIR), API_TABLES.map((t) => t.name), reports.map((r) => `raw_ga4_api_${r.name}`));
  const { assertions, problems } = planAssertions(plan, API_TABLES, []);
  if (problems.length > 0) throw new ModelGraphError(problems);

  const warehouse = await openWarehouse(config.warehouse);
  try {
    if (!readsApiPages(warehouse)) throw new ConfigError(`warehouse ${config.warehouse.type} does not load GA4 Data API pages`, 'use warehouse type duckdb with the ga4-data-api source');
    await warehouse.prepareSchema();
    const alreadyFinal = await warehouse.finalApiDates(source.property, reports.map((r) => r.name));
    const fetcher = new ReportFetcher(openDataClient(source.api_endpoint), { ...FETCHER_DEFAULTS, property: source.property, pageSize: source.page_size, tokenBudget: source.token_budget });
    const exporter = createExporter(config.export);
    const results: ApiDateReport[] = [];
    let deferred = false;
    for (const date of [...dates].sort()) {
      const final = date <= addDays(today, -4); // the day ended more than 72 hours ago
      if (deferred) {
        results.push({ date, status: 'deferred', final, quality: {}, rows: {}, files: [] });
        continue;
      }
      if (alreadyFinal.has(date) && date < lookbackStart) {
        results.push({ date, status: 'final', final: true, quality: {}, rows: {}, files: [] });
        continue;
      }
      // A date is fetched whole (every report) before anything of it is loaded.
      const fetched: FetchedReport[] = [];
      try {
        for (const report of reports) {
          progress.step(`fetching ${report.name} for ${date}`);
          fetched.push(await fetcher.fetch(report, date));
        }
      } catch (error) {
        if (!(error instanceof QuotaDeferral)) throw error;
        progress.step(`${error.message}: ${date} and later dates are deferred to the next run`);
        deferred = true;
        results.push({ date, status: 'deferred', final, quality: {}, rows: {}, files: [] });
        continue;
      }
      const quality = Object.fromEntries(fetched.map((f) => [f.report, f.quality]));
      const failures = await warehouse.transaction(async () => {
        for (const [i, report] of reports.entries()) {
          const pageFiles = await landPages(join(config.landing.dir, 'ga4-api', runId, date, report.name), fetched[i]!);
          await warehouse.loadApiPages({ property: source.property, report, date, pageFiles, runId, rowCount: fetched[i]!.rowCount, tokens: fetched[i]!.tokens, final, quality: fetched[i]!.quality });
        }
        for (const step of compileModels(plan, warehouse.dialect, [date])) for (const statement of step.statements) await warehouse.execute(statement);
        return (await checkAssertions(warehouse, assertions, [date], runId)).get(date) ?? [];
      });
      if (failures.some((f) => f.blocking)) {
        progress.step(`${date}: assertion ${failures.find((f) => f.blocking)!.assertion} failed: files withheld`);
        results.push({ date, status: 'failed', final, quality, rows: {}, files: [], assertion_failures: failures });
        continue;
      }
      const files: PublishedFile[] = [];
      const rows: Record<string, number> = {};
      for (const table of API_TABLES) {
        const published = await exporter.publish(table.name, date, csvContent(table, warehouse.streamRows(exportQuery(warehouse.dialect, table, date))), { final, quality });
        files.push(published);
        rows[table.name] = published.rows;
      }
      results.push({ date, status: 'published', final, quality, rows, files, ...(await reconcileIfPossible(warehouse, date, source.reconcile_tolerance, progress)) });
    }
    const report: ApiRunReport = { run_id: runId, property: source.property, tokens_spent: fetcher.spent, dates: results };
    await exporter.writeJson(join('run_report', 'ga4_api_last_run.json'), report);
    return report;
  } finally {
    await warehouse.close();
  }
}

/** Reconciles with the export's tables when the warehouse has them for the date; warnings go to the report. */
async function reconcileIfPossible(warehouse: Warehouse, date: string, tolerance: number, progress: RunProgress): Promise<{ reconciliation?: Reconciliation }> {
  try {
    const reconciliation = await reconcile(warehouse, date, tolerance);
    if (reconciliation.drifts.every((d) => d.export === 0)) return {}; // the export has not run for this date
    for (const warning of reconciliation.warnings) progress.step(`warning: ${warning}`);
    return { reconciliation };
  } catch {
    return {}; // no export tables in this warehouse
  }
}

/** Lands each response page unchanged, with the request that produced it, one file per page. */
async function landPages(dir: string, fetched: FetchedReport): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (const [i, page] of fetched.pages.entries()) {
    const file = join(dir, `page-${String(i).padStart(5, '0')}.json`);
    await writeFile(`${file}.tmp`, JSON.stringify(page));
    await rename(`${file}.tmp`, file);
    files.push(file);
  }
  return files;
}
