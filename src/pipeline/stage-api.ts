import { join } from 'node:path';
import type { CartlensConfig } from '../config/schema.js';
import { extractApiReports, type ApiExtraction } from '../sources/ga4-data-api/extract.js';
import { FETCHER_DEFAULTS, ReportFetcher, type ReportQuality } from '../sources/ga4-data-api/fetcher.js';
import type { PageLanding } from '../sources/ga4-data-api/page-landing.js';
import type { Ga4DataApiSource } from '../sources/source.js';
import { ConfigError } from '../util/errors.js';
import { readsApiPages, type ApiPagesLoad, type Warehouse } from '../warehouse/warehouse.js';
import { dateRange } from '../util/dates.js';
import { apiReports } from '../sources/ga4-data-api/reports.js';
import { reconcile, type Reconciliation } from './reconcile.js';
import type { StagedInput, StageContext, Staging, StagingPhase } from './staged-input.js';

/**
 * Where the Data API's pages land: the bucket's `_raw/` prefix when the warehouse loads them
 * from Cloud Storage (BigQuery), the landing folder when it reads files (DuckDB).
 */
export async function pageLandingFor(config: CartlensConfig, landedPages: 'local' | 'gcs'): Promise<PageLanding> {
  // Google's client libraries load with the Data API source, never on the embedded path's runs.
  const { GcsPageLanding, LocalPageLanding } = await import('../sources/ga4-data-api/page-landing.js');
  if (landedPages === 'local') return new LocalPageLanding(config.landing.dir);
  if (config.export.type !== 'gcs') {
    throw new ConfigError(`warehouse ${config.warehouse.type} loads GA4 Data API pages from Cloud Storage, and export.type is ${config.export.type}`, 'use export type gcs: the pages land under _raw/ in its bucket (deploy/cartlens.gcp-api.yaml)');
  }
  const { openBucket } = await import('../exports/gcs/storage-client.js');
  const bucket = openBucket({ bucket: config.export.bucket, maxRetries: config.export.max_retries, maxRetryDelaySeconds: config.export.max_retry_delay_seconds, ...(config.export.api_endpoint ? { apiEndpoint: config.export.api_endpoint } : {}), ...(config.export.project ? { projectId: config.export.project } : {}) });
  return new GcsPageLanding(bucket);
}

/**
 * The Data API's staging: `extract` fetches each asked date's reports whole; `land` keeps every
 * page unchanged and has the warehouse stage it (BigQuery: load jobs, before the transaction).
 * Inside the run's transaction each date's raw report tables are replaced. Quota deferrals and
 * already final dates come back with the staged input.
 */
export function apiStaging(source: Ga4DataApiSource, warehouse: Warehouse, context: StageContext): Staging {
  const { config, runId, progress } = context;
  if (config.source.type !== 'ga4-data-api') throw new Error('apiStaging stages the ga4-data-api source');
  const settings = config.source;
  const reports = apiReports(config);
  let extraction: ApiExtraction | undefined;
  let spent = 0;
  let staged: StagedInput | undefined;
  const phases: Record<StagingPhase, () => Promise<void>> = {
    async extract() {
      if (!readsApiPages(warehouse)) throw new ConfigError(`warehouse ${config.warehouse.type} does not load GA4 Data API pages`, 'use warehouse type duckdb or bigquery');
      const { openDataClient } = await import('../sources/ga4-data-api/data-api-client.js');
      const fetcher = new ReportFetcher(openDataClient(settings.api_endpoint), { ...FETCHER_DEFAULTS, property: source.property, pageSize: settings.page_size, tokenBudget: settings.token_budget });
      extraction = await extractApiReports(fetcher, {
        reports,
        // Without dates, the lookback window: GA4 revises those days.
        dates: context.dates ?? (context.lookbackStart <= context.yesterday ? dateRange(context.lookbackStart, context.yesterday) : []),
        // Fetched when final is not enough: a day whose publish failed after its commit is fetched and published again.
        alreadyFinal: new Set([...(await warehouse.finalApiDates(source.property, reports.map((r) => r.name)))].filter((d) => context.completed.has(d))),
        lookbackStart: context.lookbackStart,
        onStep: (message) => progress.step(message, { step: 'extract' }),
      });
      spent = fetcher.spent;
    },
    async land() {
      if (!extraction || !readsApiPages(warehouse)) throw new Error('the Data API pages are landed after their extract');
      const landing = await pageLandingFor(config, warehouse.landedPages);
      const loads = new Map<string, ApiPagesLoad[]>();
      const quality = new Map<string, Record<string, ReportQuality>>();
      for (const { date, reports: fetched } of extraction.fetched) {
        const final = context.isFinal(date);
        for (const [i, report] of fetched.entries()) {
          progress.step(`landing ${report.pages.length} page(s) of ${report.report} for ${date} in ${landing.description}`, { step: 'land', date });
          const pageFiles = await landing.land(report, { runId, property: source.property });
          const load: ApiPagesLoad = { property: source.property, report: reports[i]!, date, pageFiles, runId, rowCount: report.rowCount, tokens: report.tokens, final, quality: report.quality };
          await warehouse.stageApiPages(load);
          loads.set(date, [...(loads.get(date) ?? []), load]);
        }
        quality.set(date, Object.fromEntries(fetched.map((f) => [f.report, f.quality])));
      }
      staged = {
        found: extraction.fetched.map(({ date }) => ({ date, publishable: true })),
        deferred: extraction.deferred.map((d) => ({ ...d, kind: 'quota' as const })),
        settled: extraction.settled,
        files: [],
        fingerprint: null,
        tokensSpent: spent,
        undated: { quarantined_by_reason: {}, duplicates: 0 },
        async load(dates) {
          for (const date of dates) for (const load of loads.get(date) ?? []) await warehouse.loadApiPages(load);
        },
        async dateQuality(date) {
          return { quality: null, report_quality: quality.get(date) ?? {}, ...(await reconcileIfPossible(warehouse, date, settings.reconcile_tolerance, progress)) };
        },
        manifestExtra(date) {
          return { final: context.isFinal(date), quality: quality.get(date) ?? {} };
        },
      };
    },
    stage: () => Promise.reject(new Error('the Data API has no stage phase: its pages are loaded as they are')),
  };
  return {
    run: (phase) => phases[phase](),
    result: () => {
      if (!staged) throw new Error('the staged input was asked for before its last phase ran');
      return staged;
    },
  };
}

/** Where the local landing keeps pages, for retention (`<landing>/ga4-api/<property>/<date>/…`). */
export function localPagesDir(config: CartlensConfig): string {
  return join(config.landing.dir, 'ga4-api');
}

/** Reconciles with the export's tables when the warehouse has them for the date; warnings go to the log and the report. */
async function reconcileIfPossible(warehouse: Warehouse, date: string, tolerance: number, progress: StageContext['progress']): Promise<{ reconciliation?: Reconciliation }> {
  let reconciliation: Reconciliation;
  try {
    reconciliation = await reconcile(warehouse, date, tolerance);
  } catch {
    return {}; // no export tables in this warehouse
  }
  if (reconciliation.drifts.every((d) => d.export === 0)) return {}; // the export has not run for this date
  for (const warning of reconciliation.warnings) progress.step(`warning: ${warning}`);
  return { reconciliation };
}
