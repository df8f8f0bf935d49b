import { LATEST_DATE } from '../util/dates.js';
import { addDays, localDate } from '../util/dates.js';
import type { BigQueryExportSource, Ga4FileName } from '../sources/source.js';
import type { Dialect, MaterializationDialect } from './dialect.js';

/** A file landed for a run: the unchanged copy, and the plain-text copy the warehouse reads. */
export interface LandedFile {
  /** Position in input order (files sorted by path). */
  index: number;
  sourcePath: string;
  sha256: string;
  bytes: number;
  /** What its name says: the day, and daily or intraday (ga4FileName): with intraday input, which of the two a date is computed from. */
  named: Ga4FileName;
  /** The landed, unchanged copy (content-addressed, kept for re-derivation and replay). */
  landedPath: string;
  /**
   * Decompressed, line ends normalized (NormalizeLineEnds): scratch, deleted after the run. Written
   * only for a file with a line the JSON reader may not read where it lies (LINE_SUSPECT in
   * src/util/line-index.ts), or that it cannot read as landed; `readPath` says which.
   */
  plainPath: string;
  /** What the warehouse's JSON reader reads: `landedPath` as it is, or the scratch copy `plainPath`. */
  readPath: string;
  /** The file's line index (src/util/line-index.ts, CSV): scratch, deleted after the run. */
  lineIndexPath: string;
  /**
   * Why the file is not read (a .gz past landing.max_expansion_ratio), in one line naming it.
   * The landed copy is kept all the same; the scratch copy is empty, so the file has no lines.
   */
  refused?: string;
}

/** A date of the staged input. */
export interface StagedDate {
  date: string;
  includedEvents: number;
  /** What the date's lines come from: GA4's daily export, or (source.intraday, no daily input for it yet) its intraday data. */
  input: 'daily' | 'intraday';
  /** Lines of the other kind of input for the date, left out (never both: intraday lines of a daily date, stray daily lines of an intraday one). */
  leftOut: number;
}

/** Lines of the staged files by date (null: unreadable), quarantine reason (null: included) and duplicate flag. */
export interface StagedLineCount {
  date: string | null;
  reason: string | null;
  duplicate: boolean;
  lines: number;
}

/** A row as JSON-safe values: big integers and decimals come back as strings, exactly. */
export type Row = Record<string, string | number | boolean | null>;

/**
 * A warehouse: runs SQL and owns the run's staging. Differences between warehouses are data
 * (`dialect`, `capabilities`), never `if (name === …)` in callers.
 */
export interface Warehouse {
  readonly dialect: Dialect & MaterializationDialect;
  readonly description: string;
  execute(sql: string): Promise<void>;
  query(sql: string): Promise<Row[]>;
  /** Streams a query's rows in batches, values as JSON-safe text, without holding them all. */
  streamRows(sql: string): AsyncIterable<(string | null)[][]>;
  /** Runs `work` in one transaction: everything it wrote commits together or not at all. */
  transaction<T>(work: () => Promise<T>): Promise<T>;
  /** Makes the HMAC key for `user_key` available to the models (session state, never SQL text). */
  setUserKeySecret(secret: Buffer): Promise<void>;
  /** Dates that lines of the staged input belong to (readable event_date), ascending. */
  stagedDates(): Promise<StagedDate[]>;
  /** Counts of the staged lines, for the run report. */
  stagedLineCounts(): Promise<StagedLineCount[]>;
  /** Each staged input (a file, or an export table) with its physical and blank lines, in input order. */
  stagedFiles(): Promise<{ name: string; lines: number; blankLines: number }[]>;
  /** Creates the warehouse's own tables when missing. */
  prepareSchema(): Promise<void>;
  /** Replaces the given dates' staged events, items, quarantined lines and quality counts. */
  loadStaged(dates: readonly string[], runId: string): Promise<void>;
  close(): Promise<void>;
}

/** Lines of one staged file for one date (first copies only: duplicates are not counted). */
export interface StagedFileDateLines {
  sourceFile: string;
  sha256: string;
  date: string;
  lines: number;
}

/** A warehouse that reads landed files (DuckDB reads them from local disk). */
export interface LandedFileReader {
  /** The staged lines with a date, per file and date (first copies only). */
  stagedLinesByFile(): Promise<StagedFileDateLines[]>;
  /**
   * Reads the landed files into the run's staging and applies the contract's line-level
   * cleaning (docs/architecture.md); `runStartedAt` bounds the event dates accepted (latestEventDate).
   */
  stageLandedFiles(files: LandedFile[], runStartedAt: Date, onStep?: (message: string, step: string) => void): Promise<void>;
}

/** A warehouse that reads GA4's BigQuery export in place. */
export interface BigQueryExportReader {
  /**
   * Stages the export tables of `dates` (all days found when undefined), applying the contract's
   * cleaning in SQL; only the tables of those days are read. `runStartedAt` bounds the event
   * dates accepted (latestEventDate).
   */
  stageBigQueryExport(source: BigQueryExportSource, dates: readonly string[] | undefined, runStartedAt: Date, onStep?: (message: string) => void): Promise<void>;
  /** The dates among `dates` whose daily export table (`events_YYYYMMDD`) exists, read nothing else (extract mode). */
  exportTableDates(source: BigQueryExportSource, dates: readonly string[]): Promise<string[]>;
}

/**
 * The latest `event_date` a run accepts (Cleaning 2: an event cannot come from the future): the
 * day after the UTC date the run started on, and never past the dates cartlens handles.
 */
export function latestEventDate(runStartedAt: Date): string {
  const dayAfter = addDays(localDate(runStartedAt, 'UTC'), 1);
  return dayAfter < LATEST_DATE ? dayAfter : LATEST_DATE;
}

export function readsLandedFiles(warehouse: Warehouse): warehouse is Warehouse & LandedFileReader {
  return typeof (warehouse as Partial<LandedFileReader>).stageLandedFiles === 'function';
}

export function readsBigQueryExport(warehouse: Warehouse): warehouse is Warehouse & BigQueryExportReader {
  return typeof (warehouse as Partial<BigQueryExportReader>).stageBigQueryExport === 'function';
}

/** A warehouse that loads landed GA4 Data API response pages into raw report tables. */
export interface ApiPageReader {
  /** Where it reads landed pages from: local files (DuckDB) or Cloud Storage objects (BigQuery load jobs). */
  readonly landedPages: 'local' | 'gcs';
  /**
   * Before the run's transaction (DDL and load jobs cannot run in one): creates the report's raw
   * table when missing and makes the landed pages readable by SQL.
   */
  stageApiPages(load: ApiPagesLoad): Promise<void>;
  /**
   * Replaces `date` in `raw_ga4_api_<report>` with the rows of the landed pages (one column per
   * dimension and metric, snake_case; metrics as exact decimals), and records the fetch.
   */
  loadApiPages(load: ApiPagesLoad): Promise<void>;
  /** Dates of `property` whose every report was fetched when already final. */
  finalApiDates(property: string, reports: readonly string[]): Promise<Set<string>>;
}

export interface ApiPagesLoad {
  property: string;
  report: { name: string; dimensions: string[]; metrics: string[] };
  date: string;
  /** The landed pages: file paths, or `gs://` URIs, as `landedPages` says. */
  pageFiles: string[];
  runId: string;
  rowCount: number;
  tokens: number;
  final: boolean;
  quality: unknown;
}

export function readsApiPages(warehouse: Warehouse): warehouse is Warehouse & ApiPageReader {
  return typeof (warehouse as Partial<ApiPageReader>).loadApiPages === 'function';
}

