import { randomBytes } from 'node:crypto';
import { BigQuery } from '@google-cloud/bigquery';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { BigQueryWarehouseConfig } from '../config/schema.js';
import { PUBLISHED_TABLE_NAMES } from '../exports/published-tables.js';
import { BigQueryDialect } from '../warehouse/bigquery/bigquery-dialect.js';
import { BigQueryJobs, type BigQueryLike } from '../warehouse/bigquery/bigquery-jobs.js';
import { plain } from '../warehouse/bigquery/bigquery-warehouse.js';
import { duckdbString } from '../warehouse/duckdb/duckdb-dialect.js';
import type { SnapshotReader, SnapshotSource } from './snapshot.js';

/**
 * BigQuery as the source of the dashboard's copy: plain SELECT jobs (no session, no DML, under
 * the cost guard), so `roles/bigquery.dataViewer` on the two datasets and `jobUser` suffice.
 * Page views never query BigQuery: only a change of `run_state` (asked at most once a minute,
 * when someone looks) brings a new copy.
 */
export function bigQuerySnapshotSource(config: BigQueryWarehouseConfig, client?: BigQueryLike): SnapshotSource {
  const bigquery = client ?? new BigQuery({ projectId: config.project, location: config.location, ...(config.api_endpoint ? { apiEndpoint: config.api_endpoint } : {}) });
  const jobs = new BigQueryJobs(bigquery, { location: config.location, maximumBytesBilled: config.maximum_bytes_billed });
  const dialect = new BigQueryDialect({ staging: `${config.project}.${config.staging_dataset}`, marts: `${config.project}.${config.marts_dataset}`, published: PUBLISHED_TABLE_NAMES });
  // Job ids must be unique: one prefix per server, a counter per job.
  const runId = `serve_${randomBytes(4).toString('hex')}`;
  let step = 0;
  const query = async (sql: string) => (await jobs.run({ runId, step: String(++step), sql })).map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, plain(v)])));
  return {
    description: `BigQuery ${config.project}`,
    // Each look is a (small) query job: at most once a minute.
    checkEveryMs: 60_000,
    async version() {
      const [row] = await query(`SELECT CONCAT(CAST(COUNT(*) AS STRING), '|', IFNULL(CAST(MAX(finished_at) AS STRING), '')) AS version FROM ${dialect.tableName('run_state', false)}`);
      return String(row?.version ?? 'missing');
    },
    async open(into: DuckDBConnection): Promise<SnapshotReader> {
      return {
        insert: async (table) => {
          const rows = await query(table.select(dialect.tableName(table.from, false), (value) => dialect.stringLiteral(value)));
          await insertRows(into, table.table, rows);
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
