// The designed architecture end to end, with no account: the shipped Data API config
// (deploy/cartlens.gcp-api.yaml) pointed at the project's GA4 Data API emulator and its fakes of
// BigQuery and Cloud Storage, run by the daily function as Cloud Scheduler calls it. The real
// @google-analytics/data, @google-cloud/bigquery and @google-cloud/storage clients do the talking.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FUNCTION_NAME } from '../src/cloud/function/daily-function.js';
import { loadConfig } from '../src/config/load.js';
import type { RunReport } from '../src/pipeline/report.js';
import { readDays } from '../src/pipeline/run-state.js';
import { DEMO_DEFAULTS } from '../src/config/schema.js';
import { generateDemoExport } from '../src/sources/demo/generator.js';
import { Ga4ApiEmulator } from '../src/sources/ga4-data-api/emulator/ga4-api-emulator.js';
import { createSource } from '../src/sources/index.js';
import { runStateKeys } from '../src/sources/source.js';
import { dialectFor, openWarehouse } from '../src/warehouse/index.js';
import { cli } from './support/cli.js';
import { RecordingGcp } from './support/local-gcp.js';
import { tempDir } from './support/pipeline.js';
import { describeWithZetaSql } from './support/zetasql/guard.js';

const DATES = ['2026-11-01', '2026-11-02', '2026-11-03'];
const BUCKET = 'my-store-cartlens-exports';

