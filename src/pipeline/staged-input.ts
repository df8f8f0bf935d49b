import type { CartlensConfig } from '../config/schema.js';
import type { EventSource } from '../sources/source.js';
import type { RunProgress } from './progress.js';
import type { DateReport, RunReport, SetAsideDate } from './report.js';

/** What a run does: everything (`run`), only publish tables built elsewhere, or only extract raw data. */
export type RunMode = 'run' | 'publish' | 'extract';

/**
 * The parts of getting a source's input into the warehouse, in this order; a source has the ones
 * it needs (`stagingPhases`). `extract`: read or fetch from the source; `land`: keep it unchanged
 * (files, API pages); `stage`: clean it into the warehouse's staging and find its dates.
 */
export type StagingPhase = 'extract' | 'land' | 'stage';

/**
 * The staging phases a source goes through in a mode: the plan lists them and the run runs them,
 * both from here.
 */
export function stagingPhases(sourceKind: EventSource['kind'], mode: RunMode): StagingPhase[] {
  if (mode === 'publish') return ['stage'];
  switch (sourceKind) {
    case 'files':
      return ['extract', 'land', 'stage'];
    case 'bigquery-export':
      // Read in place by BigQuery: its cleaning reads the export (run); extract mode only looks for the daily tables.
      return mode === 'extract' ? ['extract'] : ['stage'];
    case 'ga4-data-api':
      return ['extract', 'land'];
  }
}

/** A source's staging, phase by phase: the run calls `run` for each phase of `stagingPhases`, then `result`. */
export interface Staging {
  run(phase: StagingPhase): Promise<void>;
  /** The staged input, once the last phase has run. */
  result(): StagedInput;
}

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
  /** Published days whose last publish was computed from intraday data: provisional, never final, until their daily data comes. */
  publishedFromIntraday: ReadonlySet<string>;
  /** Whether a date is final (GA4 no longer revises it). */
  isFinal(date: string): boolean;
  /** When the run started: no event may be dated after the day after its UTC date (Cleaning 2). */
  runStartedAt: Date;
}

/** A date the run replaces. */
export interface FoundDate {
  date: string;
  /** It gets files (events: at least one included event). */
  publishable: boolean;
  /** What it is computed from: GA4's daily data, or (source.intraday) its intraday data, provisional. Absent: daily. */
  input?: 'daily' | 'intraday';
  /** Lines of the other kind of input for the date, left out (never both kinds for a date). */
  leftOut?: number;
}

/**
 * A source's input, extracted and staged in the warehouse, ready to load: the only part of a run
 * that differs by source. Everything before (plan, dates) and after (transaction, models,
 * assertions, publish, run state, alerts, reports) is the one run core.
 */
export interface StagedInput {
  /** The dates the run replaces; `publishable`: they get files (events: at least one included event). */
  found: FoundDate[];
  /** Input files left out unread, with why (GA4's intraday files while source.intraday is off). */
  ignoredFiles?: string[];
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

