// `cartlens extract` (runPipeline mode 'extract', the function's CARTLENS_MODE=extract): the
// source's raw data for Dataform to build on, and nothing else. The shipped Google Cloud configs
// pointed at the GA4 Data API emulator and the local Google Cloud (src/dev/gcp/: BigQuery on
// ZetaSQL's reference engine, and Cloud Storage), with the real client libraries; the daily
// function started locally and called as Airflow's task calls it.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { parseDocument } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_NAME } from '../src/cloud/function/daily-function.js';
import { loadConfig } from '../src/config/load.js';
import type { RunReport } from '../src/pipeline/report.js';
import { planRun } from '../src/pipeline/plan.js';
import { runPipeline } from '../src/pipeline/run.js';
import { DEMO_DEFAULTS } from '../src/config/schema.js';
import { generateDemoExport } from '../src/sources/demo/generator.js';
import { Ga4ApiEmulator } from '../src/sources/ga4-data-api/emulator/ga4-api-emulator.js';
import { ConfigError } from '../src/util/errors.js';
import { cli } from './support/cli.js';
import { RecordingGcp } from './support/local-gcp.js';
import { expectRanAsPlanned } from './support/plan.js';
import { tempDir, writeConfig } from './support/pipeline.js';
import { ZetaSqlAnalyzer } from './support/zetasql/analyzer.js';
import { BigQueryCatalog } from './support/zetasql/catalog.js';
import { describeWithZetaSql, ZETASQL } from './support/zetasql/guard.js';

const DATES = ['2026-11-01', '2026-11-02'];
const BUCKET = 'my-store-cartlens-exports';
const EXPORT_DATASET = 'my-store-analytics.analytics_123456789';
let emulator: Ga4ApiEmulator;
/** The local Google Cloud, where ZetaSQL's engine runs (the tests that need it are guarded). */
let gcp: RecordingGcp | undefined;
let server: Server;
let url: string;
let apiConfig: string;
let exportConfig: string;

/** A shipped config as it is, pointed at the local services: only the endpoints change. */
async function shipped(name: string, dir: string, endpoints: { warehouse: string; storage: string; ga4?: string }): Promise<string> {
  const doc = parseDocument(await readFile(join(process.cwd(), 'deploy', name), 'utf8'));
  if (endpoints.ga4) doc.setIn(['source', 'api_endpoint'], endpoints.ga4);
  doc.setIn(['warehouse', 'api_endpoint'], endpoints.warehouse);
  doc.setIn(['export', 'api_endpoint'], endpoints.storage);
  const file = join(dir, name);
  await writeFile(file, doc.toString());
  return file;
}

beforeAll(async () => {
  const dir = await tempDir();
  await generateDemoExport({ ...DEMO_DEFAULTS, outDir: join(dir, 'in'), days: 2, sessionsPerDay: 40 });
  emulator = await Ga4ApiEmulator.fromExportFiles(join(dir, 'in', 'events_*.json.gz'), { tokensPerDay: 100_000 });
  // GA4's export has 2026-11-01's daily table; 2026-11-02's is not there yet.
  if (ZETASQL.run) gcp = await RecordingGcp.start({ project: 'my-store-analytics', dataset: 'analytics_123456789', exportFiles: join(dir, 'in', 'events_20261101.json.gz') });
  const ga4 = await emulator.start();
  // Without the engine, the configs point nowhere: the tests left (refusals) never reach Google Cloud.
  const warehouse = gcp?.endpoint ?? 'http://127.0.0.1:9';
  const storage = warehouse;
  apiConfig = await shipped('cartlens.gcp-api.yaml', dir, { ga4, warehouse, storage });
  exportConfig = await shipped('cartlens.gcp.yaml', dir, { warehouse, storage });
  server = getTestServer(FUNCTION_NAME);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
});

afterAll(async () => {
  server?.close();
  await Promise.all([emulator?.stop(), gcp?.stop()]);
});

afterEach(() => {
  delete process.env.CARTLENS_CONFIG;
  delete process.env.CARTLENS_MODE;
});

/** The function deployed with CARTLENS_MODE=extract (or `mode`), called as the DAG calls it. */
async function callFunction(config: string, body: Record<string, string>, mode = 'extract') {
  process.env.CARTLENS_CONFIG = config;
  process.env.CARTLENS_MODE = mode;
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, report: (await response.json()) as RunReport & { error?: string } };
}

/** The SQL of the BigQuery jobs sent from `from` on (load jobs as `(load)`). */
const sqlSince = (from: number) => gcp!.sqls(from);
/** The bucket's objects. */
const objects = () => gcp!.objects(BUCKET);
/** Statements that write a table: DML and table creation, not SELECTs. */
const writesTo = (sqls: string[], table: RegExp) => sqls.filter((sql) => /^\s*(INSERT|DELETE|MERGE|UPDATE|CREATE OR REPLACE|TRUNCATE)\b/i.test(sql) && table.test(sql));

