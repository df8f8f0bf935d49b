import type { LoadedConfig } from '../config/load.js';
import type { CartlensConfig } from '../config/schema.js';
import { API_TABLES, PUBLISHED_TABLES, REMARKETING_AUDIENCE, type PublishedTable } from '../contract/tables.js';
import { compileAssertion, planAssertions, type Assertion } from '../models/assertions.js';
import { compileModels, type CompiledStep } from '../models/compile.js';
import { API_MODELS_DIR, LOADED_RELATIONS, MODELS_DIR, planModels, readModels, type Model } from '../models/graph.js';
import { apiReports } from '../sources/ga4-data-api/reports.js';
import { createSource } from '../sources/index.js';
import { readsIntraday, type EventSource } from '../sources/source.js';
import type { Headline } from './published-guards.js';
import { stagingPhases, type RunMode, type StagingPhase } from './staged-input.js';
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

/**
 * One step of a run, typed: the run executes exactly these, in this order, and records each one's
 * status and seconds in the run report (`steps`). `name` is unique within a plan.
 */
export type RunStep = { name: string; what: string } & (
  | PlainStep<'open' | 'retention' | StagingPhase | 'user-key' | 'load' | 'commit' | 'republish' | 'anomalies' | 'record' | 'alert' | 'report'>
  | { kind: 'model'; model: Model }
  | { kind: 'assert'; assertion: Assertion }
  /** `date` undefined: each date the staging found (the dates are not known before the run). */
  | { kind: 'publish'; date: string | undefined }
);

/** A step that is its kind alone, one type per kind (so that a step narrows by its kind). */
type PlainStep<K extends string> = K extends string ? { kind: K } : never;

/** Steps that run inside the one warehouse transaction (undone together: the shrink guard). */
export const TRANSACTION_STEPS: ReadonlySet<RunStep['kind']> = new Set(['load', 'model', 'assert', 'commit']);

/** What a run is asked to do: the mode, and the dates (named, or the due ones, or every date found). */
export interface RunAsk {
  mode?: RunMode;
  /** Dates named (`--date`, `--from/--to`, a request's body); undefined: `due`, or every date found. */
  dates?: readonly string[] | undefined;
  due?: boolean;
}

/**
 * A run as data, before anything runs: the source, the dialect, the models in dependency order,
 * the assertions and the ordered steps. `runPipeline` executes its steps; `plan` prints them,
 * `compile` its SQL and `validate` its problems — so no command rebuilds a plan or a dialect.
 */
export interface RunPlan {
  config: CartlensConfig;
  mode: RunMode;
  source: EventSource;
  /** The property's clock: "yesterday", "final", the lookback window and the due dates. */
  calendar: Calendar;
  /** Whether a model publishes `user_key` (the HMAC key must then be set). */
  usesUserKey: boolean;
  outputs: SourceOutputs;
  /** The one dialect of the run: the warehouse is opened with it, and every statement is written by it. */
  dialect: Dialect & MaterializationDialect;
  models: Model[];
  assertions: Assertion[];
  steps: RunStep[];
}

