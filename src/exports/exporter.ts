import type { CsvContent } from './csv.js';

/** What a publish wrote, as recorded in the manifest beside the file. */
export interface PublishedFile {
  table: string;
  date: string;
  /** Where the file is: a path or an object URL. */
  location: string;
  rows: number;
  bytes: number;
  sha256: string;
}

/**
 * Publishes CSV files in the contract's layout, `<root>/<table>/dt=<date>/<table>_<yyyymmdd>.csv`,
 * each whole or not at all (written under a temporary name, verified, then moved into place),
 * with `manifest.json` written last beside it. Re-publishing a date replaces that date only.
 * Failures are `PublishError`s that say what to fix.
 */
export interface Exporter {
  readonly description: string;
  /** `extra` goes into the manifest beside the file's own fields (e.g. data-quality signals). */
  publish(table: string, date: string, csv: CsvContent, extra?: Record<string, unknown>): Promise<PublishedFile>;
  /** Removes a date's file and manifest (a re-run found no included event for it). */
  remove(table: string, date: string): Promise<void>;
  /** Writes a JSON document at `<root>/<relativePath>`, atomically. */
  writeJson(relativePath: string, document: unknown): Promise<string>;
  /** Writes a text file (e.g. the daily report.html) at `<root>/<relativePath>`, atomically. */
  writeText(relativePath: string, text: string, contentType: string): Promise<string>;
  /** The JSON document at `<root>/<relativePath>` (a completion marker), or undefined when there is none. */
  readJson(relativePath: string): Promise<unknown>;
  /** Deletes the file at `<root>/<relativePath>`; a missing file is not an error. */
  deleteFile(relativePath: string): Promise<void>;
  /**
   * Deletes the temporary files a killed run left under the root (cartlens' own temporary names
   * only) and returns their paths. Called by a run that holds the warehouse, so no other run of
   * this export root is writing.
   */
  sweepTemporaryFiles(): Promise<string[]>;
}

export function csvFileName(table: string, date: string): string {
  return `${table}_${date.replaceAll('-', '')}.csv`;
}

/** A published CSV's path under the export root. */
export function csvPath(table: string, date: string): string {
  return `${table}/dt=${date}/${csvFileName(table, date)}`;
}

/**
 * The per-date completion marker, `_SUCCESS/dt=<date>.json` under the export root: written after
 * all of a date's files, deleted before any of them changes. A reader that sees it can read the
 * files it names (their SHA-256 tells a newer file apart); one that does not waits. The leading
 * `_` keeps it out of Hive-style readers that list `<table>/dt=…` folders. A source that publishes
 * its own tables beside the contract's keeps its markers in its own folder (`namespace`, e.g.
 * `ga4_api/`), so two sources sharing an export root never take each other's marker.
 */
export function completionMarkerPath(date: string, namespace = ''): string {
  return `_SUCCESS/${namespace}dt=${date}.json`;
}

export interface CompletionMarker {
  date: string;
  run_id: string;
  published_at: string;
  /** Event sources: whether the date was computed from GA4's intraday data (then provisional), as each of its manifests says. */
  provisional?: boolean;
  source?: 'daily' | 'intraday';
  /** Each table's file of the date, with the figures its manifest holds. */
  files: { table: string; path: string; rows: number; bytes: number; sha256: string }[];
}

export function completionMarker(runId: string, date: string, files: PublishedFile[], publishedAt: Date, extra: Record<string, unknown> = {}): CompletionMarker {
  return {
    date,
    run_id: runId,
    published_at: publishedAt.toISOString(),
    ...extra,
    files: files.map((f) => ({ table: f.table, path: csvPath(f.table, f.date), rows: f.rows, bytes: f.bytes, sha256: f.sha256 })),
  };
}
