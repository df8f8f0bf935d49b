import type { LoadedConfig } from '../config/load.js';
import type { CartlensConfig } from '../config/schema.js';
import { API_TABLES, PUBLISHED_TABLES, REMARKETING_AUDIENCE, type PublishedTable } from '../exports/published-tables.js';
import { compileAssertion, planAssertions, type Assertion } from '../models/assertions.js';
import { compileModels, type CompiledStep } from '../models/compile.js';
import { API_MODELS_DIR, LOADED_RELATIONS, MODELS_DIR, planModels, readModels, type Model } from '../models/graph.js';
import { DEFAULT_REPORTS, type ReportDefinition } from '../sources/ga4-data-api/reports.js';
import { createSource } from '../sources/index.js';
import type { EventSource } from '../sources/source.js';
import type { Headline } from './published-guards.js';
import { apiDailyReport } from '../reports/api-report.js';
import { eventsDailyReport, type DailyReportBuilder } from '../reports/daily-report.js';
import { ConfigError, ModelGraphError } from '../util/errors.js';
import type { Dialect, MaterializationDialect } from '../warehouse/dialect.js';
import { dialectFor } from '../warehouse/index.js';

/** What a source's runs publish: its models, over the relations its load step fills, and its tables. */
export interface SourceOutputs {
  modelsDir: string;
  /** The relations the load step fills, which models build on. */
  loadedRelations: readonly string[];
  /** The published tables, in publishing order (each with its files and manifest per date). */
  tables: readonly PublishedTable[];
  /** Whether the config's `assertions:` apply (they name the contract's tables). */
  configAssertions: boolean;
  /** The self-contained report.html of a published date. */
  dailyReport: DailyReportBuilder;
  /**
   * The folder of the source's markers, daily reports and run reports ('' for the contract's
   * tables), so that sources sharing an export root never overwrite each other's.
   */
  namespace: '' | 'ga4_api/';
  /** What a published date is measured by when a republish would shrink it (guards.max_shrink_share). */
  headline: Headline;
}

/** The GA4 Data API reports of a config (its own list, or the default cart reports). */
export function apiReports(config: CartlensConfig): ReportDefinition[] {
  return config.source.type === 'ga4-data-api' ? (config.source.reports ?? DEFAULT_REPORTS) : [];
}

/** What each kind of source publishes: events feed the contract's tables, the Data API its own. */
export function outputsOf(source: EventSource, config: CartlensConfig): SourceOutputs {
  if (source.kind === 'ga4-data-api') {
    return { modelsDir: API_MODELS_DIR, loadedRelations: apiReports(config).map((r) => `raw_ga4_api_${r.name}`), tables: API_TABLES, configAssertions: false, dailyReport: apiDailyReport, namespace: 'ga4_api/', headline: { table: 'ga4_api_funnel_daily', column: 'sessions' } };
  }
  // The remarketing audience is built and published only when the config asks for it.
  const tables = config.export.remarketing_audience ? [...PUBLISHED_TABLES, REMARKETING_AUDIENCE] : PUBLISHED_TABLES;
  return { modelsDir: MODELS_DIR, loadedRelations: LOADED_RELATIONS, tables, configAssertions: true, dailyReport: eventsDailyReport, namespace: '', headline: { table: 'cart_funnel_daily', column: 'sessions' } };
}

export interface Calendar {
  timeZone: string;
  lookbackDays: number;
}

/** The Data API source keeps its own clock settings (source.time_zone, source.lookback_days); the others use `property`. */
export function calendarOf(config: CartlensConfig): Calendar {
  return config.source.type === 'ga4-data-api'
    ? { timeZone: config.source.time_zone, lookbackDays: config.source.lookback_days }
    : { timeZone: config.property.time_zone, lookbackDays: config.property.lookback_days };
}

export interface PlanStep {
  kind: 'extract' | 'land' | 'clean' | 'load' | 'model' | 'assert' | 'publish' | 'report' | 'state';
  what: string;
}

/**
 * A run as data, before anything runs: the source, the dialect, the models in dependency order,
 * the assertions and the ordered steps. `run` executes it; `plan` prints its steps, `compile` its
 * SQL and `validate` its problems — so no command rebuilds a plan or a dialect on its own.
 */
export interface RunPlan {
  config: CartlensConfig;
  source: EventSource;
  /** The property's clock: "yesterday", "final", the lookback window and the due dates. */
  calendar: Calendar;
  /** Whether a model publishes `user_key` (the HMAC key must then be set). */
  usesUserKey: boolean;
  outputs: SourceOutputs;
  dialect: Dialect & MaterializationDialect;
  models: Model[];
  assertions: Assertion[];
  steps: PlanStep[];
}

