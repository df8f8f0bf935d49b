// The GA4 Data API view over BigQuery: the real @google-cloud/bigquery client against the local
// BigQuery (src/dev/gcp/), holding the tables of the DuckDB warehouse of a real Data API run (the
// emulator over demo data), its reference engine running the copy's SQL. The page data must
// equal that of the same view over that file.
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseConfig, type LoadedConfig } from '../src/config/load.js';
import type { BigQueryWarehouseConfig } from '../src/config/schema.js';
import { bigQuerySnapshotSource } from '../src/dashboard/copy-from-bigquery.js';
import { dashboardOptions } from '../src/dashboard/options.js';
import { startDashboard, type RunningDashboard } from '../src/dashboard/server.js';
import { apiView } from '../src/dashboard/view.js';
import { addDays } from '../src/util/dates.js';
import { runPipeline } from '../src/pipeline/run.js';
import { DEMO_DEFAULTS } from '../src/config/schema.js';
import { generateDemoExport } from '../src/sources/demo/generator.js';
import { Ga4ApiEmulator } from '../src/sources/ga4-data-api/emulator/ga4-api-emulator.js';
import { RecordingGcp } from './support/local-gcp.js';
import { tempDir } from './support/pipeline.js';
import { describeWithZetaSql } from './support/zetasql/guard.js';

const FIRST = DEMO_DEFAULTS.startDate;

describeWithZetaSql('dashboard of a GA4 Data API source over BigQuery', () => {
  let emulator: Ga4ApiEmulator;
  let gcp: RecordingGcp;
  let overDuckDb: RunningDashboard;
  let overBigQuery: RunningDashboard;
  let loaded: LoadedConfig;

  beforeAll(async () => {
    const dir = await tempDir();
    await generateDemoExport({ ...DEMO_DEFAULTS, outDir: join(dir, 'input'), days: 5, sessionsPerDay: 100 });
    emulator = await Ga4ApiEmulator.fromExportFiles(join(dir, 'input', 'events_*.json.gz'), { tokensPerDay: 200_000 });
    const endpoint = await emulator.start();
    loaded = parseConfig(
      `source: { type: ga4-data-api, property: properties/123456, api_endpoint: "${endpoint}" }
warehouse: { type: duckdb, path: state/w.duckdb }
export: { type: local, dir: exports }
landing: { dir: state/landing }`,
      join(dir, 'cartlens.yaml'),
    );
    await runPipeline({ loaded, dates: [0, 1, 2, 3, 4].map((n) => addDays(FIRST, n)), now: () => new Date('2026-11-29T12:00:00Z') });
    const warehouse = join(dir, 'state', 'w.duckdb');

    // BigQuery: the warehouse's tables under the datasets' names.
    gcp = await RecordingGcp.start({ project: 'shop-project', dataset: 'analytics_1' });
    await gcp.copyDuckDbTables(warehouse, ['cartlens_marts', 'cartlens_staging']);
    const bigquery = parseConfig(`source: { type: demo }\nwarehouse: { type: bigquery, project: shop-project, api_endpoint: "${gcp.endpoint}" }`, join(dir, 'bq.yaml')).config
      .warehouse as BigQueryWarehouseConfig;
    const options = dashboardOptions(loaded, { port: 0 });
    expect(options.view).toBe(apiView);
    overDuckDb = await startDashboard(options);
    overBigQuery = await startDashboard({ ...options, warehouse: bigQuerySnapshotSource(bigquery) });
  }, 180_000);

  afterAll(async () => {
    await Promise.all([overDuckDb?.close(), overBigQuery?.close(), gcp?.stop(), emulator?.stop()]);
  });

  const data = async (server: RunningDashboard, query: string) => {
    const { snapshot, ...rest } = (await (await fetch(`${server.url}api/dashboard.json${query}`)).json()) as { snapshot: { stale: string | null } };
    expect(snapshot.stale).toBeNull();
    return rest;
  };

  it('shows the same numbers as over the DuckDB warehouse, for every range', async () => {
    for (const query of ['', `?from=${FIRST}&to=${FIRST}`, `?from=${addDays(FIRST, 1)}&to=${addDays(FIRST, 3)}`, `?from=${addDays(FIRST, 2)}&to=${addDays(FIRST, 10)}`]) {
      const [expected, actual] = await Promise.all([data(overDuckDb, query), data(overBigQuery, query)]);
      expect((expected as { totals: { sessions: string } }).totals.sessions).not.toBe('0');
      expect(actual, query || 'default range').toEqual(expected);
    }
  });

  it("reads only the view's tables, with SELECT jobs, and never total_purchasers", async () => {
    const jobs = gcp.inserts.filter((job) => !job.configuration.dryRun);
    expect(jobs.length).toBe(4); // the version, then ga4_api_funnel_daily, ga4_api_items_daily, run_state
    const copies = jobs.slice(1).map((job) => String(job.configuration.query?.query));
    expect(copies.map((sql) => /FROM `shop-project\.cartlens_(\w+)\.(\w+)`/.exec(sql)?.slice(1, 3).join('.'))).toEqual([
      'marts.ga4_api_funnel_daily',
      'marts.ga4_api_items_daily',
      'staging.run_state',
    ]);
    for (const sql of copies) expect(sql).toMatch(/^SELECT\s/);
    expect(gcp.sqls().join('\n')).not.toMatch(/total_purchasers|cart_funnel_daily|abandoned_carts|quality_daily/);
  });
});