describeWithZetaSql('cartlens extract on the GA4 Data API source (BigQuery)', () => {
  it('fetches, lands and loads each date into raw_ga4_api_* and ga4_api_fetches in one transaction, and publishes nothing', async () => {
    const from = gcp!.inserts.length;
    const { status, report } = await callFunction(apiConfig, { from: DATES[0]!, to: DATES[1]! });
    expect(status, JSON.stringify(report)).toBe(200);
    expect(report.ready_dates).toEqual(DATES);
    expect(report).toMatchObject({ dates: [], missing_dates: [], deferred_dates: [] });
    expect(report.tokens_spent).toBeGreaterThan(0);
    // The plan is what ran: extract, land, load, commit, record — no model, no assertion, no publish.
    const plan = await planRun(await loadConfig(apiConfig, {}, { withoutUserKeySecret: true }), { mode: 'extract', dates: DATES });
    expect(plan.steps.map((s) => s.kind)).toEqual(['open', 'retention', 'extract', 'land', 'load', 'commit', 'record']);
    expectRanAsPlanned(plan, report);

    // Both reports of each date were fetched from the Data API, and every page landed under _raw/.
    for (const date of DATES) expect(emulator.requests.filter((r) => r.status === 200 && r.body.dateRanges?.[0]?.startDate === date)).toHaveLength(2);
    const pages = [...objects().keys()].filter((name) => name.startsWith('_raw/')).sort();
    expect(pages).toEqual(DATES.flatMap((date) => ['funnel', 'items'].map((r) => `_raw/ga4-api/123456789/${date}/${r}/${report.run_id}/page-00000.json`)));

    // Load jobs take exactly those pages; the raw tables and the fetch records are replaced inside the transaction.
    const loads = gcp!.inserts.slice(from).filter((job) => job.configuration.load).map((job) => job.configuration.load as { sourceUris: string[] });
    expect(loads.flatMap((l) => l.sourceUris).sort()).toEqual(pages.map((p) => `gs://${BUCKET}/${p}`));
    const sqls = sqlSince(from);
    const begin = sqls.indexOf('BEGIN TRANSACTION');
    const commit = sqls.indexOf('COMMIT TRANSACTION');
    expect(begin).toBeGreaterThan(sqls.lastIndexOf('(load)'));
    for (const report of ['funnel', 'items']) {
      for (const date of DATES) {
        const at = sqls.findIndex((sql) => sql.startsWith(`INSERT INTO \`my-store-analytics.cartlens_staging.raw_ga4_api_${report}\``) && sql.includes(`DATE '${date}'`));
        expect(at, `${report} ${date}`).toBeGreaterThan(begin);
        expect(at).toBeLessThan(commit);
      }
    }
    const fetches = writesTo(sqls, /^INSERT INTO `my-store-analytics\.cartlens_staging\.ga4_api_fetches`/);
    expect(fetches).toHaveLength(4);
    expect(fetches.every((sql) => sql.includes(`'${report.run_id}'`))).toBe(true);
    // The run is recorded, in the same transaction.
    const runs = sqls.findIndex((sql) => sql.startsWith('INSERT INTO `my-store-analytics.cartlens_staging.runs`'));
    expect(runs).toBeGreaterThan(begin);
    expect(runs).toBeLessThan(commit);

    // Nothing built or published: no model, no assertion, no marts table written, no run state
    // (no day is published or deferred), no file under the export prefix (not even the run report).
    expect(writesTo(sqls, /cartlens_marts\./)).toEqual([]);
    expect(writesTo(sqls, /assertion_results/)).toEqual([]);
    expect(writesTo(sqls, /\.run_state`/)).toEqual([]);
    expect([...objects().keys()].filter((name) => !name.startsWith('_raw/'))).toEqual([]);
  });

  it('the same run in full mode publishes, so the assertions above can fail', async () => {
    const from = gcp!.inserts.length;
    const { status } = await callFunction(apiConfig, { date: DATES[0]! }, 'run');
    expect(status).toBe(200);
    expect(writesTo(sqlSince(from), /cartlens_marts\./).length).toBeGreaterThan(0);
    expect(writesTo(sqlSince(from), /assertion_results/).length).toBeGreaterThan(0);
    expect([...objects().keys()].filter((name) => name.startsWith('exports/')).length).toBeGreaterThan(0);
  });
});

describeWithZetaSql("cartlens extract on GA4's BigQuery export", () => {
  it('reports each date whose daily export table exists as ready, the others as not ready (deferred), reading no event', async () => {
    const from = gcp!.inserts.length;
    const objectsBefore = objects().size;
    const loaded = await loadConfig(exportConfig, {}, { withoutUserKeySecret: true });
    const report = await runPipeline({ loaded, dates: DATES, mode: 'extract' });
    expect(report).toMatchObject({ ready_dates: ['2026-11-01'], missing_dates: ['2026-11-02'], dates: [], deferred_dates: [] });
    // The plan is what ran: the export is looked at (extract), nothing loaded; the run is committed and recorded.
    const plan = await planRun(loaded, { mode: 'extract', dates: DATES });
    expect(plan.steps.map((s) => s.kind)).toEqual(['open', 'retention', 'extract', 'commit', 'record']);
    expectRanAsPlanned(plan, report);

    const sqls = sqlSince(from);
    // One look-up of the two tables' metadata; the export itself is never read or copied.
    const lookups = sqls.filter((sql) => sql.includes('INFORMATION_SCHEMA.TABLES'));
    expect(lookups).toEqual([`SELECT table_name FROM \`${EXPORT_DATASET}.INFORMATION_SCHEMA.TABLES\` WHERE table_name IN ('events_20261101', 'events_20261102') ORDER BY table_name`]);
    expect(sqls.filter((sql) => sql.includes('events_2*') || sql.includes('_run_raw'))).toEqual([]);
    // (Retention's purge of old days, `< DATE …`, runs at the start of every run, this one too.)
    expect(writesTo(sqls, /cartlens_marts\.|stg_events|stg_event_items|quality_daily|quarantined_events/).filter((sql) => !/ < DATE /.test(sql))).toEqual([]);
    expect(writesTo(sqls, /assertion_results/)).toEqual([]);
    // The missing day waits for its export, as a full run records it; the ready day's state is untouched.
    const states = writesTo(sqls, /^INSERT INTO `my-store-analytics\.cartlens_staging\.run_state`/);
    expect(states).toHaveLength(1);
    expect(states[0]).toContain("DATE '2026-11-02', 'deferred'");
    expect(states[0]).toContain("GA4\\'s daily export table events_20261102 is not there yet");
    // Nothing in the bucket: no file, no run report.
    expect(objects().size).toBe(objectsBefore);
  });

  it('`cartlens extract` lists ready and not-ready days and exits 1 on a day not ready; 0 when all are ready', async () => {
    // The config's privacy.user_key_secret is "${CARTLENS_USER_KEY_SECRET}", unset here: extract never reads it.
    expect(process.env.CARTLENS_USER_KEY_SECRET).toBeUndefined();
    const missing = await cli(['extract', '--config', exportConfig, '--from', DATES[0]!, '--to', DATES[1]!]);
    expect(missing.stderr).toMatch(/error: not ready: 2026-11-02 — /);
    expect(missing.stdout).toMatch(/2026-11-01 {2}ready\n2026-11-02 {2}not ready\n/);
    expect(missing.code).toBe(1);
    const ready = await cli(['extract', '--config', exportConfig, '--date', DATES[0]!, '--json']);
    expect(ready.code, ready.stderr).toBe(0);
    expect((JSON.parse(ready.stdout) as RunReport).ready_dates).toEqual([DATES[0]]);
  });

  it('the function answers 200 for a ready day, and 503 with the report for a day not ready, so that Airflow retries', async () => {
    const ready = await callFunction(exportConfig, { date: DATES[0]! });
    expect(ready.status).toBe(200);
    expect(ready.report.ready_dates).toEqual([DATES[0]]);
    const notReady = await callFunction(exportConfig, { date: DATES[1]! });
    expect(notReady.status).toBe(503);
    expect(notReady.report).toMatchObject({ ready_dates: [], missing_dates: [DATES[1]] });
  });

  it('its look-up passes the ZetaSQL analyzer', async () => {
    const lookup = gcp!.inserts.map((job) => String(job.configuration.query?.query ?? '')).find((sql) => sql.includes('INFORMATION_SCHEMA.TABLES') && sql.includes('table_name IN'))!;
    expect(lookup).toBeDefined();
    const analyzer = await ZetaSqlAnalyzer.start(new BigQueryCatalog().addDatasetMetadata(EXPORT_DATASET));
    try {
      const [statement] = await analyzer.analyzeScript(lookup, 'export table look-up');
      expect(statement!.resolved.node).toBe('resolvedQueryStmtNode');
      // …and the analyzer can refuse: a column the view does not have.
      await expect(analyzer.analyzeScript(lookup.replace('WHERE table_name', 'WHERE table_nam'), 'control')).rejects.toThrow(/table_nam/);
    } finally {
      await analyzer.stop();
    }
  });
});

describe('cartlens extract elsewhere', () => {
  it('refuses DuckDB before opening the warehouse, naming warehouse.type', async () => {
    const dir = await tempDir();
    const file = await writeConfig(dir);
    const loaded = await loadConfig(file);
    const error = await runPipeline({ loaded, dates: [DATES[0]!], mode: 'extract' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).oneLine).toMatch(/extract mode loads raw data into BigQuery for Dataform to build on, and warehouse\.type is duckdb — use `cartlens run`/);
    expect(existsSync(join(dir, 'state', 'warehouse.duckdb'))).toBe(false);
  });

  it('needs the dates, and the function refuses an unknown CARTLENS_MODE', async () => {
    expect((await cli(['extract', '--config', exportConfig])).stderr).toMatch(/extract needs the dates to extract/);
    const typo = await callFunction(exportConfig, { date: DATES[0]! }, 'extarct');
    expect(typo.status).toBe(500);
    expect(typo.report.error).toMatch(/CARTLENS_MODE is "extarct"/);
  });
});
