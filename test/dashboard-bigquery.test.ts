// The dashboard over BigQuery: the real @google-cloud/bigquery client against the local fake of
// the REST API, whose answers here come from running each query on a DuckDB warehouse that a real
// pipeline run filled. The same page data must come out as over that DuckDB file directly.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import type { BigQueryWarehouseConfig } from '../src/config/schema.js';
import { bigQuerySnapshotSource } from '../src/dashboard/copy-from-bigquery.js';
import { dashboardOptions } from '../src/dashboard/options.js';
import { startDashboard, type RunningDashboard } from '../src/dashboard/server.js';
import { addDays } from '../src/pipeline/due-dates.js';
import { runPipeline } from '../src/pipeline/run.js';
import { DEMO_DEFAULTS, generateDemoExport } from '../src/sources/demo/generator.js';
import { FakeBigQuery, type QueryAnswer } from './support/fake-bigquery.js';
import { tempDir, writeConfig } from './support/pipeline.js';

const FIRST = DEMO_DEFAULTS.startDate;

/** BigQuery's field type for a DuckDB column type. */
function fieldType(duckdbType: string): string {
  if (duckdbType === 'DATE') return 'DATE';
  if (duckdbType === 'BOOLEAN') return 'BOOLEAN';
  if (/INT/.test(duckdbType)) return 'INTEGER';
  if (duckdbType.startsWith('DECIMAL')) return 'NUMERIC';
  return 'STRING';
}

describe('dashboard over BigQuery', () => {
  let fake: FakeBigQuery;
  let engine: DuckDBConnection;
  let overDuckDb: RunningDashboard;
  let overBigQuery: RunningDashboard;
  const sqls: string[] = [];

  beforeAll(async () => {
    const dir = await tempDir();
    await generateDemoExport({ ...DEMO_DEFAULTS, outDir: join(dir, 'input'), days: 4, sessionsPerDay: 120 });
    const configFile = await writeConfig(dir);
    const loaded = parseConfig(await readFile(configFile, 'utf8'), configFile);
    await runPipeline({ loaded });
    const warehousePath = join(dir, 'state', 'warehouse.duckdb');

    // BigQuery stand-in: the warehouse's tables under the two datasets' names.
    engine = await (await DuckDBInstance.create(':memory:')).connect();
    await engine.run(`ATTACH '${warehousePath}' AS wh (READ_ONLY)`);
    fake = new FakeBigQuery(async (sql): Promise<QueryAnswer> => {
      sqls.push(sql);
      const reader = await engine.runAndReadAll(sql.replace(/`shop-project\.cartlens_(?:marts|staging)\.(\w+)`/g, 'wh.$1'));
      const types = reader.columnTypes().map((t) => fieldType(t.toString()));
      return {
        fields: reader.columnNames().map((name, i) => ({ name, type: types[i]! })),
        rows: reader.getRowsJson().map((row) => row.map((v) => (v === null ? null : String(v)))),
        bytesProcessed: 1000,
      };
    });
    const endpoint = await fake.start();
    const bigquery = parseConfig(`source: { type: demo }\nwarehouse: { type: bigquery, project: shop-project, api_endpoint: "${endpoint}" }`, join(dir, 'bq.yaml')).config.warehouse as BigQueryWarehouseConfig;

    const options = dashboardOptions(loaded, { port: 0 });
    overDuckDb = await startDashboard(options);
    overBigQuery = await startDashboard({ ...options, warehouse: bigQuerySnapshotSource(bigquery) });
  });

  afterAll(async () => {
    await Promise.all([overDuckDb?.close(), overBigQuery?.close(), fake?.stop()]);
    engine?.closeSync();
  });

  const data = async (server: RunningDashboard, query: string) => {
    const { snapshot, ...rest } = (await (await fetch(`${server.url}api/dashboard.json${query}`)).json()) as { snapshot: unknown };
    expect(snapshot).toBeDefined();
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
      expect(String(job.configuration.query?.query)).toMatch(/^SELECT /);
      expect(job.configuration.query?.maximumBytesBilled).toBe(String(10 * 2 ** 30));
      expect(fake.sessionOf(job)).toBeUndefined();
    }
    // No user-level column leaves BigQuery: abandoned carts come counted.
    expect(sqls.join('\n')).not.toMatch(/user_key|user_pseudo_id|session_id/);
    await data(overBigQuery, `?from=${FIRST}&to=${addDays(FIRST, 1)}`);
    expect(fake.inserts.length).toBe(jobs.length);
  });
});
