import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { DUCKDB_COLUMN_TYPES } from '../contract/column-types.js';
import { publishedTable, type PublishedColumn } from '../contract/tables.js';
import { WarehouseBusyError } from '../util/errors.js';
import { isLockConflict } from '../warehouse/duckdb/duckdb-warehouse.js';
import { recoveryWindowsSelect } from '../reports/recovery.js';
import type { Row } from '../warehouse/warehouse.js';
import type { RunStateKeys } from '../sources/source.js';

/** A read-only query on the copy. */
export type Query = (sql: string) => Promise<Row[]>;

/** One copied table: its name in the copy, the warehouse table it is read from, and how. */
export interface CopiedTable {
  table: string;
  from: string;
  /**
   * The SELECT on the warehouse, given the table's qualified name, a string literal writer, and
   * the columns of `added.columns` the warehouse does not have (read as NULL).
   */
  select(qualified: string, literal: (value: string) => string, missing: ReadonlySet<string>): string;
  /**
   * What a later release added to the warehouse table, which a warehouse that release has not
   * run on yet lacks: columns (copied as NULL), or the whole table (copied as empty).
   */
  added?: { columns?: readonly string[]; table?: boolean };
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

const table = (name: string, from: string, select: CopiedTable['select'], added?: CopiedTable['added']): CopiedTable => ({ table: name, from, select, ...(added ? { added } : {}) });

/** `input`: what the day was computed from ('daily', 'intraday'; NULL in rows from before intraday: daily). */
const RUN_STATE_TABLE = 'CREATE TABLE run_state (date DATE, status VARCHAR, final BOOLEAN, last_error VARCHAR, input VARCHAR);';

/** The restatement log (docs/decisions.md "The restatement log"): values as the CSV writes them, no user data. */
const RESTATEMENTS_TABLE = 'CREATE TABLE restatements (date DATE, table_name VARCHAR, run_id VARCHAR, previous_run_id VARCHAR, seq INTEGER, column_name VARCHAR, before VARCHAR, after VARCHAR);';

/**
 * The columns of a published table the copy holds (`only`: those named): its keys, attributes and
 * metrics, but never a metric that is not additive and not a rate (GA4's total_purchasers): the
 * dashboard shows a range's sums and recomputed rates, and such a metric has neither.
 */
function copiedColumns(name: string, only?: readonly string[]): PublishedColumn[] {
  return publishedTable(name).columns.filter((c) => (only ? only.includes(c.name) : !c.metric || c.metric.additive || c.metric.ratio));
}

/** A published table copied as the contract has it: created with the contract's DuckDB types, read column by column. */
function publishedCopy(name: string, only?: readonly string[]): { create: string; copied: CopiedTable } {
  const columns = copiedColumns(name, only);
  return {
    create: `CREATE TABLE ${name} (${columns.map((c) => `${c.name} ${DUCKDB_COLUMN_TYPES[c.kind]}`).join(', ')});`,
    copied: table(name, name, (t) => `SELECT ${columns.map((c) => c.name).join(', ')} FROM ${t}`),
  };
}

const FUNNEL = publishedCopy('cart_funnel_daily');
// Only what the top-items table reads: the copy is taken whole on every change.
const ITEMS = publishedCopy('cart_items_daily', ['date', 'item_id', 'item_name', 'item_category', 'add_to_cart_units', 'purchased_units', 'abandoned_units', 'abandoned_value']);

/**
 * cart_recoveries counted per date, cart date, window and same_item: no user_key, no cart-level
 * row. Copied whole, every date: a range of cart dates is recovered on dates after its end.
 */
export const RECOVERY_WINDOWS = 'cart_recoveries_by_window';

/** The events' copied tables. */
const EVENTS_EMPTY_TABLES = `
${FUNNEL.create}
${ITEMS.create}
CREATE TABLE abandoned_carts_by_dimension (
  date DATE, device_category VARCHAR, country VARCHAR, source VARCHAR, medium VARCHAR, ads_consent VARCHAR, purchased_later BOOLEAN,
  carts BIGINT, value DECIMAL(38,2));
${RUN_STATE_TABLE}
${RESTATEMENTS_TABLE}
CREATE TABLE quality_daily (date DATE, lines BIGINT, duplicates BIGINT, quarantined BIGINT);
CREATE TABLE ${RECOVERY_WINDOWS} (date DATE, cart_date DATE, window_hours INTEGER, same_item BOOLEAN, recoveries BIGINT, value DECIMAL(38,2));
`;

/** Plain SQL that DuckDB and BigQuery both read the same way. */
function eventsTables(runSource: RunStateKeys): CopiedTable[] {
  return [
    FUNNEL.copied,
    ITEMS.copied,
    // Counted per day and dimensions: a tenth of the rows, and no cart-level data at all.
    table(
      'abandoned_carts_by_dimension',
      'abandoned_carts',
      (t) =>
        `SELECT date, device_category, country, source, medium, ads_consent, purchased_later, COUNT(*) AS carts, SUM(cart_value) AS value FROM ${t} GROUP BY date, device_category, country, source, medium, ads_consent, purchased_later`,
    ),
    runStateTable(runSource),
    table('quality_daily', 'quality_daily', (t) => `SELECT date, lines, duplicates, quarantined FROM ${t}`),
    table(RECOVERY_WINDOWS, 'cart_recoveries', (t) => recoveryWindowsSelect(t)),
    // Whole: a few rows per revised date, and the "revised" marks show the latest of each.
    table('restatements', 'restatements', (t) => `SELECT date, table_name, run_id, previous_run_id, seq, column_name, before, after FROM ${t}`, { table: true }),
  ];
}

/** The events' copy: the contract's tables, abandoned carts counted, the source's run_state, quality_daily and the restatement log. */
export const EVENTS_COPY: CopiedTableSet = { emptyTables: EVENTS_EMPTY_TABLES, tables: eventsTables };

const API_FUNNEL = publishedCopy('ga4_api_funnel_daily');
const API_ITEMS = publishedCopy('ga4_api_items_daily');

/**
 * The GA4 Data API's copy: its two tables (never total_purchasers, which is not additive and is
 * not shown), and the source's run_state.
 */
export const API_COPY: CopiedTableSet = {
  emptyTables: `
${API_FUNNEL.create}
${API_ITEMS.create}
${RUN_STATE_TABLE}
`,
  tables: (runSource) => [API_FUNNEL.copied, API_ITEMS.copied, runStateTable(runSource)],
};

/**
 * The configured source's days only: the GA4 Data API pipeline keeps its own in the same table.
 * A day recorded under the legacy key (the glob text) counts until it is recorded again under the identity.
 */
function runStateTable(runSource: RunStateKeys): CopiedTable {
  return table(
    'run_state',
    'run_state',
    (t, literal, missing) => {
      const columns = `date, status, final, last_error, ${missing.has('input') ? 'NULL' : 'input'} AS input`;
      return runSource.legacy === undefined || runSource.legacy === runSource.identity
        ? `SELECT ${columns} FROM ${t} WHERE source = ${literal(runSource.identity)}`
        : `SELECT ${columns} FROM ${t} WHERE source = ${literal(runSource.identity)} OR (source = ${literal(runSource.legacy)} AND date NOT IN (SELECT date FROM ${t} WHERE source = ${literal(runSource.identity)}))`;
    },
    { columns: ['input'] },
  );
}
