import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { ALL_PUBLISHED_TABLES } from '../../exports/published-tables.js';
import { CartlensError, WarehouseBusyError } from '../../util/errors.js';
import type { LandedFile } from '../warehouse.js';
import type { ApiPageReader, ApiPagesLoad, LandedFileReader, Row, StagedFileDateLines, StagedLineCount, Warehouse } from '../warehouse.js';
import { DuckDbDialect, duckdbString } from './duckdb-dialect.js';
import { stageLandedFiles } from './ingest.js';
import { latestEventDate } from '../warehouse.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const sqlFile = (name: string) => readFileSync(fileURLToPath(new URL(`./${name}`, import.meta.url)), 'utf8');
const SCHEMA = sqlFile('schema.sql');
const LOAD = sqlFile('load.sql');

export interface DuckDbOptions {
  path: string;
  memoryLimit: string;
  threads?: number;
  /** How long to wait out another process's lock: the dashboard holds one for a moment per copy. */
  lockWaitMs?: number;
}

/** DuckDB's "another process holds this file" error (not any message that says "block"). */
export function isLockConflict(error: unknown): boolean {
  return /Could not set lock|Conflicting lock/i.test((error as Error)?.message ?? '');
}

/** Opens the file, trying again while another process holds its lock, up to `waitMs`. */
async function createWaitingOutReaders(path: string, settings: Record<string, string>, waitMs: number): Promise<DuckDBInstance> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return await DuckDBInstance.create(path, settings);
    } catch (error) {
      if (!isLockConflict(error) || Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** The slice of @duckdb/node-api that cartlens calls, so tests could hand in a fake. */
export type DuckDbConnectionLike = Pick<DuckDBConnection, 'run' | 'runAndReadAll' | 'stream' | 'createAppender' | 'closeSync'>;

/** The embedded warehouse: one DuckDB file, held exclusively by one cartlens process at a time. */
export class DuckDbWarehouse implements Warehouse, LandedFileReader, ApiPageReader {
  readonly dialect = new DuckDbDialect();

  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDbConnectionLike,
    readonly description: string,
  ) {}

  /**
   * Opens (creating if needed) the warehouse file. DuckDB locks the file for the process, so a
   * second run against the same warehouse fails here, before it has touched anything, once it
   * has waited `lockWaitMs` (long enough to outlast a dashboard copy, short of a run).
   */
  static async open(options: DuckDbOptions): Promise<DuckDbWarehouse> {
    await mkdir(dirname(options.path), { recursive: true });
    const settings: Record<string, string> = {
      memory_limit: options.memoryLimit,
      temp_directory: `${options.path}.tmp`,
      // Order-preserving inserts give each landed line its position (see ingest/*.sql).
      preserve_insertion_order: 'true',
    };
    if (options.threads) settings.threads = String(options.threads);
    let instance: DuckDBInstance;
    try {
      instance = await createWaitingOutReaders(options.path, settings, options.lockWaitMs ?? 5000);
    } catch (error) {
      const message = (error as Error).message;
      if (isLockConflict(error)) {
        const pid = /PID (\d+)/.exec(message)?.[1];
        throw new WarehouseBusyError(
          `warehouse ${options.path} is in use by another process${pid ? ` (pid ${pid})` : ''}`,
          'another cartlens run is working on it: wait for it to finish and run again',
          { cause: error },
        );
      }
      throw new CartlensError(`cannot open warehouse ${options.path}: ${message.split('\n')[0]}`, 'check warehouse.path and its folder permissions', false, { cause: error });
    }
    const connection = await instance.connect();
    return new DuckDbWarehouse(instance, connection, `DuckDB ${options.path}`);
  }

  async execute(sql: string): Promise<void> {
    await this.connection.run(sql);
  }

  async query(sql: string): Promise<Row[]> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRowObjectsJson() as Row[];
  }

  async *streamRows(sql: string): AsyncIterable<(string | null)[][]> {
    const result = await this.connection.stream(sql);
    for await (const batch of result.yieldRowsJson()) yield batch as (string | null)[][];
  }

  async transaction<T>(work: () => Promise<T>): Promise<T> {
    await this.connection.run('BEGIN TRANSACTION');
    try {
      const result = await work();
      await this.connection.run('COMMIT');
      return result;
    } catch (error) {
      await this.connection.run('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  async setUserKeySecret(secret: Buffer): Promise<void> {
    // HMAC(K, m) = H((K' ⊕ opad) ‖ H((K' ⊕ ipad) ‖ m)); the padded keys live in session variables.
    const block = Buffer.alloc(64);
    (secret.length > 64 ? (await import('node:crypto')).createHash('sha256').update(secret).digest() : secret).copy(block);
    const pad = (byte: number) => Buffer.from(block.map((b) => b ^ byte)).toString('hex');
    await this.connection.run(
      `SET VARIABLE cartlens_user_key_ipad = unhex('${pad(0x36)}'); SET VARIABLE cartlens_user_key_opad = unhex('${pad(0x5c)}');`,
    );
  }

  stageLandedFiles(files: LandedFile[], runStartedAt: Date, onStep?: (message: string, step: string) => void): Promise<void> {
    return stageLandedFiles(this.connection, files, latestEventDate(runStartedAt), onStep);
  }

  async stagedDates(): Promise<{ date: string; includedEvents: number }[]> {
    const rows = await this.query(`
      SELECT strftime(event_date, '%Y-%m-%d') AS date, count(*) FILTER (WHERE reason IS NULL AND NOT is_duplicate AND has_session)::BIGINT AS included
      FROM _run_settled WHERE event_date IS NOT NULL GROUP BY event_date ORDER BY event_date`);
    return rows.map((r) => ({ date: String(r.date), includedEvents: Number(r.included) }));
  }

  async stagedLineCounts(): Promise<StagedLineCount[]> {
    const rows = await this.query(`
      SELECT strftime(event_date, '%Y-%m-%d') AS date, reason, is_duplicate, count(*)::BIGINT AS lines
      FROM _run_settled GROUP BY ALL ORDER BY ALL`);
    return rows.map((r) => ({ date: r.date === null ? null : String(r.date), reason: r.reason === null ? null : String(r.reason), duplicate: r.is_duplicate === true, lines: Number(r.lines) }));
  }

  async stagedLinesByFile(): Promise<StagedFileDateLines[]> {
    const rows = await this.query(`
      SELECT f.source_file, f.landed_sha256, strftime(s.event_date, '%Y-%m-%d') AS date, count(*)::BIGINT AS lines
      FROM _run_settled AS s JOIN _run_files AS f USING (file_idx)
      WHERE s.event_date IS NOT NULL AND NOT s.is_duplicate GROUP BY ALL ORDER BY ALL`);
    return rows.map((r) => ({ sourceFile: String(r.source_file), sha256: String(r.landed_sha256), date: String(r.date), lines: Number(r.lines) }));
  }

  async stagedFiles(): Promise<{ name: string; lines: number; blankLines: number }[]> {
    const rows = await this.query(`SELECT source_file, lines, blank_lines FROM _run_files ORDER BY file_idx`);
    return rows.map((r) => ({ name: String(r.source_file), lines: Number(r.lines), blankLines: Number(r.blank_lines) }));
  }

  async prepareSchema(): Promise<void> {
    await this.connection.run(SCHEMA);
    // A published table made by an earlier release gets the columns the contract gained since.
    await this.connection.run(ALL_PUBLISHED_TABLES.flatMap((t) => this.dialect.addMissingColumns(t.name, t.columns)).join(';\n'));
  }

  async loadStaged(dates: readonly string[], runId: string): Promise<void> {
    const sql = LOAD.replaceAll('{{dates}}', () => this.dialect.dateList(dates))
      .replaceAll('{{date_array}}', () => `[${dates.map((d) => this.dialect.dateLiteral(d)).join(', ')}]::DATE[]`)
      .replaceAll('{{run_id}}', () => duckdbString(runId));
    await this.connection.run(sql);
  }

  readonly landedPages = 'local';

  /** DuckDB reads landed page files in place, inside the run's transaction. */
  async stageApiPages(): Promise<void> {}

  async loadApiPages(load: ApiPagesLoad): Promise<void> {
    const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    const dimensions = load.report.dimensions.map((name, i) => ({ name, i })).filter((d) => d.name !== 'date');
    const columns = [
      `${this.dialect.dateLiteral(load.date)} AS date`,
      ...dimensions.map((d) => `r.dimensionValues[${d.i + 1}].value AS ${this.dialect.quoteIdentifier(snake(d.name))}`),
      // DuckDB's cast reads `1_000` as 1000, BigQuery's NUMERIC as no number: NULL on both.
      ...load.report.metrics.map((name, i) => `TRY_CAST(CASE WHEN NOT contains(r.metricValues[${i + 1}].value, '_') THEN r.metricValues[${i + 1}].value END AS DECIMAL(38,9)) AS ${this.dialect.quoteIdentifier(snake(name))}`),
      `${duckdbString(load.runId)} AS run_id`,
    ];
    const table = this.dialect.quoteIdentifier(`raw_ga4_api_${load.report.name}`);
    const pages = load.pageFiles.length === 0 ? `(SELECT NULL::STRUCT(dimensionValues STRUCT(value VARCHAR)[], metricValues STRUCT(value VARCHAR)[]) AS r WHERE false)` : `(SELECT unnest(response.rows) AS r FROM read_json([${load.pageFiles.map(duckdbString).join(', ')}], columns = {response: 'STRUCT(rows STRUCT(dimensionValues STRUCT(value VARCHAR)[], metricValues STRUCT(value VARCHAR)[])[])'}))`;
    const select = `SELECT ${columns.join(', ')} FROM ${pages}`;
    await this.connection.run(`
      CREATE TABLE IF NOT EXISTS ${table} AS ${select} WHERE false;
      DELETE FROM ${table} WHERE date = ${this.dialect.dateLiteral(load.date)};
      INSERT INTO ${table} BY NAME ${select};
      CREATE TABLE IF NOT EXISTS ga4_api_fetches (
        property VARCHAR NOT NULL, report VARCHAR NOT NULL, date DATE NOT NULL, run_id VARCHAR NOT NULL,
        fetched_at TIMESTAMP NOT NULL, final BOOLEAN NOT NULL, row_count BIGINT NOT NULL, tokens BIGINT NOT NULL, quality JSON);
      DELETE FROM ga4_api_fetches WHERE property = ${duckdbString(load.property)} AND report = ${duckdbString(load.report.name)} AND date = ${this.dialect.dateLiteral(load.date)};
      INSERT INTO ga4_api_fetches VALUES (${duckdbString(load.property)}, ${duckdbString(load.report.name)}, ${this.dialect.dateLiteral(load.date)},
        ${duckdbString(load.runId)}, now()::TIMESTAMP, ${load.final}, ${load.rowCount}, ${load.tokens}, ${duckdbString(JSON.stringify(load.quality))});`);
  }

  async finalApiDates(property: string, reports: readonly string[]): Promise<Set<string>> {
    const exists = await this.query(`SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE table_name = 'ga4_api_fetches'`);
    if (Number(exists[0]?.n) === 0) return new Set();
    const rows = await this.query(`
      SELECT strftime(date, '%Y-%m-%d') AS date FROM ga4_api_fetches
      WHERE property = ${duckdbString(property)} AND final AND report IN (${reports.map(duckdbString).join(', ')})
      GROUP BY date HAVING count(DISTINCT report) = ${reports.length}`);
    return new Set(rows.map((r) => String(r.date)));
  }

  async close(): Promise<void> {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