/** Plans a run of a config; every graph and assertion problem is collected, then thrown together. */
export async function planRun(loaded: LoadedConfig): Promise<RunPlan> {
  const { config } = loaded;
  const source = createSource(config.source, loaded.baseDir);
  const outputs = outputsOf(source, config);
  const tableNames = outputs.tables.map((t) => t.name);
  // A published model whose table the config does not publish is left out (the audience, when off).
  const optional = new Set([REMARKETING_AUDIENCE.name].filter((name) => !tableNames.includes(name)));
  const models = planModels((await readModels(outputs.modelsDir)).filter((m) => !optional.has(m.name)), tableNames, outputs.loadedRelations);
  const { assertions, problems } = planAssertions(models, outputs.tables, outputs.configAssertions ? config.assertions : []);
  if (problems.length > 0) throw new ModelGraphError(problems);
  const exportRoot = config.export.type === 'local' ? config.export.dir : `gs://${config.export.bucket}/${config.export.prefix}`;
  // Any prefix that `_raw/…` starts with (``, `_`, `_raw/`…) would grant BI readers the raw pages.
  const prefix = config.export.type === 'gcs' ? config.export.prefix : undefined;
  if (source.kind === 'ga4-data-api' && prefix !== undefined && ('_raw/ga4-api/'.startsWith(prefix) || prefix.startsWith('_raw/'))) {
    // BI readers are granted the export prefix: with none, they would see the raw pages under _raw/.
    throw new ConfigError(`export.prefix "${prefix}" would hold the GA4 Data API pages, which land under _raw/ in the same bucket`, 'set export.prefix to a folder of its own (e.g. exports/): BI readers are granted only that prefix, never _raw/');
  }
  const landing = config.export.type === 'gcs' && source.kind === 'ga4-data-api' ? `gs://${config.export.bucket}/_raw/ga4-api/` : `${config.landing.dir}/ga4-api/`;
  const extraction: PlanStep[] =
    source.kind === 'ga4-data-api'
      ? [
          { kind: 'extract', what: `${source.description}: ${apiReports(config).map((r) => r.name).join(', ')} per date, paged, quota-aware` },
          { kind: 'land', what: `every response page unchanged with its request, under ${landing}` },
          { kind: 'load', what: `raw_ga4_api_${apiReports(config).map((r) => r.name).join(', raw_ga4_api_')} — the run's dates, in one transaction` },
        ]
      : [
          { kind: 'extract', what: source.description },
          ...(source.kind === 'files' ? [{ kind: 'land' as const, what: `unchanged, content-addressed, into ${config.landing.dir}/objects` }] : []),
          { kind: 'clean', what: "dedupe identical lines, quarantine with reasons, sessions (the contract's rules)" },
          { kind: 'load', what: "stg_events, stg_event_items, quarantined_events, quality_daily — the run's dates, in one transaction" },
        ];
  const steps: PlanStep[] = [
    ...extraction,
    ...models.map((m): PlanStep => ({ kind: 'model', what: `${m.name} (${m.materialized}) ← ${m.dependsOn.join(', ')}` })),
    ...assertions.map((a): PlanStep => ({ kind: 'assert', what: `${a.name} (${a.severity}${a.blocking ? ', blocks the export' : ''}): ${a.kind} ${a.args}` })),
    { kind: 'publish', what: `${tableNames.join(', ')} → ${exportRoot}, after the commit, for dates whose blocking assertions passed; _SUCCESS/${outputs.namespace}dt=<date>.json last` },
    { kind: 'report', what: `report/${outputs.namespace}dt=<date>/report.html and run_report/ under ${exportRoot}` },
    { kind: 'state', what: 'run_state per day (complete, provisional, deferred, failed), then alerts' },
  ];
  const usesUserKey = models.some((m) => /\{\{\s*user_key\(/.test(m.sql));
  return { config, source, calendar: calendarOf(config), usesUserKey, outputs, dialect: dialectFor(config.warehouse), models, assertions, steps };
}

/** The SQL of a plan's model steps and assertions for `dates`, as `cartlens compile` prints and `run` executes it. */
export function compilePlan(plan: Pick<RunPlan, 'models' | 'assertions'>, dialect: Dialect & MaterializationDialect, dates: readonly string[]): { models: CompiledStep[]; assertions: { name: string; sql: string }[] } {
  return {
    models: compileModels(plan.models, dialect, dates),
    assertions: plan.assertions.map((a) => ({ name: a.name, sql: compileAssertion(a, dialect, dates) })),
  };
}
