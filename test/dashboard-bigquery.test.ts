// The dashboard over BigQuery: the real @google-cloud/bigquery client against the local BigQuery
// (src/dev/gcp/), holding the tables of a DuckDB warehouse that a real pipeline run filled; its
// reference engine runs the copy's own SQL (the change check on __TABLES__, time travel). The same
// page data must come out as over that DuckDB file directly.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseConfig, type LoadedConfig } from '../src/config/load.js';
import type { BigQueryWarehouseConfig } from '../src/config/schema.js';
import { bigQuerySnapshotSource } from '../src/dashboard/copy-from-bigquery.js';
import { dashboardOptions } from '../src/dashboard/options.js';
import { startDashboard, type RunningDashboard } from '../src/dashboard/server.js';
import { addDays } from '../src/util/dates.js';
import { runPipeline } from '../src/pipeline/run.js';
import { DEMO_DEFAULTS } from '../src/config/schema.js';
import { generateDemoExport } from '../src/sources/demo/generator.js';
import { RecordingGcp, sessionOf } from './support/local-gcp.js';
import { tempDir, writeConfig } from './support/pipeline.js';
import { describeWithZetaSql } from './support/zetasql/guard.js';

const FIRST = DEMO_DEFAULTS.startDate;
const DATASETS = ['cartlens_marts', 'cartlens_staging'];

describeWithZetaSql('dashboard over BigQuery', () => {
  let gcp: RecordingGcp;
  let overDuckDb: RunningDashboard;
  let overBigQuery: RunningDashboard;
  let dir: string;
  let loaded: LoadedConfig;
  let bigquery: BigQueryWarehouseConfig;
  /** The warehouse config of a local BigQuery. */
  const bigQueryAt = (endpoint: string) =>
    parseConfig(`source: { type: demo }\nwarehouse: { type: bigquery, project: shop-project, api_endpoint: "${endpoint}" }`, join(dir, 'bq.yaml')).config.warehouse as BigQueryWarehouseConfig;

  beforeAll(async () => {
    dir = await tempDir();
    await generateDemoExport({ ...DEMO_DEFAULTS, outDir: join(dir, 'input'), days: 5, sessionsPerDay: 120 });
    const configFile = await writeConfig(dir, 'locale: en\n');
    loaded = parseConfig(await readFile(configFile, 'utf8'), configFile);
    // Days 1–4 first; a later test publishes day 5.
    await runPipeline({ loaded, dates: [0, 1, 2, 3].map((n) => addDays(FIRST, n)) });

    // BigQuery: the warehouse's tables under the two datasets' names, copied again after a later run.
    gcp = await RecordingGcp.start({ project: 'shop-project', dataset: 'analytics_1' });
    await gcp.copyDuckDbTables(join(dir, 'state', 'warehouse.duckdb'), DATASETS);
    bigquery = bigQueryAt(gcp.endpoint);

    const options = dashboardOptions(loaded, { port: 0 });
    overDuckDb = await startDashboard(options);
    overBigQuery = await startDashboard({ ...options, warehouse: bigQuerySnapshotSource(bigquery) });
  });

  afterAll(async () => {
    await Promise.all([overDuckDb?.close(), overBigQuery?.close(), gcp?.stop()]);
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
    const jobs = gcp.inserts.filter((job) => !job.configuration.dryRun);
    expect(jobs.length).toBe(8); // the version, then one per copied table
    for (const job of jobs) {
      expect(String(job.configuration.query?.query)).toMatch(/^SELECT\s/);
      expect(String(job.configuration.query?.query)).not.toMatch(/\b(INSERT|UPDATE|DELETE|MERGE|CREATE|DROP|ALTER)\b/i);
      expect(job.configuration.query?.maximumBytesBilled).toBe(String(10 * 2 ** 30));
      expect(sessionOf(job)).toBeUndefined();
    }
    // No user-level column leaves BigQuery: abandoned carts come counted.
    expect(gcp.sqls().join('\n')).not.toMatch(/user_key|user_pseudo_id|session_id/);
    await data(overBigQuery, `?from=${FIRST}&to=${addDays(FIRST, 1)}`);
    expect(gcp.inserts.length).toBe(jobs.length);
    // Every table of a copy is read as of the moment of the change check.
    expect(jobs.slice(1).every((job) => / FOR SYSTEM_TIME AS OF TIMESTAMP '/.test(String(job.configuration.query?.query)))).toBe(true);
  });

  it('takes a new copy once a later run has published, and no copy when nothing changed', async () => {
    const watching = await startDashboard({ ...dashboardOptions(loaded, { port: 0 }), warehouse: bigQuerySnapshotSource(bigquery, { checkEveryMs: 0 }) });
    try {
      expect(((await data(watching, '')) as { available: { last: string } }).available.last).toBe(addDays(FIRST, 3));
      const jobsBefore = gcp.inserts.length;
      await data(watching, '');
      expect(gcp.inserts.length).toBe(jobsBefore + 1); // the change check only
      await runPipeline({ loaded, dates: [addDays(FIRST, 4)] });
      await gcp.copyDuckDbTables(join(dir, 'state', 'warehouse.duckdb'), DATASETS);
      expect(((await data(watching, '')) as { available: { last: string } }).available.last).toBe(addDays(FIRST, 4));

      // BigQuery refusing the next look: the last copy stays on screen, marked as such.
      gcp.refuseNextJob(403);
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
    const empty = await RecordingGcp.start({ project: 'shop-project', dataset: 'analytics_1' });
    const fresh = await startDashboard({ ...dashboardOptions(loaded, { port: 0 }), warehouse: bigQuerySnapshotSource(bigQueryAt(empty.endpoint)) });
    try {
      const page = await fetch(fresh.url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('No published day yet');
    } finally {
      await fresh.close();
      await empty.stop();
    }
  });
});