describeWithZetaSql('the Data API path on Google Cloud, through the daily function', () => {
  let emulator: Ga4ApiEmulator;
  let gcp: RecordingGcp;
  let server: Server;
  let url: string;
  let configFile: string;

  beforeAll(async () => {
    const dir = await tempDir();
    await generateDemoExport({ ...DEMO_DEFAULTS, outDir: join(dir, 'in'), days: 3, sessionsPerDay: 60 });
    emulator = await Ga4ApiEmulator.fromExportFiles(join(dir, 'in', 'events_*.json.gz'), { tokensPerDay: 100_000 });
    gcp = await RecordingGcp.start({ project: 'my-store-analytics', dataset: 'analytics_123456789' });
    // The shipped config as it is, pointed at the local services: only the endpoints change.
    const shipped = parseDocument(await readFile(join(process.cwd(), 'deploy', 'cartlens.gcp-api.yaml'), 'utf8'));
    shipped.setIn(['source', 'api_endpoint'], await emulator.start());
    shipped.setIn(['warehouse', 'api_endpoint'], gcp.endpoint);
    shipped.setIn(['export', 'api_endpoint'], gcp.endpoint);
    configFile = join(dir, 'cartlens.yaml');
    await writeFile(configFile, shipped.toString());
    process.env.CARTLENS_CONFIG = configFile;
    server = getTestServer(FUNCTION_NAME);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  });

  afterAll(async () => {
    delete process.env.CARTLENS_CONFIG;
    server?.close();
    await Promise.all([emulator?.stop(), gcp?.stop()]);
  });

  const call = async (body: Record<string, string>) => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, report: (await response.json()) as RunReport };
  };
  /** What `cartlens status` reads: the run state of the config's source. */
  const status = async () => {
    const loaded = await loadConfig(configFile);
    const warehouse = await openWarehouse(loaded.config.warehouse, dialectFor(loaded.config.warehouse));
    try {
      return (await readDays(warehouse, runStateKeys(createSource(loaded.config.source, loaded.baseDir)))).map((d) => [d.date, d.status]);
    } finally {
      await warehouse.close();
    }
  };
  const fetchesOf = (date: string) => emulator.requests.filter((r) => r.status === 200 && r.body.dateRanges?.[0]?.startDate === date).length;
  /** Final objects in creation order (a copy into place is a new generation). */
  const objects = () => gcp.objects(BUCKET);
  const text = (name: string) => objects().get(name)?.data.toString('utf8');
  const objectsInOrder = () => [...objects().entries()].sort(([, a], [, b]) => a.generation - b.generation).map(([name]) => name).filter((name) => !name.includes('_incoming/'));

  it('lands every page in the bucket, loads it with load jobs, publishes each date last, and status lists the days', async () => {
    const { status: code, report } = await call({ from: DATES[0]!, to: DATES[2]! });
    expect(code, JSON.stringify(report)).toBe(200);
    expect(report.dates.map((d) => [d.date, d.status])).toEqual(DATES.map((d) => [d, 'published']));

    // 1. Every response page landed unchanged, with its request, under _raw/ at the bucket's root.
    const pages = [...objects().keys()].filter((name) => name.startsWith('_raw/')).sort();
    expect(pages).toEqual(DATES.flatMap((date) => ['funnel', 'items'].map((r) => `_raw/ga4-api/123456789/${date}/${r}/${report.run_id}/page-00000.json`)));
    const page = JSON.parse(text(pages[0]!)!);
    expect(page.request).toMatchObject({ property: 'properties/123456789', dateRanges: [{ startDate: DATES[0], endDate: DATES[0] }] });
    expect(page.response.rows.length).toBeGreaterThan(0);

    // 2. The load jobs name exactly those objects, into ga4_api_pages; never a streaming insert.
    const loads = gcp.inserts.filter((job) => job.configuration.load).map((job) => job.configuration.load as { sourceUris: string[]; destinationTable: { tableId: string } });
    expect(loads.flatMap((l) => l.sourceUris).sort()).toEqual(pages.map((p) => `gs://${BUCKET}/${p}`));
    expect(new Set(loads.map((l) => l.destinationTable.tableId))).toEqual(new Set(['ga4_api_pages']));
    const sqls = gcp.inserts.map((job) => String(job.configuration.query?.query ?? ''));
    expect(sqls.some((sql) => /^INSERT INTO `my-store-analytics\.cartlens_staging\.raw_ga4_api_items`/.test(sql))).toBe(true);
    expect(sqls.some((sql) => /^INSERT INTO `my-store-analytics\.cartlens_marts\.ga4_api_funnel_daily`/.test(sql))).toBe(true);

    // 3. Each date's files and manifests come after every page and load, and its marker last of all.
    const order = objectsInOrder();
    // Every page is found first: a missing one (−1) would let any order pass.
    expect(pages.length).toBeGreaterThan(0);
    expect(pages.filter((p) => !order.includes(p))).toEqual([]);
    const lastPage = Math.max(...pages.map((p) => order.indexOf(p)));
    for (const date of DATES) {
      const ofDate = order.filter((name) => name.startsWith('exports/ga4_api_') && name.includes(`/dt=${date}/`));
      expect(ofDate.map((name) => name.split('/').at(-1)).sort()).toEqual([`ga4_api_funnel_daily_${date.replaceAll('-', '')}.csv`, `ga4_api_items_daily_${date.replaceAll('-', '')}.csv`, 'manifest.json', 'manifest.json']);
      // ofDate is taken from `order`, so each of its names is found (none is −1).
      expect(ofDate.every((name) => order.includes(name))).toBe(true);
      expect(Math.min(...ofDate.map((name) => order.indexOf(name)))).toBeGreaterThan(lastPage);
      const marker = order.indexOf(`exports/_SUCCESS/ga4_api/dt=${date}.json`);
      expect(marker).toBeGreaterThanOrEqual(0);
      expect(marker).toBeGreaterThan(Math.max(...ofDate.map((name) => order.indexOf(name))));
      const manifest = JSON.parse(text(`exports/ga4_api_items_daily/dt=${date}/manifest.json`)!);
      expect(manifest).toMatchObject({ final: true, quality: { items: { subjectToThresholding: false } } });
    }

    // 4. `status` lists the days.
    expect(await status()).toEqual(DATES.map((d) => [d, 'complete']));
  });

  it('answers 200 on a quota deferral, with the deferred dates in the report and the state; the next call fetches exactly those', async () => {
    const dates = ['2026-11-04', '2026-11-05', '2026-11-06'];
    emulator.resetDailyQuota();
    emulator.setTokensPerDay(20); // two requests of 10 tokens: one date's two reports
    const first = await call({ from: dates[0]!, to: dates[2]! });
    // Scheduler must not retry into a spent quota: 200, and the report says what waits.
    expect(first.status).toBe(200);
    expect(first.report.dates.map((d) => [d.date, d.status])).toEqual([[dates[0], 'published']]);
    expect(first.report.deferred_dates.map((d) => d.date)).toEqual(dates.slice(1));
    expect(first.report.deferred_dates[0]!.reason).toMatch(/daily token quota is spent/);
    expect((await status()).filter(([d]) => dates.includes(d!))).toEqual([[dates[0], 'complete'], [dates[1], 'deferred'], [dates[2], 'deferred']]);

    emulator.resetDailyQuota();
    emulator.setTokensPerDay(100_000);
    const before = new Map(dates.map((d) => [d, fetchesOf(d)]));
    const second = await call({ from: dates[0]!, to: dates[2]! });
    expect(second.status).toBe(200);
    expect(second.report.settled_dates).toEqual([dates[0]]);
    expect(second.report.dates.map((d) => [d.date, d.status])).toEqual(dates.slice(1).map((d) => [d, 'published']));
    // Exactly the deferred dates were fetched again (both reports each), the settled one not at all.
    expect(dates.map((d) => fetchesOf(d) - before.get(d)!)).toEqual([0, 2, 2]);
    expect((await status()).filter(([d]) => dates.includes(d!))).toEqual(dates.map((d) => [d, 'complete']));
  });

  it('killed with SIGKILL before its commit, then run again, leaves the state and the files as a clean run would', async () => {
    const date = '2026-11-07';
    const killed = await cli(['run', '--config', configFile, '--date', date], { env: { CARTLENS_CRASH_AT: 'before-commit' } });
    expect(killed.signal).toBe('SIGKILL');
    expect((await status()).find(([d]) => d === date)).toBeUndefined();
    expect([...objects().keys()].filter((name) => name.startsWith('exports/') && name.includes(date))).toEqual([]);

    const again = await call({ date });
    expect(again.status).toBe(200);
    expect(again.report.dates.map((d) => [d.date, d.status])).toEqual([[date, 'published']]);
    expect((await status()).find(([d]) => d === date)).toEqual([date, 'complete']);
    // The run read only its own pages, not the killed run's, which stay in _raw/ until the lifecycle deletes them.
    const raw = gcp.inserts.map((job) => String(job.configuration.query?.query ?? '')).filter((sql) => sql.startsWith('INSERT INTO `my-store-analytics.cartlens_staging.raw_ga4_api_items`') && sql.includes(`DATE '${date}'`));
    expect(raw.at(-1)).toContain(`p.run_id = '${again.report.run_id}'`);
    // The date's set is whole and consistent: every file its marker names has the SHA-256 it says.
    const marker = JSON.parse(text(`exports/_SUCCESS/ga4_api/dt=${date}.json`)!) as { run_id: string; files: { path: string; sha256: string }[] };
    expect(marker.run_id).toBe(again.report.run_id);
    expect(marker.files).toHaveLength(2);
    for (const file of marker.files) expect(createHash('sha256').update(objects().get(`exports/${file.path}`)!.data).digest('hex')).toBe(file.sha256);
  });
});
