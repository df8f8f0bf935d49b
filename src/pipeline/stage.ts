import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { CartlensConfig } from '../config/schema.js';
import type { BigQueryExportSource, EventSource, FileEventSource } from '../sources/source.js';
import { ConfigError, NoEventsError } from '../util/errors.js';
import { readsBigQueryExport, readsLandedFiles, type StagedLineCount, type Warehouse } from '../warehouse/warehouse.js';
import { crashPoint } from '../util/crash-points.js';
import { landFiles, openRunScratch, removeLeftovers } from './landing.js';
import { type LandedFile } from '../warehouse/warehouse.js';
import { setAsideLateLines } from './published-guards.js';
import type { DateReport, QualityReport, RunReport, SetAsideDate } from './report.js';
import type { RunProgress } from './run.js';
import { stageApiReports } from './stage-api.js';

export interface StageContext {
  config: CartlensConfig;
  runId: string;
  progress: RunProgress;
  /** The dates asked for; undefined: every date the input has. */
  dates: string[] | undefined;
  /** The first date GA4 may still revise (the lookback window's start). */
  lookbackStart: string;
  /** Yesterday in the property's time zone. */
  yesterday: string;
  /** Days whose run state is complete (published and final). */
  completed: ReadonlySet<string>;
  /** Days whose files were ever published (src/pipeline/published-guards.ts). */
  published: ReadonlySet<string>;
  /** Whether a date is final (GA4 no longer revises it). */
  isFinal(date: string): boolean;
  /** When the run started: no event may be dated after the day after its UTC date (Cleaning 2). */
  runStartedAt: Date;
}

/**
 * A source's input, extracted and staged in the warehouse, ready to load: the only part of a run
 * that differs by source. Everything before (plan, dates) and after (transaction, models,
 * assertions, publish, run state, alerts, reports) is the one run core.
 */
export interface StagedInput {
  /** The dates the run replaces; `publishable`: they get files (events: at least one included event). */
  found: { date: string; publishable: boolean }[];
  /** Dates asked for that wait for the next run, and why: no input yet (`missing`), or the quota ran out. */
  deferred: { date: string; kind: 'missing' | 'quota'; reason: string }[];
  /** Dates asked for with nothing to do: fetched before when already final. */
  settled: string[];
  /** Dates asked for without input that keep what was published, and why. */
  kept?: { date: string; reason: string }[];
  /** Final published dates that the run did not recompute, with the lines it brought for them. */
  setAside?: SetAsideDate[];
  /** Final published dates of the input that a run naming no dates left as they were. */
  unchangedFinal?: string[];
  /** Each input with what landing measured and its lines (the run report's `files`). */
  files: RunReport['files'];
  /** SHA-256 over the landed inputs, when there are files. */
  fingerprint: string | null;
  /** Quota tokens the extraction spent (the Data API). */
  tokensSpent?: number;
  undated: RunReport['undated'];
  /** Inside the run's transaction: replaces `dates` in the relations the models read. */
  load(dates: readonly string[]): Promise<void>;
  /** The input's quality for a date: line counts (events) or the API's signals per report. */
  dateQuality(date: string): Promise<Pick<DateReport, 'quality' | 'report_quality' | 'reconciliation'>>;
  /** Fields every manifest of the date carries beside the file's own. */
  manifestExtra(date: string): Record<string, unknown>;
}

/** Extracts and stages a source's input: how depends on the source, and nothing else does. */
export function stage(source: EventSource, warehouse: Warehouse, context: StageContext): Promise<StagedInput> {
  switch (source.kind) {
    case 'files':
    case 'bigquery-export':
      return stageEvents(source, warehouse, context);
    case 'ga4-data-api':
      return stageApiReports(source, warehouse, context);
    default: {
      const unknown: never = source;
      throw new Error(`unknown source kind ${(unknown as { kind: string }).kind}`);
    }
  }
}

/**
 * Publish mode: the tables were built outside the run (Dataform, an earlier run). A date asked for
 * is there when the source's first published table has a row for it; its quality is what the
 * warehouse kept (quality_daily, for event sources), and nothing is loaded.
 */
