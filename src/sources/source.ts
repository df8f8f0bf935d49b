/** One input file of a run. Input order is the order of these files sorted by path. */
export interface InputFile {
  path: string;
  bytes: number;
}

/** What a GA4 export file's name says: `events_YYYYMMDD…` (daily) or `events_intraday_YYYYMMDD…`. */
export interface Ga4FileName {
  /** `YYYY-MM-DD`, or undefined when the name carries no date. */
  date: string | undefined;
  intraday: boolean;
}

/**
 * The day and kind a file's name says, as GA4's export names its tables (and so their exported
 * files, sharded or not): `events_20261103.json.gz`, `events_20261103_000000000001.json.gz`,
 * `events_intraday_20261103.json`. Any other name: daily, no date.
 */
export function ga4FileName(path: string): Ga4FileName {
  const base = path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
  const match = /^events_(intraday_)?(\d{4})(\d{2})(\d{2})(?=[_.]|$)/i.exec(base);
  if (!match) return { date: undefined, intraday: false };
  return { date: `${match[2]}-${match[3]}-${match[4]}`, intraday: match[1] !== undefined };
}

/**
 * A source of GA4 export events as files of newline-delimited JSON. The pipeline lands them
 * unchanged, then the warehouse reads the landed copies: a source only finds its files.
 */
export interface FileEventSource {
  readonly kind: 'files';
  /** Says where events come from, for messages and the run report. */
  readonly description: string;
  /**
   * What run history (run_state) is keyed on: the source itself, not how it is written in the
   * config, so editing a glob keeps `status` and `--due`. See runStateKeys.
   */
  readonly identity: string;
  /**
   * Whether GA4's intraday files (`events_intraday_YYYYMMDD…`) are read (source.intraday): a
   * date without daily input is then computed from them, provisional. Off: they are left out.
   */
  readonly intraday: boolean;
  /** Makes the input available (the demo generates it); a no-op for real files. */
  prepare(onProgress?: (message: string) => void): Promise<void>;
  /** The input files, sorted by path. Fails with an InputError when there are none. */
  listFiles(): Promise<InputFile[]>;
}

/**
 * GA4's BigQuery export, read in place by a BigQuery warehouse: `project.dataset.events_YYYYMMDD`,
 * one table per day. Nothing is landed: the export tables are themselves immutable per day.
 */
export interface BigQueryExportSource {
  readonly kind: 'bigquery-export';
  readonly description: string;
  readonly identity: string;
  readonly project: string;
  readonly dataset: string;
  /** Whether a date without its daily table is read from `events_intraday_YYYYMMDD` (source.intraday), provisional. */
  readonly intraday: boolean;
}

export type EventSource = FileEventSource | BigQueryExportSource | Ga4DataApiSource;

/**
 * GA4's Data API: reports (dimensions × metrics), not events. A run of this source fetches each
 * report per date, lands every response page, and publishes its own tables (ga4_api_*).
 */
export interface Ga4DataApiSource {
  readonly kind: 'ga4-data-api';
  readonly description: string;
  readonly identity: string;
  readonly property: string;
}

/** Whether a source reads GA4's intraday data (source.intraday): then today is due too, and dates without daily data are published provisional. */
export function readsIntraday(source: EventSource): boolean {
  return (source.kind === 'files' || source.kind === 'bigquery-export') && source.intraday;
}

/** Where a source's days are kept in run_state: its identity, and the key of rows recorded before (see runStateKeys). */
export interface RunStateKeys {
  identity: string;
  legacy?: string | undefined;
}

/**
 * The run_state keys of a source: its identity, and the description that keyed its rows before
 * (releases up to 0.x keyed them on the glob text). Rows under `legacy` are read until the day is
 * recorded again, which moves it to `identity`.
 */
export function runStateKeys(source: { identity: string; description: string }): Required<RunStateKeys> {
  return { identity: source.identity, legacy: source.description };
}
