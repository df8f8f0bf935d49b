import type { PublishedFile } from '../exports/exporter.js';
import type { AnomalyCheck } from '../reports/anomaly-check.js';
import type { ReportQuality } from '../sources/ga4-data-api/fetcher.js';
import type { Reconciliation } from './reconcile.js';
import type { PeakRss } from './timings.js';

export interface QualityReport {
  /** Non-blank lines of the input that belong to this date (duplicates and quarantined included). */
  lines: number;
  duplicates: number;
  quarantined: number;
  quarantined_by_reason: Record<string, number>;
  included_events: number;
  events_without_session: number;
  items_without_id: number;
  purchases_without_transaction_id: number;
}

export interface DateSummary {
  sessions: number;
  sessions_with_add_to_cart: number;
  abandoned_carts: number;
  cart_abandonment_rate: string | null;
  purchases: number;
  revenue: string;
  abandoned_value: string;
}

/** An assertion that found violating rows for a date. */
export interface AssertionFailure {
  assertion: string;
  model: string;
  severity: 'warn' | 'error';
  blocking: boolean;
  failing_rows: number;
  /** Up to 5 violating rows. */
  sample: Record<string, unknown>[];
}

/** Lines of a final published date that a run brought and set aside (src/pipeline/published-guards.ts). */
export interface SetAsideDate {
  date: string;
  reason: 'late_for_final_date';
  lines: number;
  /** The inputs that hold them (file paths, or export tables). */
  inputs: string[];
}

export interface DateReport {
  date: string;
  /**
   * `published`: all three files written; `no_events`: no included event, nothing published;
   * `failed`: a blocking assertion failed, the date's files were withheld.
   */
  status: 'published' | 'no_events' | 'failed';
  /** The day ended more than 72 hours ago and was computed from daily data: GA4 no longer revises it. */
  final: boolean;
  /** Computed from GA4's intraday data (source.intraday: no daily data for it yet): replaced once the daily data comes. */
  provisional: boolean;
  /** What the date was computed from, as its manifests and completion marker say. */
  source: 'daily' | 'intraday';
  /** Lines of the other kind of input for the date, left out (intraday lines of a daily date, or stray daily lines of an intraday one). */
  left_out_lines: number;
  /** Assertions that found violating rows (warnings included). */
  assertion_failures: AssertionFailure[];
  rows: Record<string, number>;
  /** The input's lines for the date (event sources); null for the Data API, which has no lines. */
  quality: QualityReport | null;
  /** The Data API's data-quality signals per report (thresholding, sampling, "(other)" rows). */
  report_quality?: Record<string, ReportQuality>;
  /** The Data API against the export's tables, when the warehouse has both for the date. */
  reconciliation?: Reconciliation;
  summary: DateSummary | null;
  files: PublishedFile[];
  /**
   * A published date of the contract's tables against the median of its weekday over the 4 weeks
   * before it (src/reports/anomaly-check.ts): not judged with the reason, or its metrics, anomalies and
   * drivers. Absent for dates not published and for the GA4 Data API source.
   */
  anomalies?: AnomalyCheck;
}

