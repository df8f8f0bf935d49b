/** One input file of a run. Input order is the order of these files sorted by path. */
export interface InputFile {
  path: string;
  bytes: number;
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