export async function stagePublished(source: EventSource, warehouse: Warehouse, context: StageContext): Promise<StagedInput> {
  const { dialect } = warehouse;
  if (!context.dates || context.dates.length === 0) throw new ConfigError('publishing needs the dates to publish', 'give --date, or --from and --to');
  const first = source.kind === 'ga4-data-api' ? 'ga4_api_funnel_daily' : 'cart_funnel_daily';
  const rows = await warehouse.query(`SELECT DISTINCT ${dialect.csvText('date', 'date')} AS date FROM ${dialect.tableName(first, false)} WHERE date IN ${dialect.dateList(context.dates)}`);
  const present = new Set(rows.map((r) => String(r.date)));
  const found = context.dates.filter((d) => present.has(d));
  if (found.length === 0) throw new NoEventsError(`no rows for ${context.dates.join(', ')} in ${first}`, 'build the tables for those dates first (Dataform, or `cartlens run`)');
  return {
    found: found.map((date) => ({ date, publishable: true })),
    deferred: context.dates.filter((d) => !present.has(d)).map((date) => ({ date, kind: 'missing' as const, reason: `no rows in ${first} yet` })),
    settled: [],
    files: [],
    fingerprint: null,
    undated: { quarantined_by_reason: {}, duplicates: 0 },
    load: async () => undefined,
    dateQuality: async (date) => ({ quality: source.kind === 'ga4-data-api' ? null : await qualityOf(warehouse, date, {}) }),
    manifestExtra: () => ({}),
  };
}

/**
 * Extract mode (`cartlens extract`) is for BigQuery, where Dataform builds the models from what it
 * loads; on DuckDB `cartlens run` extracts, models and publishes in one transaction. Refused before
 * the warehouse is opened, so nothing is touched.
 */
export function assertExtractable(config: CartlensConfig): void {
  if (config.warehouse.type !== 'bigquery') {
    throw new ConfigError(
      `extract mode loads raw data into BigQuery for Dataform to build on, and warehouse.type is ${config.warehouse.type}`,
      'use `cartlens run` (it extracts, loads, models and publishes), or set warehouse.type: bigquery',
    );
  }
}

/**
 * Extract mode: the source's raw data for the dates, in the warehouse, and nothing built on it.
 * The GA4 Data API's reports are fetched, landed and loaded into `raw_ga4_api_*` (with
 * `ga4_api_fetches`) exactly as a full run loads them. GA4's BigQuery export is in BigQuery
 * already: each date's daily table is looked for, and a date without one is missing (not ready).
 */
export async function stageExtracted(source: EventSource, warehouse: Warehouse, context: StageContext): Promise<StagedInput> {
  if (source.kind !== 'bigquery-export') return stage(source, warehouse, context);
  if (!readsBigQueryExport(warehouse)) {
    throw new ConfigError(`source ${context.config.source.type} is read in place by BigQuery, and warehouse ${context.config.warehouse.type} cannot`, 'use warehouse type bigquery with this source');
  }
  if (!context.dates || context.dates.length === 0) throw new ConfigError('extract mode needs the dates to check in the export', 'give --date, or --from and --to');
  context.progress.step(`looking for the daily export tables of ${context.dates.length} date(s) in ${source.description}`, { step: 'extract' });
  const ready = new Set(await warehouse.exportTableDates(source, context.dates));
  return {
    found: context.dates.filter((d) => ready.has(d)).map((date) => ({ date, publishable: false })),
    deferred: context.dates.filter((d) => !ready.has(d)).map((date) => ({ date, kind: 'missing' as const, reason: `GA4's daily export table events_${date.replaceAll('-', '')} is not there yet` })),
    settled: [],
    files: [],
    fingerprint: null,
    undated: { quarantined_by_reason: {}, duplicates: 0 },
    load: async () => undefined, // read in place by the models (Dataform's), never copied
    dateQuality: async () => ({ quality: null }),
    manifestExtra: () => ({}),
  };
}

/**
 * GA4 export events: files are landed, then read by a warehouse that reads landed files; GA4's
 * BigQuery export is read in place by a warehouse that can. Then the contract's cleaning, in the
 * warehouse, gives the dates the input has.
 */
