import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { WarehouseBusyError } from '../util/errors.js';
import { isLockConflict } from '../warehouse/duckdb/duckdb-warehouse.js';
import type { Row } from '../warehouse/warehouse.js';
import type { RunStateKeys } from '../pipeline/run-state.js';

/** A read-only query on the copy. */
export type Query = (sql: string) => Promise<Row[]>;

/** One copied table: its name in the copy, the warehouse table it is read from, and how. */
export interface CopiedTable {
  table: string;
  from: string;
  /** The SELECT on the warehouse, given the table's qualified name and a string literal writer. */
  select(qualified: string, literal: (value: string) => string): string;
}

/**
 * Where the copy comes from: the DuckDB warehouse file (copy-from-duckdb.ts) or BigQuery
 * (copy-from-bigquery.ts). Each reads only; neither creates the warehouse.
 */
export interface SnapshotSource {
  readonly description: string;
  /** How often, at most, to ask whether the warehouse changed. */
  readonly checkEveryMs: number;
  /** Whether asking is free, so that the copy is kept current in the background (DuckDB: a stat). */
  readonly watch: boolean;
  /** Changes whenever a run changed the warehouse; `missing` while there is none. */
  version(): Promise<string>;
  /** Makes the warehouse readable from `into` for one copy (DuckDB: attached READ_ONLY until `close`). */
  open(into: DuckDBConnection): Promise<SnapshotReader>;
}

export interface SnapshotReader {
  /** Inserts the table's rows into its (empty) copy in `into`. */
  insert(table: CopiedTable): Promise<void>;
  close(): Promise<void>;
}

/**
 * The dashboard's copy of the published tables, held in an in-memory DuckDB, so that the
 * dashboard never holds the warehouse (DuckDB lets one process write a file or several read it,
 * never both) and never pays BigQuery for a page view. The copy is taken again when the
 * warehouse has changed. While a run holds a DuckDB file, the last copy is served and marked as
 * such; the run, for its part, waits out a copy in progress (warehouse.lock_wait_seconds).
 * Only what the dashboard shows is copied: no user_key, no cart-level row, no quarantined line.
 */
