import { createHash, randomBytes } from 'node:crypto';
import type { BigQueryExportSource } from '../../sources/source.js';
import { ConfigError, InputError } from '../../util/errors.js';
import type { ApiPageReader, ApiPagesLoad, BigQueryExportReader, Row, StagedDate, StagedLineCount, Warehouse } from '../warehouse.js';
import { latestEventDate } from '../warehouse.js';
import type { Dialect, MaterializationDialect } from '../dialect.js';
import { BigQueryDialect } from './bigquery-dialect.js';
import { BigQueryJobs, type BigQueryLike } from './bigquery-jobs.js';
import {
  exportDataset,
  exportTablesOfSql,
  exportTablesToRead,
  type ExportTableSuffixes,
  LEAVE_OUT_OTHER_INPUT_SQL,
  LEFT_OUT_SQL,
  finalApiDatesSql,
  listExportTablesSql,
  loadApiPagesSql,
  loadSql,
  rawReportTableSql,
  readExportSql,
  schemaSql,
  stageExportSql,
  STAGED_DATES_SQL,
  STAGED_LINE_COUNTS_SQL,
  STAGED_TABLES_SQL,
} from './staging-sql.js';

export interface BigQueryWarehouseOptions {
  project: string;
  location: string;
  stagingDataset: string;
  martsDataset: string;
  maximumBytesBilled: number;
  apiEndpoint?: string;
}

/**
 * BigQuery as the warehouse, the engine that scales: every statement is a query job of the run's
 * BigQuery session (so temporary tables and the run's transaction span jobs), under a
 * deterministic job id and the cost guard. Reads GA4's export in place; does not read files.
 */
export class BigQueryWarehouse implements Warehouse, BigQueryExportReader, ApiPageReader {
  readonly landedPages = 'gcs';
  readonly dialect: BigQueryDialect;
  private readonly jobs: BigQueryJobs;
  /** Job ids are `cartlens_<run>_<n>`: one per statement of this run, in order. */
  private readonly run = `${new Date().toISOString().slice(0, 10).replaceAll('-', '')}_${randomBytes(4).toString('hex')}`;
  private statement = 0;
  private userKeyParams: Record<string, Buffer> = {};
  private exportDataset = '';
  /** Whether the run's staging read intraday tables (then _run_left_out exists). */
  private readIntraday = false;

  /** `dialect`: the run's (dialectFor of the same config), whose datasets are the options'. */
  constructor(
    client: BigQueryLike,
    private readonly options: BigQueryWarehouseOptions,
    dialect: Dialect & MaterializationDialect,
  ) {
    // The run's dialect, built once (dialectFor): another warehouse's would be a caller's bug.
    if (!(dialect instanceof BigQueryDialect)) throw new Error(`a BigQuery warehouse writes GoogleSQL, not ${dialect.name}'s`);
    this.dialect = dialect;
    this.jobs = new BigQueryJobs(client, { location: options.location, maximumBytesBilled: options.maximumBytesBilled, session: true });
  }

