// `cartlens dev gcp`: a local BigQuery (ZetaSQL's reference engine computing every statement)
// and a local Cloud Storage on one port, with GA4 export files loaded as the export's daily
// tables. The real Google client libraries talk to it through their `apiEndpoint`, so the Google
// Cloud path of cartlens runs end to end without an account (docs/google-cloud.md).
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { glob } from 'tinyglobby';
import { InputError } from '../../util/errors.js';
import { BigQueryApi } from './bigquery-api.js';
import { GA4_EXPORT_COLUMNS } from './ga4-export-schema.js';
import { LocalBigQuery } from './local-bigquery.js';
import { LocalStorage } from './local-storage.js';
import { readNdjson, type SkippedLine } from './ndjson.js';
import type { Column } from './types.js';
import { toJson, type Value } from './values.js';
import { REQUEST_LIMIT_BYTES, ZetaSqlEngine } from './zetasql-engine.js';

export interface LocalGcpOptions {
  /** Where GA4's export is: the source's `project` and `dataset` of the config. */
  project: string;
  dataset: string;
  /** Keep each Cloud Storage object as a file `<storageDir>/<bucket>/<object name>` (else in memory only). */
  storageDir?: string;
  location?: string;
}

export interface LoadedFile {
  file: string;
  /** `project.dataset.events_YYYYMMDD` (or `events_intraday_YYYYMMDD`). */
  table: string;
  rows: number;
  /** Lines that could not be rows of the table (invalid JSON, a value of the wrong type), with why. */
  skipped: SkippedLine[];
  blankLines: number;
  /** Fields the lines had that GA4's export schema has not: a table cannot hold them, so they are left out. */
  unknownFields: string[];
  /** About what staging these rows sends the engine (LARGEST_RUN_BYTES bounds a run's). */
  stagedBytes: number;
}

export const GA4_EXPORT_TABLE_COLUMNS: Column[] = GA4_EXPORT_COLUMNS.map(([name, type]) => ({ name, type, required: false }));

/**
 * What one run can stage, by stagedBytes(): cartlens reads all of a run's days in one statement
 * and dedupes them in the next, which sends every row with its JSON to the engine in one request
 * (REQUEST_LIMIT_BYTES). stagedBytes() overestimates that request by about 5% (measured with the
 * demo's rows: 2,850 estimated against 2,700 sent per row), so the whole limit is usable. Above
 * it, the engine's own message names the statement that fails.
 */
export const LARGEST_RUN_BYTES = REQUEST_LIMIT_BYTES - 64 * 1024;

export class LocalGcp {
  readonly storage: LocalStorage;
  readonly bigquery: LocalBigQuery;
  readonly api: BigQueryApi;
  private server: Server | undefined;

  private constructor(
    private readonly engine: ZetaSqlEngine,
    readonly options: LocalGcpOptions,
  ) {
    this.storage = new LocalStorage(options.storageDir);
    this.bigquery = new LocalBigQuery(engine, options.location ?? 'US');
    this.api = new BigQueryApi(this.bigquery, this.storage);
    this.bigquery.createDataset(options.project, options.dataset);
  }

  /** Starts ZetaSQL's engine (throws with the reason on a machine that cannot run it). */
  static async create(options: LocalGcpOptions): Promise<LocalGcp> {
    return new LocalGcp(await ZetaSqlEngine.start(), options);
  }

