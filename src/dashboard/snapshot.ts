import { stat } from 'node:fs/promises';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { WarehouseBusyError } from '../util/errors.js';
import { duckdbString } from '../warehouse/duckdb/duckdb-dialect.js';
import { isLockConflict } from '../warehouse/duckdb/duckdb-warehouse.js';
import type { Row } from '../warehouse/warehouse.js';

/** A read-only query on the copy. */
export type Query = (sql: string) => Promise<Row[]>;

/**
 * The dashboard's copy of the published tables, held in an in-memory DuckDB.
 *
 * DuckDB lets one process write a file or several read it, never both. So the dashboard does not
 * keep the warehouse open: when the file has changed, it attaches it READ_ONLY for the moment it
 * takes to copy the published tables (a year of days: well under a second, see the benchmark),
 * then detaches. While a run holds the file, the last copy is served and marked as such; the run,
 * for its part, waits out a copy in progress (DuckDbWarehouse.open).
 * Only what the dashboard shows is copied: no user_key, no cart-level row, no quarantined line.
 */
export class WarehouseSnapshot {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly warehousePath: string,
    private readonly source: string,
  ) {}

  /** The version of the warehouse file the copy was taken from; null before the first copy. */
  private version: string | null = null;
  private lastCheck = 0;
  private refreshing: Promise<void> | null = null;
  /** When the copy was taken, and whether a run held the warehouse at the last check. */
  takenAt: Date | null = null;
  busy = false;

  static async create(warehousePath: string, source: string): Promise<WarehouseSnapshot> {
    const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
    const snapshot = new WarehouseSnapshot(instance, warehousePath, source);
    const connection = await instance.connect();
    try {
      await connection.run(EMPTY_TABLES);
    } finally {
      connection.closeSync();
    }
    return snapshot;
  }

  /**
   * Copies the warehouse again when its file changed since the last copy, checking at most every
   * `checkEveryMs`. While a run holds the file, keeps the last copy (`busy`); with no copy at all
   * yet, waits up to `firstWaitMs` for the run to let go, then fails as transient.
   */
  async refresh(options: { checkEveryMs?: number; firstWaitMs?: number } = {}): Promise<void> {
    if (Date.now() - this.lastCheck < (options.checkEveryMs ?? 1000) && this.version !== null) return;
    this.refreshing ??= this.refreshNow(options.firstWaitMs ?? 10_000).finally(() => {
      this.refreshing = null;
      this.lastCheck = Date.now();
    });
    return this.refreshing;
  }

  private async refreshNow(firstWaitMs: number): Promise<void> {
    const deadline = Date.now() + firstWaitMs;
    for (;;) {
      const version = await fileVersion(this.warehousePath);
      if (version === this.version) {
        this.busy = false;
        return;
      }
      if (version === 'missing') {
        // No run yet: nothing to show, and nothing created (the dashboard never writes).
        this.version = version;
        this.takenAt = new Date();
        this.busy = false;
        return;
      }
      try {
        await this.copy();
        this.version = version;
        this.takenAt = new Date();
        this.busy = false;
        return;
      } catch (error) {
        if (!isLockConflict(error)) throw error;
        this.busy = true;
        if (this.version !== null) return;
        if (Date.now() > deadline) {
          throw new WarehouseBusyError(`warehouse ${this.warehousePath} is held by a run`, 'the dashboard shows it as soon as the run finishes: reload in a moment', { cause: error });
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  private async copy(): Promise<void> {
    const connection = await this.instance.connect();
    try {
      await connection.run(`ATTACH ${duckdbString(this.warehousePath)} AS wh (READ_ONLY)`);
      try {
        const present = new Set(
          (await connection.runAndReadAll(`SELECT table_name FROM duckdb_tables() WHERE database_name = 'wh'`)).getRowObjectsJson().map((r) => String(r.table_name)),
        );
        // One transaction: a request sees the old copy or the new one, never half of each.
        await connection.run('BEGIN TRANSACTION');
        for (const [table, select] of Object.entries(copySelects(this.source))) {
          await connection.run(`DELETE FROM ${table}`);
          if (present.has(SOURCE_TABLE[table] ?? table)) await connection.run(`INSERT INTO ${table} BY NAME ${select}`);
        }
        await connection.run('COMMIT');
      } catch (error) {
        await connection.run('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        await connection.run('DETACH wh').catch(() => undefined);
      }
    } finally {
      connection.closeSync();
    }
  }

  /**
   * Runs one request's queries on one connection in one transaction: all of them see the same
   * copy, even if a refresh for another request commits meanwhile.
   */
  async read<T>(work: (query: Query) => Promise<T>): Promise<T> {
    const connection: DuckDBConnection = await this.instance.connect();
    try {
      await connection.run('BEGIN TRANSACTION');
      const result = await work(async (sql) => (await connection.runAndReadAll(sql)).getRowObjectsJson() as Row[]);
      await connection.run('COMMIT');
      return result;
    } finally {
      connection.closeSync();
    }
  }

  close(): void {
    this.instance.closeSync();
  }
}

/** The copied tables, typed as in the warehouse, so an empty copy answers the same queries. */
const EMPTY_TABLES = `
CREATE TABLE cart_funnel_daily (
  date DATE, sessions BIGINT, sessions_with_view_item BIGINT, sessions_with_add_to_cart BIGINT,
  sessions_with_begin_checkout BIGINT, sessions_with_purchase BIGINT, abandoned_carts BIGINT,
  cart_abandonment_rate DECIMAL(38,4), purchases BIGINT, revenue DECIMAL(38,2), abandoned_value DECIMAL(38,2));
CREATE TABLE cart_items_daily (
  date DATE, item_id VARCHAR, item_name VARCHAR, item_category VARCHAR, add_to_cart_units BIGINT,
  purchased_units BIGINT, abandoned_units BIGINT, abandoned_value DECIMAL(38,2));
CREATE TABLE abandoned_carts_by_dimension (
  date DATE, device_category VARCHAR, country VARCHAR, source VARCHAR, medium VARCHAR, carts BIGINT, value DECIMAL(38,2));
CREATE TABLE run_state (date DATE, status VARCHAR, final BOOLEAN, finished_at TIMESTAMP, last_error VARCHAR);
CREATE TABLE quality_daily (date DATE, lines BIGINT, duplicates BIGINT, quarantined BIGINT);
`;

/** The warehouse table a copied table is made from, where the names differ. */
const SOURCE_TABLE: Record<string, string> = { abandoned_carts_by_dimension: 'abandoned_carts' };

function copySelects(source: string): Record<string, string> {
  return {
    cart_funnel_daily: 'SELECT * FROM wh.cart_funnel_daily',
    cart_items_daily: 'SELECT date, item_id, item_name, item_category, add_to_cart_units, purchased_units, abandoned_units, abandoned_value FROM wh.cart_items_daily',
    // Counted per day and dimensions: a tenth of the rows, and no cart-level data at all.
    abandoned_carts_by_dimension:
      'SELECT date, device_category, country, source, medium, count(*) AS carts, sum(cart_value) AS value FROM wh.abandoned_carts GROUP BY ALL',
    // The configured source's days only: the GA4 Data API pipeline keeps its own in the same table.
    run_state: `SELECT date, status, final, finished_at, last_error FROM wh.run_state WHERE source = ${duckdbString(source)}`,
    quality_daily: 'SELECT date, lines, duplicates, quarantined FROM wh.quality_daily',
  };
}

/** Changes whenever DuckDB writes the file or its write-ahead log. */
async function fileVersion(path: string): Promise<string> {
  const part = async (file: string) => {
    const s = await stat(file).catch(() => null);
    return s ? `${s.mtimeMs}:${s.size}` : '-';
  };
  const main = await part(path);
  return main === '-' ? 'missing' : `${main}|${await part(`${path}.wal`)}`;
}