  /**
   * With Application Default Credentials (or no credentials against an emulator's endpoint).
   * Google's client library is loaded here, not with the module: the embedded path never needs it.
   */
  static async open(options: BigQueryWarehouseOptions, dialect: Dialect & MaterializationDialect): Promise<BigQueryWarehouse> {
    const { BigQuery } = await import('@google-cloud/bigquery');
    const client = new BigQuery({ projectId: options.project, location: options.location, ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}) });
    return new BigQueryWarehouse(client, options, dialect);
  }

  get description(): string {
    return `BigQuery ${this.options.project} (${this.options.location})`;
  }

  async execute(sql: string): Promise<void> {
    await this.runJob(sql);
  }

  async query(sql: string): Promise<Row[]> {
    return (await this.runJob(sql)).map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, plain(v)])));
  }

  async *streamRows(sql: string): AsyncIterable<(string | null)[][]> {
    const rows = await this.query(sql);
    for (let i = 0; i < rows.length; i += 2048) {
      yield rows.slice(i, i + 2048).map((row) => Object.values(row).map((v) => (v === null ? null : String(v))));
    }
  }

  async transaction<T>(work: () => Promise<T>): Promise<T> {
    await this.execute('BEGIN TRANSACTION');
    try {
      const result = await work();
      await this.execute('COMMIT TRANSACTION');
      return result;
    } catch (error) {
      await this.execute('ROLLBACK TRANSACTION').catch(() => undefined);
      throw error;
    }
  }

  async setUserKeySecret(secret: Buffer): Promise<void> {
    const block = Buffer.alloc(64);
    (secret.length > 64 ? createHash('sha256').update(secret).digest() : secret).copy(block);
    this.userKeyParams = {
      cartlens_user_key_ipad: Buffer.from(block.map((b) => b ^ 0x36)),
      cartlens_user_key_opad: Buffer.from(block.map((b) => b ^ 0x5c)),
    };
  }

  async stageBigQueryExport(source: BigQueryExportSource, dates: readonly string[] | undefined, runStartedAt: Date, onStep?: (message: string) => void): Promise<void> {
    this.exportDataset = exportDataset(source.project, source.dataset);
    const tables = await this.tablesOfRun(source, dates, onStep);
    onStep?.(`reading ${this.exportDataset}${tables.intraday.length > 0 ? ` (intraday tables for ${tables.intraday.length} date(s) without a daily one)` : ''}`);
    await this.execute(stageExportSql(readExportSql(this.exportDataset, tables), latestEventDate(runStartedAt)));
    this.readIntraday = tables.intraday.length > 0;
    if (this.readIntraday) await this.execute(LEAVE_OUT_OTHER_INPUT_SQL);
  }

  async exportTableDates(source: BigQueryExportSource, dates: readonly string[]): Promise<string[]> {
    if (dates.length === 0) return [];
    const rows = await this.query(exportTablesOfSql(exportDataset(source.project, source.dataset), dates.map((d) => d.replaceAll('-', ''))));
    const present = new Set(rows.map((r) => String(r.table_name)));
    return dates.filter((d) => present.has(`events_${d.replaceAll('-', '')}`));
  }

  /** The bytes the read of the export would process (a dry run: free, nothing runs). */
  async dryRunExportRead(source: BigQueryExportSource, dates: readonly string[] | undefined): Promise<number> {
    const dataset = exportDataset(source.project, source.dataset);
    return this.jobs.dryRun({ runId: this.run, step: 'read_export', sql: readExportSql(dataset, await this.tablesOfRun(source, dates)) });
  }

  /**
   * The export tables of `dates` (every daily table when undefined): the daily ones, and with
   * source.intraday the intraday table of a date that has no daily table yet. Without intraday,
   * named dates are read from their daily tables, found or not (a missing one has no rows).
   */
  private async tablesOfRun(source: BigQueryExportSource, dates: readonly string[] | undefined, onStep?: (message: string) => void): Promise<ExportTableSuffixes> {
    const dataset = exportDataset(source.project, source.dataset);
    const suffixes = dates?.map((d) => d.replaceAll('-', ''));
    if (suffixes && !source.intraday) return { daily: suffixes, intraday: [] };
    if (!suffixes) onStep?.(`listing the ${source.intraday ? 'daily and intraday' : 'daily'} tables of ${dataset}`);
    const names = await this.query(suffixes ? exportTablesOfSql(dataset, suffixes, true) : listExportTablesSql(dataset, source.intraday));
    const tables = exportTablesToRead(names.map((t) => String(t.table_name)));
    if (tables.daily.length + tables.intraday.length === 0) {
      if (suffixes) return { daily: suffixes, intraday: [] };
      throw new InputError(`no daily export tables in ${dataset}`, 'check source.project and source.dataset (analytics_<property id>)');
    }
    return tables;
  }

  async stagedDates(): Promise<StagedDate[]> {
    const rows = await this.query(STAGED_DATES_SQL);
    const leftOut = new Map(this.readIntraday ? (await this.query(LEFT_OUT_SQL)).map((r) => [String(r.date), Number(r.lines)]) : []);
    return rows.map((r) => ({ date: String(r.date), includedEvents: Number(r.included), input: r.intraday === true ? 'intraday' : 'daily', leftOut: leftOut.get(String(r.date)) ?? 0 }));
  }

  async stagedLineCounts(): Promise<StagedLineCount[]> {
    const rows = await this.query(STAGED_LINE_COUNTS_SQL);
    return rows.map((r) => ({ date: r.date === null ? null : String(r.date), reason: r.reason === null ? null : String(r.reason), duplicate: r.is_duplicate === true, lines: Number(r.lines) }));
  }

  async stagedFiles(): Promise<{ name: string; lines: number; blankLines: number }[]> {
    const rows = await this.query(STAGED_TABLES_SQL);
    return rows.map((r) => ({ name: String(r.name), lines: Number(r.lines), blankLines: 0 }));
  }

  async prepareSchema(): Promise<void> {
    await this.execute(schemaSql(this.dialect, `${this.options.project}.${this.options.stagingDataset}`));
  }

  async loadStaged(dates: readonly string[], runId: string): Promise<void> {
    await this.execute(loadSql(this.dialect, this.exportDataset, dates, runId));
  }

  async stageApiPages(load: ApiPagesLoad): Promise<void> {
    await this.execute(rawReportTableSql(this.dialect, load.report));
    if (load.pageFiles.length === 0) return;
    const notInStorage = load.pageFiles.find((uri) => !uri.startsWith('gs://'));
    if (notInStorage) throw new ConfigError(`BigQuery loads GA4 Data API pages from Cloud Storage, and ${notInStorage} is not there`, 'use export type gcs with the bigquery warehouse: the pages land under its _raw/ prefix');
    await this.jobs.load({
      runId: this.run,
      step: `pages_${load.report.name}`,
      date: load.date,
      sourceUris: load.pageFiles,
      destination: { projectId: this.options.project, datasetId: this.options.stagingDataset, tableId: 'ga4_api_pages' },
    });
  }

  async loadApiPages(load: ApiPagesLoad): Promise<void> {
    for (const statement of loadApiPagesSql(this.dialect, { ...load, fetchedAt: new Date() })) await this.execute(statement);
  }

  async finalApiDates(property: string, reports: readonly string[]): Promise<Set<string>> {
    const rows = await this.query(finalApiDatesSql(this.dialect, property, reports));
    return new Set(rows.map((r) => String(r.date)));
  }

  async close(): Promise<void> {
    // Ends the session now rather than when it idles out, dropping its temporary tables.
    await this.execute('CALL BQ.ABORT_SESSION()').catch(() => undefined);
  }

  private runJob(sql: string): Promise<Record<string, unknown>[]> {
    const params = sql.includes('@cartlens_user_key') ? this.userKeyParams : undefined;
    return this.jobs.run({ runId: this.run, step: String(++this.statement), sql, ...(params ? { params } : {}) });
  }
}

/** The client's typed values (BigQueryDate, Big, BigQueryTimestamp…) as plain JSON-safe values. */
export function plain(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'object' && 'value' in value) return String((value as { value: unknown }).value);
  return String(value);
}