  /**
   * Loads GA4 export files (`events_YYYYMMDD.json[.gz]`, newline-delimited JSON) as the export's
   * daily tables, each row as a BigQuery load job reads it; lines that cannot be rows are
   * skipped and reported. A file whose rows alone exceed what one run can stage fails.
   */
  async loadExportFiles(pattern: string): Promise<LoadedFile[]> {
    const files = (await glob(pattern, { absolute: true, onlyFiles: true, expandDirectories: false })).sort();
    if (files.length === 0) throw new InputError(`no GA4 export files match ${pattern}`, 'give --data a glob of events_YYYYMMDD.json.gz files (`cartlens demo --out DIR` writes some)');
    const loaded: LoadedFile[] = [];
    for (const file of files) {
      const name = /^(events(?:_intraday)?_\d{8})\.(?:json|ndjson|jsonl)(?:\.gz)?$/i.exec(basename(file));
      if (!name) throw new InputError(`${file} is not named as a GA4 export table`, 'name each file events_YYYYMMDD.json[.gz] (or events_intraday_YYYYMMDD…): its table is the name');
      const bytes = await readFile(file);
      let text: string;
      try {
        text = (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
      } catch (error) {
        throw new InputError(`${file} is not a readable gzip file: ${(error as Error).message}`, 'replace the file with a complete copy');
      }
      const read = readNdjson(text, GA4_EXPORT_TABLE_COLUMNS, { ignoreUnknownValues: true });
      const staged = stagedBytes(read.rows);
      if (staged > LARGEST_RUN_BYTES) {
        throw new InputError(
          `${file}: its ${read.rows.length} rows make ${(staged / 2 ** 20).toFixed(1)} MiB to stage, more than the ${(LARGEST_RUN_BYTES / 2 ** 20).toFixed(1)} MiB one run of the local BigQuery can (ZetaSQL's ${REQUEST_LIMIT_BYTES / 2 ** 20} MiB request limit)`,
          'use smaller days (cartlens demo --sessions-per-day 300 writes about 2,000 events a day)',
        );
      }
      const table = name[1]!.toLowerCase();
      this.bigquery.putTable(this.options.project, this.options.dataset, table, GA4_EXPORT_TABLE_COLUMNS, read.rows);
      loaded.push({ file, table: `${this.options.project}.${this.options.dataset}.${table}`, rows: read.rows.length, skipped: read.skipped, blankLines: read.blankLines, unknownFields: read.unknownFields, stagedBytes: staged });
    }
    return loaded;
  }

  /** Serves BigQuery (`/bigquery/v2`) and Cloud Storage (`/storage/v1`, `/upload/storage/v1`) on one port; returns the endpoint. */
  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    this.server = createServer((req, res) => {
      void (async () => {
        if (await this.api.handle(req, res)) return;
        if (await this.storage.handle(req, res)) return;
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 404, message: `the local Google Cloud serves /bigquery/v2 and /storage/v1, not ${req.url}` } }));
      })().catch((error: Error) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 500, message: error.message } }));
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, resolve);
    });
    return `http://${host}:${(this.server.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
    await this.engine.stop();
  }

  /**
   * A daily export table as newline-delimited JSON, each row as TO_JSON_STRING writes it, in the
   * contract's input order for export tables (Cleaning 5: event_timestamp, then FARM_FINGERPRINT
   * of that JSON, then the JSON): the same events, in the same order, for a run on files.
   */
  async exportTableLines(table: string): Promise<string> {
    const name = `\`${this.options.project}.${this.options.dataset}.${table}\``;
    const result = await this.bigquery.runScript(
      `SELECT TO_JSON_STRING(e) AS line FROM ${name} AS e ORDER BY e.event_timestamp, FARM_FINGERPRINT(TO_JSON_STRING(e)), TO_JSON_STRING(e)`,
      { project: this.options.project, parameters: [] },
    );
    return result.rows.map((row) => `${row[0]!.stringValue}\n`).join('');
  }
}

function rowJson(row: Value[], columns: Column[]): Record<string, unknown> {
  return Object.fromEntries(columns.map((c, i) => [c.name, toJson(row[i]!, c.type)]));
}

/** About what staging these rows sends in its largest request: each row's JSON beside its staged columns. */
function stagedBytes(rows: Value[][]): number {
  return rows.reduce((sum, row) => sum + JSON.stringify(rowJson(row, GA4_EXPORT_TABLE_COLUMNS)).length + 300, 0);
}
