import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { CartlensConfig } from '../config/schema.js';
import { ga4FileName, type BigQueryExportSource, type EventSource, type FileEventSource, type InputFile } from '../sources/source.js';
import { ConfigError, InputError, NoEventsError } from '../util/errors.js';
import { readsBigQueryExport, readsLandedFiles, type LandedFile, type LandedFileReader, type StagedLineCount, type Warehouse } from '../warehouse/warehouse.js';
import { crashPoint } from '../util/crash-points.js';
import { datesWithRowsSql, qualityOfDateSql } from '../warehouse/state-sql.js';
import { landFilesOnThread } from './landing-thread.js';
import { openRunScratch, removeLeftovers } from './run-scratch.js';
import { setAsideLateLines } from './published-guards.js';
import type { QualityReport } from './report.js';
import { apiStaging } from './stage-api.js';
import type { RunMode, StageContext, StagedInput, Staging, StagingPhase } from './staged-input.js';

/**
 * A source's staging in a mode, phase by phase (staged-input.ts `stagingPhases`): how its input is
 * extracted and staged depends on the source and the mode, and nothing else does.
 */
export function stagingFor(source: EventSource, warehouse: Warehouse, context: StageContext, mode: RunMode): Staging {
  if (mode === 'publish') return singlePhase('stage', () => stagePublished(source, warehouse, context));
  switch (source.kind) {
    case 'files':
      return fileStaging(source, warehouse, context);
    case 'bigquery-export':
      return mode === 'extract' ? singlePhase('extract', () => findExportTables(source, warehouse, context)) : singlePhase('stage', async () => stageEvents(source, warehouse, context, await stageBigQueryExport(source, warehouse, context)));
    case 'ga4-data-api':
      return apiStaging(source, warehouse, context);
  }
}

/** A staging of one phase, whose work gives the staged input. */
function singlePhase(only: StagingPhase, work: () => Promise<StagedInput>): Staging {
  let staged: StagedInput | undefined;
  return {
    async run(phase) {
      if (phase !== only) throw new Error(`this staging has no ${phase} phase`);
      staged = await work();
    },
    result: () => staged ?? notStaged(),
  };
}

function notStaged(): never {
  throw new Error('the staged input was asked for before its last phase ran');
}

/** GA4 export files: listed (the demo first writes its own), landed unchanged, then read and cleaned by a warehouse that reads landed files. */
function fileStaging(source: FileEventSource, warehouse: Warehouse, context: StageContext): Staging {
  const { config, runId, progress } = context;
  const landingDir = config.landing.dir;
  const scratchRoot = config.landing.scratch_dir ?? join(landingDir, 'scratch');
  let files: InputFile[] = [];
  let ignored: string[] = [];
  let landed: LandedFile[] = [];
  let reader: LandedFileReader | undefined;
  let staged: StagedInput | undefined;
  const phases: Record<StagingPhase, () => Promise<void>> = {
    async extract() {
      if (!readsLandedFiles(warehouse)) {
        throw new ConfigError(`warehouse ${config.warehouse.type} does not read landed files`, 'use source type ga4-export-bigquery with the bigquery warehouse, or warehouse type duckdb');
      }
      reader = warehouse;
      await source.prepare((message) => progress.step(message, { step: 'extract' }));
      const listed = await source.listFiles();
      // GA4's intraday files are read only when asked for (source.intraday): they hold the same events as the daily ones.
      files = listed.filter((f) => source.intraday || !ga4FileName(f.path).intraday);
      ignored = listed.filter((f) => !files.includes(f)).map((f) => f.path);
      if (ignored.length > 0) progress.step(`left out ${ignored.length} intraday file(s) (events_intraday_…): source.intraday is off`, { step: 'extract' });
      if (files.length === 0) throw new InputError(`the only input files are GA4 intraday files (${ignored.slice(0, 3).join(', ')}${ignored.length > 3 ? ', …' : ''}), and source.intraday is off`, 'set source.intraday: true to publish them as provisional, or add the daily export files');
    },
    async land() {
      // Holding the warehouse means no other run is active: leftovers of a killed run can go.
      await removeLeftovers(landingDir, scratchRoot);
      progress.startBytes(files.reduce((sum, f) => sum + f.bytes, 0), `landing ${files.length} file(s)`);
      landed = await landFilesOnThread(files, landingDir, await openRunScratch(scratchRoot, runId), runId, (bytes) => progress.addBytes(bytes), { maxExpansionRatio: config.landing.max_expansion_ratio });
      progress.endBytes();
      for (const file of landed) if (file.refused) progress.step(`warning: ${file.refused}`, { step: 'land' });
      crashPoint('after-landing');
    },
    async stage() {
      if (!reader) throw new Error('landed files are staged after their extract');
      await reader.stageLandedFiles(landed, context.runStartedAt, (message, step) => progress.step(message, { step }));
      staged = { ...(await stageEvents(source, warehouse, context, landed)), ignoredFiles: ignored };
    },
  };
  return { run: (phase) => phases[phase](), result: () => staged ?? notStaged() };
}

