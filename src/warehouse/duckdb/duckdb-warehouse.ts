import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDbConnectionLike } from './connection.js';
import { CartlensError, WarehouseBusyError } from '../../util/errors.js';
import type { LandedFile } from '../warehouse.js';
import type { Dialect, MaterializationDialect } from '../dialect.js';
import type { ApiPageReader, ApiPagesLoad, LandedFileReader, Row, StagedDate, StagedFileDateLines, StagedLineCount, Warehouse } from '../warehouse.js';
import { DuckDbDialect } from './duckdb-dialect.js';
import { API_FETCHES_EXIST_SQL, finalApiDatesSql, loadApiPagesSql, loadSql, schemaSql, setUserKeyPadsSql, STAGED_DATES_SQL, STAGED_FILES_SQL, STAGED_LINE_COUNTS_SQL, STAGED_LINES_BY_FILE_SQL } from './duckdb-sql.js';
import { stageLandedFiles } from './ingest.js';
import { latestEventDate } from '../warehouse.js';

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

/** The embedded warehouse: one DuckDB file, held exclusively by one cartlens process at a time. */
export class DuckDbWarehouse implements Warehouse, LandedFileReader, ApiPageReader {
  readonly dialect: DuckDbDialect;

  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDbConnectionLike,
    readonly description: string,
    dialect: Dialect & MaterializationDialect,
  ) {
    // The run's dialect, built once (dialectFor): another warehouse's would be a caller's bug.
    if (!(dialect instanceof DuckDbDialect)) throw new Error(`a DuckDB warehouse writes DuckDB SQL, not ${dialect.name}'s`);
    this.dialect = dialect;
  }

  /**
   * Opens (creating if needed) the warehouse file. DuckDB locks the file for the process, so a
   * second run against the same warehouse fails here, before it has touched anything, once it
   * has waited `lockWaitMs` (long enough to outlast a dashboard copy, short of a run). `dialect`:
   * the run's (dialectFor).
   */
  static async open(options: DuckDbOptions, dialect: Dialect & MaterializationDialect): Promise<DuckDbWarehouse> {
    await mkdir(dirname(options.path), { recursive: true });
    const settings: Record<string, string> = {
      memory_limit: options.memoryLimit,
      temp_directory: `${options.path}.tmp`,
      // Order-preserving inserts give each landed line its position (see ingest/*.sql).
      preserve_insertion_order: 'true',
      // Freed memory goes back to the system as the run goes, not when a thread next allocates:
      // without it a 10M-event day peaked ~200 MiB higher in the models (docs/benchmark.md).
      allocator_background_threads: 'true',
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
    return new DuckDbWarehouse(instance, connection, `DuckDB ${options.path}`, dialect);
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
    await this.connection.run(setUserKeyPadsSql(pad(0x36), pad(0x5c)));
  }

  stageLandedFiles(files: LandedFile[], runStartedAt: Date, onStep?: (message: string, step: string) => void): Promise<void> {
    return stageLandedFiles(this.connection, files, latestEventDate(runStartedAt), onStep);
  }

  async stagedDates(): Promise<StagedDate[]> {
    const rows = await this.query(STAGED_DATES_SQL);
    return rows.map((r) => ({ date: String(r.date), includedEvents: Number(r.included), input: r.intraday === true ? 'intraday' : 'daily', leftOut: Number(r.left_out) }));
  }

  async stagedLineCounts(): Promise<StagedLineCount[]> {
    const rows = await this.query(STAGED_LINE_COUNTS_SQL);
    return rows.map((r) => ({ date: r.date === null ? null : String(r.date), reason: r.reason === null ? null : String(r.reason), duplicate: r.is_duplicate === true, lines: Number(r.lines) }));
  }

  async stagedLinesByFile(): Promise<StagedFileDateLines[]> {
    const rows = await this.query(STAGED_LINES_BY_FILE_SQL);
    return rows.map((r) => ({ sourceFile: String(r.source_file), sha256: String(r.landed_sha256), date: String(r.date), lines: Number(r.lines) }));
  }

  async stagedFiles(): Promise<{ name: string; lines: number; blankLines: number }[]> {
    const rows = await this.query(STAGED_FILES_SQL);
    return rows.map((r) => ({ name: String(r.source_file), lines: Number(r.lines), blankLines: Number(r.blank_lines) }));
  }

  async prepareSchema(): Promise<void> {
    for (const script of schemaSql(this.dialect)) await this.connection.run(script);
  }

  async loadStaged(dates: readonly string[], runId: string): Promise<void> {
    await this.connection.run(loadSql(this.dialect, dates, runId));
  }

  readonly landedPages = 'local';

  /** DuckDB reads landed page files in place, inside the run's transaction. */
  async stageApiPages(): Promise<void> {}

  async loadApiPages(load: ApiPagesLoad): Promise<void> {
    await this.connection.run(loadApiPagesSql(this.dialect, load));
  }

  async finalApiDates(property: string, reports: readonly string[]): Promise<Set<string>> {
    const exists = await this.query(API_FETCHES_EXIST_SQL);
    if (Number(exists[0]?.n) === 0) return new Set();
    const rows = await this.query(finalApiDatesSql(this.dialect, property, reports));
    return new Set(rows.map((r) => String(r.date)));
  }

  async close(): Promise<void> {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
