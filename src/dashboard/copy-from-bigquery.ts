import { randomBytes } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { BigQueryWarehouseConfig } from '../config/schema.js';
import { BigQueryJobs } from '../warehouse/bigquery/bigquery-jobs.js';
import { plain } from '../warehouse/bigquery/bigquery-warehouse.js';
import { duckdbString } from '../warehouse/duckdb/duckdb-dialect.js';
import { dialectFor } from '../warehouse/index.js';
import type { SnapshotReader, SnapshotSource } from './snapshot.js';

/**
 * BigQuery as the source of the dashboard's copy: plain SELECT jobs (no session, no DML, under
 * the cost guard), so `dataViewer` on the marts dataset and on three staging tables, plus
 * `jobUser`, suffice (deploy/iam.yaml). Page views never query BigQuery: only a change, asked
 * about at most every `checkEveryMs` when someone looks, brings a new copy.
 */
export function bigQuerySnapshotSource(config: BigQueryWarehouseConfig, options: { checkEveryMs?: number } = {}): SnapshotSource {
  // Google's client library loads with the first look, not with every cartlens command.
  let jobs: BigQueryJobs | undefined;
  const openJobs = async () => {
    const { BigQuery } = await import('@google-cloud/bigquery');
    const bigquery = new BigQuery({ projectId: config.project, location: config.location, ...(config.api_endpoint ? { apiEndpoint: config.api_endpoint } : {}) });
    return new BigQueryJobs(bigquery, { location: config.location, maximumBytesBilled: config.maximum_bytes_billed });
  };
  const dialect = dialectFor(config);
  // Job ids must be unique: one prefix per server, a counter per job.
  const runId = `serve_${randomBytes(4).toString('hex')}`;
  let step = 0;
  const query = async (sql: string) => (await (jobs ??= await openJobs()).run({ runId, step: String(++step), sql })).map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, plain(v)])));
  /** The moment the last version was read: every table of the next copy is read as of then. */
  let asOf = '';
  return {
    description: `BigQuery ${config.project}`,
    // Each look is a (small) query job: only when someone opens the page.
    checkEveryMs: options.checkEveryMs ?? 60_000,
    watch: false,
    async version() {
      // Any commit to the published tables changes the marts' last modification; any run's
      // end changes a run_state row. Both are cheap: metadata, and a small table.
      const sql = `SELECT
  CAST(CURRENT_TIMESTAMP() AS STRING) AS as_of,
  (SELECT CAST(IFNULL(MAX(last_modified_time), 0) AS STRING) FROM \`${config.project}.${config.marts_dataset}.__TABLES__\`) AS marts_modified,
  (SELECT CAST(IFNULL(BIT_XOR(FARM_FINGERPRINT(TO_JSON_STRING(r))), 0) AS STRING) FROM ${dialect.tableName('run_state', false)} AS r) AS run_state`;
      try {
        const [row] = await query(sql);
        asOf = String(row!.as_of);
        return `${row!.marts_modified}|${row!.run_state}`;
      } catch (error) {
        // Before the first run there is no run_state table: nothing to show yet.
        if (/Not found: Table/i.test((error as Error).message)) return 'missing';
        throw error;
      }
    },
    async open(into: DuckDBConnection): Promise<SnapshotReader> {
      // One point in time for every table (time travel), so a run committing meanwhile cannot
      // leave the copy with some tables from before it and some from after.
      const atVersion = (table: string) => `${dialect.tableName(table, false)} FOR SYSTEM_TIME AS OF TIMESTAMP ${dialect.stringLiteral(asOf)}`;
      return {
        insert: async (table) => {
          // A table or column a later release added is missing until that release has run on the
          // warehouse (which adds it): read as empty, or as NULL. Looking costs a job, so only a refusal tells.
          const missing = new Set<string>();
          for (;;) {
            try {
              const rows = await query(table.select(atVersion(table.from), (value) => dialect.stringLiteral(value), missing));
              await insertRows(into, table.table, rows);
              return;
            } catch (error) {
              const message = (error as Error).message;
              if (table.added?.table && /Not found: Table/i.test(message)) return;
              const column = /Unrecognized name: (\w+)/.exec(message)?.[1];
              if (column === undefined || missing.has(column) || !table.added?.columns?.includes(column)) throw error;
              missing.add(column);
            }
          }
        },
        close: async () => undefined,
      };
    },
  };
}

/** Appends rows (JSON-safe values) to a table of the copy, as literals that DuckDB casts to the column types. */
async function insertRows(into: DuckDBConnection, table: string, rows: Record<string, string | number | boolean | null>[]): Promise<void> {
  const literal = (value: string | number | boolean | null) => (value === null ? 'NULL' : typeof value === 'string' ? duckdbString(value) : String(value));
  for (let start = 0; start < rows.length; start += 1000) {
    const batch = rows.slice(start, start + 1000);
    const columns = Object.keys(batch[0]!);
    await into.run(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${batch.map((row) => `(${columns.map((c) => literal(row[c] ?? null)).join(', ')})`).join(', ')}`);
  }
}
