// The dashboard over BigQuery: the real @google-cloud/bigquery client against the local fake of
// the REST API, whose answers here come from running each query on a DuckDB warehouse that a real
// pipeline run filled. The same page data must come out as over that DuckDB file directly.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type LoadedConfig } from '../src/config/load.js';
import type { BigQueryWarehouseConfig } from '../src/config/schema.js';
import { bigQuerySnapshotSource } from '../src/dashboard/copy-from-bigquery.js';
import { dashboardOptions } from '../src/dashboard/options.js';
import { startDashboard, type RunningDashboard } from '../src/dashboard/server.js';
import { addDays } from '../src/pipeline/due-dates.js';
import { runPipeline } from '../src/pipeline/run.js';
import { DEMO_DEFAULTS, generateDemoExport } from '../src/sources/demo/generator.js';
import { bigQueryFieldType, FakeBigQuery, type QueryAnswer } from './support/fake-bigquery.js';
import { tempDir, writeConfig } from './support/pipeline.js';

const FIRST = DEMO_DEFAULTS.startDate;

describe('dashboard over BigQuery', () => {
  let fake: FakeBigQuery;
  let engine: DuckDBConnection;
  let overDuckDb: RunningDashboard;
  let overBigQuery: RunningDashboard;
  const sqls: string[] = [];
  /** Which DuckDB file the fake BigQuery answers from. */
  const bigQueryTables = new Map<string, string>();
  let dir: string;
  let loaded: LoadedConfig;
  let bigquery: BigQueryWarehouseConfig;

  beforeAll(async () => {
    dir = await tempDir();
    await generateDemoExport({ ...DEMO_DEFAULTS, outDir: join(dir, 'input'), days: 5, sessionsPerDay: 120 });
    const configFile = await writeConfig(dir, 'locale: en\n');
    loaded = parseConfig(await readFile(configFile, 'utf8'), configFile);
    // Days 1–4 first; a later test publishes day 5.
    await runPipeline({ loaded, dates: [0, 1, 2, 3].map((n) => addDays(FIRST, n)) });
    bigQueryTables.set('current', join(dir, 'state', 'warehouse.duckdb'));

    // BigQuery stand-in: the warehouse's tables under the two datasets' names, attached afresh
    // for each query so that it sees later runs. Time travel and metadata are BigQuery's own:
    // the change check is answered with fingerprints of the same tables.
    engine = await (await DuckDBInstance.create(':memory:')).connect();
    fake = new FakeBigQuery(async (sql): Promise<QueryAnswer> => {
      sqls.push(sql);
      const path = bigQueryTables.get('current')!;
      await engine.run(`ATTACH '${path}' AS wh (READ_ONLY)`);
      try {
        const present = (await engine.runAndReadAll(`SELECT table_name FROM duckdb_tables() WHERE database_name = 'wh'`)).getRowsJson().flat();
        let duckSql = sql
          .replace(/`shop-project\.cartlens_marts\.__TABLES__`/g, 'duckdb_tables()')
          .replace(/ FOR SYSTEM_TIME AS OF TIMESTAMP '[^']*'/g, '')
          .replace(/`shop-project\.cartlens_(?:marts|staging)\.(\w+)`/g, (_, table: string) => {
            if (!present.includes(table)) throw Object.assign(new Error(`Not found: Table shop-project:cartlens_staging.${table} was not found in location southamerica-east1`), { status: 404 });
            return `wh.${table}`;
          });
        if (sql.includes('__TABLES__')) {
          duckSql = `SELECT now()::VARCHAR AS as_of,
            (SELECT hash(string_agg(f::VARCHAR, ',' ORDER BY date))::VARCHAR FROM wh.cart_funnel_daily f) AS marts_modified,
            (SELECT hash(string_agg(r::VARCHAR, ',' ORDER BY source, date))::VARCHAR FROM wh.run_state r) AS run_state`;
        }
        const reader = await engine.runAndReadAll(duckSql);
        const types = reader.columnTypes().map((t) => bigQueryFieldType(t.toString()));
        return {
          fields: reader.columnNames().map((name, i) => ({ name, type: types[i]! })),
          rows: reader.getRowsJson().map((row) => row.map((v) => (v === null ? null : String(v)))),
          bytesProcessed: 1000,
        };
      } finally {
        await engine.run('DETACH wh');
      }
    });
    const endpoint = await fake.start();
    bigquery = parseConfig(`source: { type: demo }\nwarehouse: { type: bigquery, project: shop-project, api_endpoint: "${endpoint}" }`, join(dir, 'bq.yaml')).config.warehouse as BigQueryWarehouseConfig;

    const options = dashboardOptions(loaded, { port: 0 });
    overDuckDb = await startDashboard(options);
    overBigQuery = await startDashboard({ ...options, warehouse: bigQuerySnapshotSource(bigquery) });
  });

  afterAll(async () => {
    await Promise.all([overDuckDb?.close(), overBigQuery?.close(), fake?.stop()]);
    engine?.closeSync();
  });

  const data = async (server: RunningDashboard, query: string) => {
    const { snapshot, ...rest } = (await (await fetch(`${server.url}api/dashboard.json${query}`)).json()) as { snapshot: { stale: string | null } };
    expect(snapshot.stale).toBeNull();
    return rest;
  };

  it('shows the same numbers as over the DuckDB warehouse, for every range', async () => {
    for (const query of ['', `?from=${FIRST}&to=${FIRST}`, `?from=${FIRST}&to=${addDays(FIRST, 3)}`, `?from=${addDays(FIRST, 2)}&to=${addDays(FIRST, 10)}`]) {
      const [expected, actual] = await Promise.all([data(overDuckDb, query), data(overBigQuery, query)]);
      expect((expected as { totals: { sessions: string } }).totals.sessions).not.toBe('0');
      expect(actual, query || 'default range').toEqual(expected);
    }
  });

  it('reads only: SELECT jobs under the cost guard, outside any session, and none per page view', async () => {
    const jobs = fake.inserts.filter((job) => !job.configuration.dryRun);
    expect(jobs.length).toBe(6); // the version, then one per copied table
    for (const job of jobs) {
      expect(String(job.configuration.query?.query)).toMatch(/^SELECT\s/);
      expect(String(job.configuration.query?.query)).not.toMatch(/\b(INSERT|UPDATE|DELETE|MERGE|CREATE|DROP|ALTER)\b/i);
      expect(job.configuration.query?.maximumBytesBilled).toBe(String(10 * 2 ** 30));
      expect(fake.sessionOf(job)).toBeUndefined();
    }
    // No user-level column leaves BigQuery: abandoned carts come counted.
    expect(sqls.join('\n')).not.toMatch(/user_key|user_pseudo_id|session_id/);
    await data(overBigQuery, `?from=${FIRST}&to=${addDays(FIRST, 1)}`);
    expect(fake.inserts.length).toBe(jobs.length);
    // Every table of a copy is read as of the moment of the change check.
    expect(jobs.slice(1).every((job) => / FOR SYSTEM_TIME AS OF TIMESTAMP '/.test(String(job.configuration.query?.query)))).toBe(true);
  });

  it('takes a new copy once a later run has published, and no copy when nothing changed', async () => {
    const watching = await startDashboard({ ...dashboardOptions(loaded, { port: 0 }), warehouse: bigQuerySnapshotSource(bigquery, { checkEveryMs: 0 }) });
    try {
      expect(((await data(watching, '')) as { available: { last: string } }).available.last).toBe(addDays(FIRST, 3));
      const jobsBefore = fake.inserts.length;
      await data(watching, '');
      expect(fake.inserts.length).toBe(jobsBefore + 1); // the change check only
      await runPipeline({ loaded, dates: [addDays(FIRST, 4)] });
      expect(((await data(watching, '')) as { available: { last: string } }).available.last).toBe(addDays(FIRST, 4));

      // BigQuery refusing the next look: the last copy stays on screen, marked as such.
      fake.inject({ kind: 'status', status: 403 });
      const response = await fetch(`${watching.url}api/dashboard.json`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { available: { last: string }; snapshot: { stale: string | null } };
      expect(body.available.last).toBe(addDays(FIRST, 4));
      expect(body.snapshot.stale).toMatch(/403/);
      expect(((await data(watching, '')) as { available: { last: string } }).available.last).toBe(addDays(FIRST, 4));
    } finally {
      await watching.close();
    }
  });

  it('before the first run (no run_state table yet), shows an empty dashboard', async () => {
    const empty = await tempDir();
    const instance = await DuckDBInstance.create(join(empty, 'empty.duckdb'));
    instance.closeSync();
    bigQueryTables.set('current', join(empty, 'empty.duckdb'));
    const fresh = await startDashboard({ ...dashboardOptions(loaded, { port: 0 }), warehouse: bigQuerySnapshotSource(bigquery) });
    try {
      const page = await fetch(fresh.url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('No published day yet');
    } finally {
      await fresh.close();
      bigQueryTables.set('current', join(dir, 'state', 'warehouse.duckdb'));
    }
  });
});