export interface RunReport {
  run_id: string;
  started_at: string;
  finished_at: string;
  source: string;
  warehouse: string;
  export_root: string;
  /** Each input (a file, or an export table) with what landing measured (files only) and its lines. */
  /** `refused`: why a file was landed but not read (a gzip bomb: docs/operations.md). */
  files: { path: string; sha256: string | null; bytes: number | null; lines: number; blank_lines: number; refused?: string }[];
  /** Lines whose date cannot be read: they belong to no date (duplicates of them included). */
  undated: { quarantined_by_reason: Record<string, number>; duplicates: number };
  dates: DateReport[];
  /** Requested dates that had no event in the input. */
  missing_dates: string[];
  /** Dates left for the next run, with why (the Data API's quota or the run's token budget ran out). */
  deferred_dates: { date: string; reason: string }[];
  /** Dates asked for that were fetched before when already final: nothing to do. */
  settled_dates: string[];
  /** Dates asked for without input whose published files and state stay as they were, and why. */
  kept_dates: { date: string; reason: string }[];
  /** Input files left out unread: GA4's intraday files (`events_intraday_…`) while source.intraday is off. */
  ignored_files: string[];
  /**
   * Final dates that were published and that a run naming no dates does not recompute, with the
   * lines this run brought for them (`late_for_final_date`): they wait for `run --date`.
   */
  set_aside: SetAsideDate[];
  /** Final dates of the input that were published before and that a run naming no dates left as they were. */
  unchanged_final_dates: string[];
  /**
   * Dates published before, not among the run's, whose `cart_recoveries` file (and completion
   * marker) was published again: the run's carts reach them (the one before each date, the 16 after).
   */
  republished_dates: string[];
  /**
   * What the run changed in dates published before (src/pipeline/restatements.ts): per date and
   * table, the run that published it before and each changed value, before and after as the CSV
   * writes it (null: no row, or an empty cell). `cart_funnel_daily` (a table of one row per date):
   * its metrics by name; the other tables: `rows`, `rows_added`, `rows_removed`, `rows_changed`
   * (the last three from "0") and `sum(<column>)` of their money and count measures. Empty when
   * nothing published changed.
   */
  restatements: Restatement[];
  /** Data API quota tokens the run spent. */
  tokens_spent?: number;
  /**
   * Extract mode only: the dates whose raw data is in the warehouse, ready for Dataform (the Data
   * API's reports fetched and loaded; GA4's daily export table there). `dates` is then empty:
   * nothing is published; `missing_dates` are the dates not ready.
   */
  ready_dates?: string[];
  /**
   * Seconds per step of the run (src/pipeline/timings.ts), in the order they began: plan, extract,
   * land, read_lines, parse_events, …, load, model, assertions, commit, export, close. The steps
   * are the `step` field of the run's log lines.
   */
  timings: Record<string, number>;
  /**
   * The process's peak resident memory during the run (DuckDB's included), in MiB, and the log
   * line of the step it was reached in: what to look at first when a run nears its machine's memory.
   */
  peak_rss: PeakRss;
  /**
   * The plan's steps as the run executed them (src/pipeline/plan.ts `RunStep`), in order: each
   * one's name, status and seconds. `skipped`: nothing to do (no date to load, a named date the
   * input lacks), with why.
   */
  steps: StepRecord[];
}

/** What a run changed in a published table's date (docs/decisions.md, "The restatement log"). */
export interface Restatement {
  date: string;
  table: string;
  /** The run that published the date (that table's file) before this one; null when not known. */
  previous_run_id: string | null;
  changes: { column: string; before: string | null; after: string | null }[];
}

/** One executed step of a run's plan. */
export interface StepRecord {
  name: string;
  kind: string;
  status: 'done' | 'skipped';
  seconds: number;
  /** Why a step was skipped. */
  reason?: string;
}

/** A run report of an event source (GA4 export files or tables): every date has its line counts. */
export type EventRunReport = Omit<RunReport, 'dates'> & { dates: (DateReport & { quality: QualityReport })[] };

/** The report as an event source's, checked: a date without line counts is not one. */
export function eventRunReport(report: RunReport): EventRunReport {
  const without = report.dates.find((d) => d.quality === null);
  if (without) throw new Error(`${without.date} has no line counts: not an event source's run report`);
  return report as EventRunReport;
}

/** The per-day table printed at the end of a run. */
export function formatRunTable(report: RunReport): string {
  // The Data API has no lines: its table shows each date's state, rows and quality signals.
  if (report.dates.some((d) => d.quality === null)) {
    return table(
      ['date', 'status', 'final', 'rows', 'quality flags'],
      report.dates.map((d) => [
        d.date,
        d.status,
        d.final ? 'final' : 'provisional',
        Object.entries(d.rows).map(([t, n]) => `${t}: ${n}`).join(', '),
        Object.entries(d.report_quality ?? {}).filter(([, q]) => q.subjectToThresholding || q.dataLossFromOtherRow || q.samplingMetadatas.length > 0).map(([r]) => r).join(', ') || '—',
      ]),
    );
  }
  return table(
    ['date', 'sessions', 'carts', 'abandon rate', 'purchases', 'revenue', 'abandoned value', 'quarantined', 'duplicates'],
    report.dates.map((d) => [
      d.provisional ? `${d.date} (intraday)` : d.date,
      String(d.summary?.sessions ?? 0),
      String(d.summary?.sessions_with_add_to_cart ?? 0),
      d.summary?.cart_abandonment_rate == null ? '—' : `${(Number(d.summary.cart_abandonment_rate) * 100).toFixed(1)}%`,
      String(d.summary?.purchases ?? 0),
      d.summary?.revenue ?? '0.00',
      d.summary?.abandoned_value ?? '0.00',
      String(d.quality?.quarantined ?? 0),
      String(d.quality?.duplicates ?? 0),
    ]),
  );
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)].join('\n');
}