/**
 * Publish mode: the tables were built outside the run (Dataform, an earlier run). A date asked for
 * is there when the source's first published table has a row for it; its quality is what the
 * warehouse kept (quality_daily, for event sources), and nothing is loaded.
 */
async function stagePublished(source: EventSource, warehouse: Warehouse, context: StageContext): Promise<StagedInput> {
  const { dialect } = warehouse;
  if (!context.dates || context.dates.length === 0) throw new ConfigError('publishing needs the dates to publish', 'give --date, or --from and --to');
  const first = source.kind === 'ga4-data-api' ? 'ga4_api_funnel_daily' : 'cart_funnel_daily';
  const rows = await warehouse.query(datesWithRowsSql(dialect, first, context.dates));
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
    // Tables built elsewhere (Dataform) are built from GA4's daily tables only.
    manifestExtra: () => (source.kind === 'ga4-data-api' ? {} : finality('daily')),
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
 * Extract mode of GA4's BigQuery export, which is in BigQuery already: each date's daily table is
 * looked for, and a date without one is missing (not ready). (The GA4 Data API's reports are
 * fetched, landed and loaded exactly as a full run loads them.)
 */
async function findExportTables(source: BigQueryExportSource, warehouse: Warehouse, context: StageContext): Promise<StagedInput> {
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
async function stageEvents(source: FileEventSource | BigQueryExportSource, warehouse: Warehouse, context: StageContext, landed: LandedFile[] | undefined): Promise<StagedInput> {
  const { runId } = context;
  crashPoint('after-staging');
  const found = await warehouse.stagedDates();
  const asked = context.dates;
  const present = new Set(found.map((f) => f.date));
  // A final date that was published is recomputed only when named: a stray line never replaces it.
  // One published from intraday data is never final: its daily data is awaited, however late.
  const closed = (date: string) => context.published.has(date) && context.isFinal(date) && !context.publishedFromIntraday.has(date);
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
    found: chosen.map((f) => ({ date: f.date, publishable: f.includedEvents > 0, input: f.input, leftOut: f.leftOut })),
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
    // Every file and the completion marker say whether the date is provisional (computed from intraday data).
    manifestExtra: (date) => finality(chosen.find((f) => f.date === date)?.input ?? 'daily'),
  };
}

/** What a date's manifests and completion marker say about its input (issue 23): intraday data is provisional. */
export function finality(input: 'daily' | 'intraday'): { provisional: boolean; source: 'daily' | 'intraday' } {
  return { provisional: input === 'intraday', source: input };
}

/** GA4's BigQuery export, cleaned in place by a warehouse that can read it. */
async function stageBigQueryExport(source: BigQueryExportSource, warehouse: Warehouse, context: StageContext): Promise<undefined> {
  const { config, progress } = context;
  if (!readsBigQueryExport(warehouse)) {
    throw new ConfigError(`source ${config.source.type} is read in place by BigQuery, and warehouse ${config.warehouse.type} cannot`, 'use warehouse type bigquery with this source');
  }
  await warehouse.stageBigQueryExport(source, context.dates, context.runStartedAt, (message) => progress.step(message, { step: 'stage' }));
  return undefined;
}

async function qualityOf(warehouse: Warehouse, date: string, byReason: Record<string, number>): Promise<QualityReport> {
  const [row] = await warehouse.query(qualityOfDateSql(warehouse.dialect, date));
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
