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
 * each whole or not at all (written under a temporary name, then moved into place), with
 * `manifest.json` written last beside it. Re-publishing a date replaces that date only.
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
  /** Deletes the file at `<root>/<relativePath>`; a missing file is not an error. */
  deleteFile(relativePath: string): Promise<void>;
}

export function csvFileName(table: string, date: string): string {
  return `${table}_${date.replaceAll('-', '')}.csv`;
}