/** Plans a run of a config; every graph and assertion problem is collected, then thrown together. */
export async function planRun(loaded: LoadedConfig, ask: RunAsk = {}): Promise<RunPlan> {
  const { config } = loaded;
  const mode = ask.mode ?? 'run';
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
  const usesUserKey = models.some((m) => /\{\{\s*user_key\(/.test(m.sql));
  const dialect = dialectFor(config.warehouse);
  const steps = stepsOf({ config, mode, source, outputs, models, assertions, usesUserKey, exportRoot, ask });
  return { config, mode, source, calendar: calendarOf(config), usesUserKey, outputs, dialect, models, assertions, steps };
}

/** The ordered steps of a run in its mode: the only list of what a run does. */
function stepsOf(p: { config: CartlensConfig; mode: RunMode; source: EventSource; outputs: SourceOutputs; models: Model[]; assertions: Assertion[]; usesUserKey: boolean; exportRoot: string; ask: RunAsk }): RunStep[] {
  const { config, mode, source, outputs } = p;
  const api = source.kind === 'ga4-data-api';
  const reports = apiReports(config).map((r) => r.name);
  const landing = config.export.type === 'gcs' && api ? `gs://${config.export.bucket}/_raw/ga4-api/` : api ? `${config.landing.dir}/ga4-api/` : `${config.landing.dir}/objects`;
  const staging: Record<StagingPhase, string> = {
    extract: api ? `${source.description}: ${reports.join(', ')} per date, paged, quota-aware` : mode === 'extract' ? `${source.description}: the daily export tables of the dates` : source.description,
    land: api ? `every response page unchanged with its request, under ${landing}` : `unchanged, content-addressed, into ${landing}`,
    stage:
      mode === 'publish'
        ? `the dates ${outputs.tables[0]!.name} already has (built elsewhere: nothing is loaded or modelled)`
        : source.kind === 'bigquery-export'
          ? `${source.description}, read in place by BigQuery: dedupe identical events, quarantine with reasons, sessions (the contract's rules)`
          : "dedupe identical lines, quarantine with reasons, sessions (the contract's rules)",
  };
  // GA4's intraday data: each date from one kind of input, never both (docs/decisions.md, "Intraday input").
  if (mode === 'run' && readsIntraday(source)) staging.stage += '; each date from its daily data, else (provisional) from its intraday data, never both';
  const dates = p.ask.dates;
  const single = (kind: Extract<RunStep, { kind: string }>['kind'], what: string) => ({ kind, name: kind, what }) as RunStep;
  const steps: RunStep[] = [
    single('open', `${config.warehouse.type} warehouse: lock, schema, run state${p.ask.due ? ', the due dates' : ''}`),
    single('retention', `purge what config.retention keeps no longer (staged days, landed files${api ? ', pages' : ''})`),
    ...stagingPhases(source.kind, mode).map((phase) => single(phase, staging[phase])),
  ];
  if (mode === 'run' && p.usesUserKey) steps.push(single('user-key', 'the user_key secret, checked against the recorded fingerprint'));
  // GA4's BigQuery export in extract mode is read in place by Dataform: nothing is copied.
  const loads = mode === 'run' || (mode === 'extract' && api);
  if (loads) steps.push(single('load', api ? `raw_ga4_api_${reports.join(', raw_ga4_api_')} — the run's dates, in one transaction` : "stg_events, stg_event_items, quarantined_events, quality_daily — the run's dates, in one transaction"));
  if (mode === 'run') for (const m of p.models) steps.push({ kind: 'model', name: `model ${m.name}`, what: `${m.materialized} ← ${m.dependsOn.join(', ')}`, model: m });
  if (mode !== 'extract') for (const a of p.assertions) steps.push({ kind: 'assert', name: `assert ${a.name}`, what: `${a.severity}${a.blocking ? ', blocks the export' : ''}: ${a.kind} ${a.args}`, assertion: a });
  steps.push(single('commit', 'the run in runs, its dates marked publishing; commit'));
  if (mode !== 'extract') {
    const what = (on: string) => `${outputs.tables.map((t) => t.name).join(', ')} → ${p.exportRoot} for ${on}, if its blocking assertions passed; report/${outputs.namespace}dt=<date>/report.html; _SUCCESS/${outputs.namespace}dt=<date>.json last`;
    if (dates) for (const date of dates) steps.push({ kind: 'publish', name: `publish ${date}`, what: what(date), date });
    else steps.push({ kind: 'publish', name: 'publish', what: what(p.ask.due ? 'each due date' : 'each date found'), date: undefined });
    // cart_recoveries reads other dates: the published dates a run's carts can be recovered on get their files again.
    const reaching = p.models.find((m) => m.reach);
    if (mode === 'run' && reaching?.reach) steps.push(single('republish', `the published dates ${reaching.name} reaches from the run's dates (${reaching.reach.before} before, ${reaching.reach.after} after each), not among them: that table's file again, and the date's completion marker`));
    if (outputs.tables.some((t) => t.name === 'cart_funnel_daily')) steps.push(single('anomalies', "each published date against its weekday's last 4 weeks"));
  }
  steps.push(single('record', 'run_state per date (complete, provisional, deferred, failed), published sessions, anomaly judgements; the warehouse is closed'));
  if (config.alerts) steps.push(single('alert', `the webhook, for days that are ${config.alerts.on.join(' or ')}, and anomalies`));
  if (mode !== 'extract') steps.push(single('report', `run_report/${outputs.namespace}dt=<date>/ per date and the last run's report, under ${p.exportRoot}`));
  return steps;
}

/** The SQL of a plan's model steps and assertions for `dates`, as `cartlens compile` prints and `run` executes it. */
export function compilePlan(plan: Pick<RunPlan, 'models' | 'assertions'>, dialect: Dialect & MaterializationDialect, dates: readonly string[], reached?: readonly string[]): { models: CompiledStep[]; assertions: { name: string; sql: string }[] } {
  return {
    // `reached`: the dates a model with a reach is computed for (the run's, and those around them with staged events).
    models: compileModels(plan.models, dialect, dates, reached ? () => reached : undefined),
    assertions: plan.assertions.map((a) => ({ name: a.name, sql: compileAssertion(a, dialect, dates) })),
  };
}