export class WarehouseSnapshot {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly source: SnapshotSource,
    private readonly tables: readonly CopiedTable[],
  ) {}

  /** The version of the warehouse the copy was taken from; null before the first copy. */
  private version: string | null = null;
  private lastCheck = 0;
  private refreshing: Promise<void> | null = null;
  /** When the copy was taken, and whether a run held the warehouse at the last look. */
  takenAt: Date | null = null;
  busy = false;
  /** Why the last look at the warehouse failed (the last copy is served meanwhile); null when it did not. */
  stale: string | null = null;

  /**
   * `runSource`: the run_state keys of the configured source (its identity, and a legacy key), whose days the status table shows.
   * `copied`: what the copy holds (the events' tables, or the GA4 Data API's: the view's).
   */
  static async create(source: SnapshotSource, runSource: string | RunStateKeys, copied: CopiedTableSet = EVENTS_COPY): Promise<WarehouseSnapshot> {
    const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
    const connection = await instance.connect();
    try {
      await connection.run(copied.emptyTables);
    } finally {
      connection.closeSync();
    }
    return new WarehouseSnapshot(instance, source, copied.tables(typeof runSource === 'string' ? { identity: runSource } : runSource));
  }

  /**
   * Copies the warehouse again when it changed since the last copy, asking at most every
   * `source.checkEveryMs`. While a run holds it, keeps the last copy (`busy`); with no copy at
   * all yet, waits up to FIRST_COPY_WAIT_MS for the run to let go, then fails as transient.
   */
  async refresh(): Promise<void> {
    if (this.version !== null && Date.now() - this.lastCheck < this.source.checkEveryMs) return;
    this.refreshing ??= this.refreshNow().finally(() => {
      this.refreshing = null;
      this.lastCheck = Date.now();
    });
    return this.refreshing;
  }

  private async refreshNow(): Promise<void> {
    const deadline = Date.now() + FIRST_COPY_WAIT_MS;
    for (;;) {
      try {
        const version = await this.source.version();
        if (version !== this.version) {
          // With no warehouse yet there is nothing to copy, and nothing is created.
          if (version !== 'missing') await this.copy();
          this.version = version;
          this.takenAt = new Date();
        }
        this.busy = false;
        this.stale = null;
        return;
      } catch (error) {
        if (!isLockConflict(error)) {
          // A failed look (BigQuery down, a permission withdrawn) keeps the last copy on screen.
          if (this.version === null) throw error;
          this.stale = (error as Error).message.split('\n')[0]!;
          process.stderr.write(`dashboard: could not refresh from ${this.source.description}: ${this.stale}\n`);
          return;
        }
        this.busy = true;
        if (this.version !== null) return;
        if (Date.now() > deadline) {
          throw new WarehouseBusyError(`${this.source.description} is held by a run`, 'the dashboard shows it as soon as the run finishes: reload in a moment', { cause: error });
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  private async copy(): Promise<void> {
    const connection = await this.instance.connect();
    try {
      const reader = await this.source.open(connection);
      try {
        // One transaction: a request sees the old copy or the new one, never half of each.
        await connection.run('BEGIN TRANSACTION');
        for (const table of this.tables) {
          await connection.run(`DELETE FROM ${table.table}`);
          await reader.insert(table);
        }
        await connection.run('COMMIT');
      } catch (error) {
        await connection.run('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        await reader.close();
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

  /**
   * Takes the first copy now rather than at the first page view, and, where looking is free,
   * keeps it current in the background, so that page views do not wait for a copy.
   */
  startWatching(): void {
    const look = () => this.refresh().catch((error: unknown) => process.stderr.write(`dashboard: ${(error as Error).message.split('\n')[0]}\n`));
    void look();
    if (this.source.watch) {
      this.watcher = setInterval(look, this.source.checkEveryMs);
      this.watcher.unref();
    }
  }

  private watcher: NodeJS.Timeout | undefined;

  /** Stops watching, lets a copy in progress finish, and frees the copy. */
  async close(): Promise<void> {
    clearInterval(this.watcher);
    await this.refreshing?.catch(() => undefined);
    this.instance.closeSync();
  }
}

/** How long a page waits for its very first copy while a run holds the warehouse. */
const FIRST_COPY_WAIT_MS = 10_000;

/**
 * What a copy holds: the tables, created empty and typed as in the warehouse (so an empty copy
 * answers the same queries), and how each is read from the warehouse. One set per view.
 */
export interface CopiedTableSet {
  emptyTables: string;
  tables(runSource: RunStateKeys): CopiedTable[];
}

const RUN_STATE_TABLE = 'CREATE TABLE run_state (date DATE, status VARCHAR, final BOOLEAN, last_error VARCHAR);';

/** The events' copied tables. */
const EVENTS_EMPTY_TABLES = `
CREATE TABLE cart_funnel_daily (
  date DATE, sessions BIGINT, sessions_with_view_item BIGINT, sessions_with_add_to_cart BIGINT,
  sessions_with_begin_checkout BIGINT, sessions_with_purchase BIGINT, abandoned_carts BIGINT,
  cart_abandonment_rate DECIMAL(38,4), purchases BIGINT, revenue DECIMAL(38,2), abandoned_value DECIMAL(38,2));
CREATE TABLE cart_items_daily (
  date DATE, item_id VARCHAR, item_name VARCHAR, item_category VARCHAR, add_to_cart_units BIGINT,
  purchased_units BIGINT, abandoned_units BIGINT, abandoned_value DECIMAL(38,2));
CREATE TABLE abandoned_carts_by_dimension (
  date DATE, device_category VARCHAR, country VARCHAR, source VARCHAR, medium VARCHAR, ads_consent VARCHAR, purchased_later BOOLEAN,
  carts BIGINT, value DECIMAL(38,2));
${RUN_STATE_TABLE}
CREATE TABLE quality_daily (date DATE, lines BIGINT, duplicates BIGINT, quarantined BIGINT);
`;

const table = (name: string, from: string, select: CopiedTable['select']): CopiedTable => ({ table: name, from, select });

/** Plain SQL that DuckDB and BigQuery both read the same way. */
function eventsTables(runSource: RunStateKeys): CopiedTable[] {
  return [
    table(
      'cart_funnel_daily',
      'cart_funnel_daily',
      (t) =>
        `SELECT date, sessions, sessions_with_view_item, sessions_with_add_to_cart, sessions_with_begin_checkout, sessions_with_purchase, abandoned_carts, cart_abandonment_rate, purchases, revenue, abandoned_value FROM ${t}`,
    ),
    table('cart_items_daily', 'cart_items_daily', (t) => `SELECT date, item_id, item_name, item_category, add_to_cart_units, purchased_units, abandoned_units, abandoned_value FROM ${t}`),
    // Counted per day and dimensions: a tenth of the rows, and no cart-level data at all.
    table(
      'abandoned_carts_by_dimension',
      'abandoned_carts',
      (t) =>
        `SELECT date, device_category, country, source, medium, ads_consent, purchased_later, COUNT(*) AS carts, SUM(cart_value) AS value FROM ${t} GROUP BY date, device_category, country, source, medium, ads_consent, purchased_later`,
    ),
    runStateTable(runSource),
    table('quality_daily', 'quality_daily', (t) => `SELECT date, lines, duplicates, quarantined FROM ${t}`),
  ];
}

/** The events' copy: the contract's tables, abandoned carts counted, the source's run_state and quality_daily. */
export const EVENTS_COPY: CopiedTableSet = { emptyTables: EVENTS_EMPTY_TABLES, tables: eventsTables };

/**
 * The GA4 Data API's copy: its two tables with only the columns the dashboard shows (never
 * total_purchasers, which is not additive and is not shown), and the source's run_state.
 */
export const API_COPY: CopiedTableSet = {
  emptyTables: `
CREATE TABLE ga4_api_funnel_daily (
  date DATE, device_category VARCHAR, country VARCHAR, session_source_medium VARCHAR, sessions BIGINT,
  add_to_carts BIGINT, checkouts BIGINT, ecommerce_purchases BIGINT, purchase_revenue DECIMAL(38,2));
CREATE TABLE ga4_api_items_daily (
  date DATE, item_id VARCHAR, item_name VARCHAR, item_category VARCHAR, items_added_to_cart BIGINT, items_purchased BIGINT, item_revenue DECIMAL(38,2));
${RUN_STATE_TABLE}
`,
  tables: (runSource) => [
    table(
      'ga4_api_funnel_daily',
      'ga4_api_funnel_daily',
      (t) => `SELECT date, device_category, country, session_source_medium, sessions, add_to_carts, checkouts, ecommerce_purchases, purchase_revenue FROM ${t}`,
    ),
    table('ga4_api_items_daily', 'ga4_api_items_daily', (t) => `SELECT date, item_id, item_name, item_category, items_added_to_cart, items_purchased, item_revenue FROM ${t}`),
    runStateTable(runSource),
  ],
};

/**
 * The configured source's days only: the GA4 Data API pipeline keeps its own in the same table.
 * A day recorded under the legacy key (the glob text) counts until it is recorded again under the identity.
 */
function runStateTable(runSource: RunStateKeys): CopiedTable {
  return table('run_state', 'run_state', (t, literal) =>
    runSource.legacy === undefined || runSource.legacy === runSource.identity
      ? `SELECT date, status, final, last_error FROM ${t} WHERE source = ${literal(runSource.identity)}`
      : `SELECT date, status, final, last_error FROM ${t} WHERE source = ${literal(runSource.identity)} OR (source = ${literal(runSource.legacy)} AND date NOT IN (SELECT date FROM ${t} WHERE source = ${literal(runSource.identity)}))`,
  );
}