async function stageEvents(source: FileEventSource | BigQueryExportSource, warehouse: Warehouse, context: StageContext): Promise<StagedInput> {
  const { runId } = context;
  const landed = await stageInput(source, warehouse, context);
  crashPoint('after-staging');
  const found = await warehouse.stagedDates();
  const asked = context.dates;
  const present = new Set(found.map((f) => f.date));
  // A final date that was published is recomputed only when named: a stray line never replaces it.
  const closed = (date: string) => context.published.has(date) && context.isFinal(date);
  const chosen = asked === undefined ? found.filter((f) => !closed(f.date)) : found.filter((f) => asked.includes(f.date));
  const missing = asked === undefined ? [] : asked.filter((d) => !present.has(d));
  const notChosen = new Set(found.filter((f) => !chosen.includes(f) && closed(f.date)).map((f) => f.date));
  const lineCounts = await warehouse.stagedLineCounts();
  const setAside = await setAsideLateLines(warehouse, source.identity, notChosen, runId, lineCounts);
  // A date asked for without input that was published keeps its files and state.
  const kept = missing.filter((d) => context.published.has(d)).map((date) => ({ date, reason: 'no events in the input for it: what was published stays' }));
  if (chosen.length === 0 && (asked !== undefined || notChosen.size === 0)) {
    const seen = found.length > 0 ? `the input has ${found[0]!.date} … ${found[found.length - 1]!.date}` : 'the input has no readable event';
    const keeps = kept.length > 0 ? `; ${kept.map((k) => k.date).join(', ')} keep${kept.length === 1 ? 's' : ''} what was published` : '';
    throw new NoEventsError(
      missing.length > 0 ? `no events for ${missing.join(', ')} in ${source.description} (${seen})${keeps}` : `no events in ${source.description} (${seen})`,
      "choose a date the input covers, or add that day's export files",
    );
  }
  const fileStats = await warehouse.stagedFiles();
  return {
    // A date with lines but no included event is replaced too: its old rows and files go.
    found: chosen.map((f) => ({ date: f.date, publishable: f.includedEvents > 0 })),
    // A date asked for whose input is not there yet waits for it; it is due again next time.
    deferred: missing.filter((d) => !context.published.has(d)).map((date) => ({ date, kind: 'missing' as const, reason: 'no events in the input yet' })),
    settled: [],
    kept,
    setAside,
    unchangedFinal: asked === undefined ? [...notChosen].sort() : [],
    files: fileStats.map((f, i) => ({ path: f.name, sha256: landed?.[i]?.sha256 ?? null, bytes: landed?.[i]?.bytes ?? null, lines: f.lines, blank_lines: f.blankLines, ...(landed?.[i]?.refused ? { refused: landed[i]!.refused } : {}) })),
    fingerprint: landed ? createHash('sha256').update(landed.map((f) => f.sha256).sort().join(',')).digest('hex') : null,
    undated: {
      quarantined_by_reason: quarantinedByReason(lineCounts, null),
      duplicates: lineCounts.filter((c) => c.date === null && c.duplicate).reduce((sum, c) => sum + c.lines, 0),
    },
    load: (dates) => warehouse.loadStaged(dates, runId),
    dateQuality: async (date) => ({ quality: await qualityOf(warehouse, date, quarantinedByReason(lineCounts, date)) }),
    manifestExtra: () => ({}),
  };
}

/** Gets the events into the warehouse's staging, as the source and the warehouse allow (capabilities, not names). */
async function stageInput(source: FileEventSource | BigQueryExportSource, warehouse: Warehouse, context: StageContext): Promise<LandedFile[] | undefined> {
  const { config, runId, progress } = context;
  if (source.kind === 'bigquery-export') {
    if (!readsBigQueryExport(warehouse)) {
      throw new ConfigError(`source ${config.source.type} is read in place by BigQuery, and warehouse ${config.warehouse.type} cannot`, 'use warehouse type bigquery with this source');
    }
    await warehouse.stageBigQueryExport(source, context.dates, context.runStartedAt, (message) => progress.step(message, { step: 'stage' }));
    return undefined;
  }
  if (!readsLandedFiles(warehouse)) {
    throw new ConfigError(`warehouse ${config.warehouse.type} does not read landed files`, 'use source type ga4-export-bigquery with the bigquery warehouse, or warehouse type duckdb');
  }
  await source.prepare((message) => progress.step(message, { step: 'extract' }));
  const files = await source.listFiles();
  const landingDir = config.landing.dir;
  const scratchRoot = config.landing.scratch_dir ?? join(landingDir, 'scratch');
  // Holding the warehouse means no other run is active: leftovers of a killed run can go.
  await removeLeftovers(landingDir, scratchRoot);
  progress.startBytes(files.reduce((sum, f) => sum + f.bytes, 0), `landing ${files.length} file(s)`);
  const landed = await landFiles(files, landingDir, await openRunScratch(scratchRoot, runId), runId, (bytes) => progress.addBytes(bytes), { maxExpansionRatio: config.landing.max_expansion_ratio });
  progress.endBytes();
  for (const file of landed) if (file.refused) progress.step(`warning: ${file.refused}`, { step: 'land' });
  crashPoint('after-landing');
  await warehouse.stageLandedFiles(landed, context.runStartedAt, (message, step) => progress.step(message, { step }));
  return landed;
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

function quarantinedByReason(counts: StagedLineCount[], date: string | null): Record<string, number> {
  const byReason: Record<string, number> = {};
  for (const c of counts) if (c.date === date && !c.duplicate && c.reason !== null) byReason[c.reason] = (byReason[c.reason] ?? 0) + c.lines;
  return byReason;
}
