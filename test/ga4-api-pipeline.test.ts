// The GA4 Data API source end to end: the real client against the project's emulator, landing,
// raw tables, models, CSV files with the quality signals in their manifests; quota deferral and
// the lookback window with an injected clock.
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type LoadedConfig } from '../src/config/load.js';
import { createSource } from '../src/sources/index.js';
import { runStateKeys } from '../src/sources/source.js';
import { runPipeline } from '../src/pipeline/run.js';
import { readDays } from '../src/pipeline/run-state.js';
import { dialectFor, openWarehouse } from '../src/warehouse/index.js';
import { generateDemoExport } from '../src/sources/demo/generator.js';
import { DEMO_DEFAULTS } from '../src/config/schema.js';
import { Ga4ApiEmulator } from '../src/sources/ga4-data-api/emulator/ga4-api-emulator.js';
import { queryWarehouse, tempDir } from './support/pipeline.js';
import { planRun } from '../src/pipeline/plan.js';
import { expectRanAsPlanned } from './support/plan.js';

let data: string;
beforeAll(async () => {
  data = join(await tempDir(), 'in');
  await generateDemoExport({ ...DEMO_DEFAULTS, outDir: data, days: 10, sessionsPerDay: 120 });
});

async function setUp(tokensPerDay = 200_000) {
  const emulator = await Ga4ApiEmulator.fromExportFiles(join(data, 'events_*.json.gz'), { tokensPerDay });
  const endpoint = await emulator.start();
  const dir = await tempDir();
  const loaded = parseConfig(
    `source: { type: ga4-data-api, property: properties/123456, api_endpoint: "${endpoint}" }
warehouse: { type: duckdb, path: state/w.duckdb }
export: { type: local, dir: exports }
landing: { dir: state/landing }`,
    join(dir, 'cartlens.yaml'),
  );
  return { emulator, dir, loaded };
}

/** The run state of the config's source, as `status` reads it. */
async function daysOf(loaded: LoadedConfig) {
  const warehouse = await openWarehouse(loaded.config.warehouse, dialectFor(loaded.config.warehouse));
  try {
    return await readDays(warehouse, runStateKeys(createSource(loaded.config.source, loaded.baseDir)));
  } finally {
    await warehouse.close();
  }
}

const sha = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');
const csvPath = (dir: string, table: string, date: string) => join(dir, 'exports', table, `dt=${date}`, `${table}_${date.replaceAll('-', '')}.csv`);
const fetchesOf = (emulator: Ga4ApiEmulator, date: string) => emulator.requests.filter((r) => r.status === 200 && r.body.dateRanges?.[0]?.startDate === date).length;

describe('the GA4 Data API source', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const stop of cleanup) await stop();
  });

  it('lands every page, loads raw tables and publishes both tables with quality in the manifest', async () => {
    const { emulator, dir, loaded } = await setUp();
    cleanup.push(() => emulator.stop());
    emulator.inject({ kind: 'thresholded' }, 1, '2026-11-02');
    const report = await runPipeline({ loaded, dates: ['2026-11-01', '2026-11-02'], now: () => new Date('2026-11-29T12:00:00Z') });
    // The plan is what ran: the Data API's extract and land, then its own models and tables.
    expectRanAsPlanned(await planRun(loaded, { dates: ['2026-11-01', '2026-11-02'] }), report);
    expect(report.dates.map((d) => [d.date, d.status, d.final])).toEqual([['2026-11-01', 'published', true], ['2026-11-02', 'published', true]]);
    expect(report.dates[1]!.report_quality).toMatchObject({ items: { subjectToThresholding: true } });
    // Each date's set is complete once its marker names both files.
    const marker = JSON.parse(await readFile(join(dir, 'exports', '_SUCCESS', 'ga4_api', 'dt=2026-11-01.json'), 'utf8'));
    expect(marker.run_id).toBe(report.run_id);
    expect(marker.files.map((f: { table: string }) => f.table)).toEqual(['ga4_api_items_daily', 'ga4_api_funnel_daily']);
    const items = (await readFile(csvPath(dir, 'ga4_api_items_daily', '2026-11-01'), 'utf8')).split('\n');
    expect(items[0]).toBe('date,item_id,item_name,item_category,items_viewed,items_added_to_cart,items_checked_out,items_purchased,item_revenue,cart_to_purchase_rate');
    expect(items.length).toBeGreaterThan(20);
    const funnelManifest = JSON.parse(await readFile(join(dir, 'exports', 'ga4_api_funnel_daily', 'dt=2026-11-02', 'manifest.json'), 'utf8'));
    expect(funnelManifest).toMatchObject({ final: true, quality: { items: { subjectToThresholding: true }, funnel: { subjectToThresholding: false } } });
    const pages = join(dir, 'state', 'landing', 'ga4-api', '123456', '2026-11-01', 'items', report.run_id);
    expect(await readdir(pages)).toEqual(['page-00000.json']);
    const page = JSON.parse(await readFile(join(pages, 'page-00000.json'), 'utf8'));
    expect(page).toMatchObject({ run_id: report.run_id, property: 'properties/123456', report: 'items', date: '2026-11-01', page: 0 });
    expect(page.request).toMatchObject({ property: 'properties/123456', returnPropertyQuota: true });
    // The published sums equal the raw report's, and the CSV rows equal its rows.
    const [raw] = await queryWarehouse(join(dir, 'state', 'w.duckdb'), `SELECT count(*)::INTEGER AS n, sum(items_added_to_cart)::INTEGER AS added FROM raw_ga4_api_items WHERE date = DATE '2026-11-01'`);
    expect(items.length - 2).toBe(raw!.n);
    const added = items.slice(1, -1).reduce((sum, line) => sum + Number(line.split(',').at(-5)), 0);
    expect(added).toBe(raw!.added);

    // The day's report.html, drawn from the published tables: its tiles are the CSVs' sums.
    const html = await readFile(join(dir, 'exports', 'report', 'ga4_api', 'dt=2026-11-01', 'report.html'), 'utf8');
    const tile = (key: string) => /data-value="([^"]*)"/.exec(html.slice(html.indexOf(`data-tile="${key}"`)))![1];
    const funnel = (await readFile(csvPath(dir, 'ga4_api_funnel_daily', '2026-11-01'), 'utf8')).trim().split('\n').slice(1).map((line) => line.split(','));
    const column = (name: string) => ['date', 'device_category', 'country', 'session_source_medium', 'sessions', 'add_to_carts', 'checkouts', 'ecommerce_purchases', 'purchase_revenue', 'total_purchasers'].indexOf(name);
    const sum = (name: string) => funnel.reduce((total, row) => total + Number(row[column(name)]), 0);
    expect(Number(tile('sessions'))).toBe(sum('sessions'));
    expect(Number(tile('add_to_carts'))).toBe(sum('add_to_carts'));
    expect(Number(tile('purchases'))).toBe(sum('ecommerce_purchases'));
    expect(Number(tile('revenue'))).toBeCloseTo(sum('purchase_revenue'), 2);
    expect(Number(tile('sessions'))).toBeGreaterThan(0);
    expect(html).toContain('GA4 Data API');
  });

  it('a backfill of 10 days that hits the daily quota after 3 completes days 4–10 on the next run, each fetched once', async () => {
    const { emulator, loaded } = await setUp(60); // 2 requests a day × 10 tokens: 3 days a day
    cleanup.push(() => emulator.stop());
    const now = () => new Date('2026-11-29T12:00:00Z');
    const dates = Array.from({ length: 10 }, (_, i) => `2026-11-${String(i + 1).padStart(2, '0')}`);
    const first = await runPipeline({ loaded, dates, now });
    expect(first.dates.map((d) => [d.date, d.status])).toEqual(dates.slice(0, 3).map((d) => [d, 'published']));
    expect(first.deferred_dates.map((d) => d.date)).toEqual(dates.slice(3));
    expect(first.deferred_dates[0]!.reason).toMatch(/daily token quota is spent/);
    // The state remembers it: the deferred days are due again.
    expect((await daysOf(loaded)).map((d) => [d.date, d.status])).toEqual(dates.map((d, i) => [d, i < 3 ? 'complete' : 'deferred']));
    emulator.resetDailyQuota();
    emulator.setTokensPerDay(1_000);
    const second = await runPipeline({ loaded, dates, now });
    expect(second.settled_dates).toEqual(dates.slice(0, 3));
    expect(second.dates.map((d) => [d.date, d.status])).toEqual(dates.slice(3).map((d) => [d, 'published']));
    expect(second.deferred_dates).toEqual([]);
    expect(dates.map((d) => fetchesOf(emulator, d))).toEqual(Array(10).fill(2)); // both reports, once
    expect((await daysOf(loaded)).map((d) => d.status)).toEqual(Array(10).fill('complete'));
  });

  it('re-fetches the lookback window on every run, picking up a revision, and leaves older days alone', async () => {
    const { emulator, dir, loaded } = await setUp();
    cleanup.push(() => emulator.stop());
    const now = () => new Date('2026-11-08T15:00:00Z'); // 12:00 in São Paulo: today is the 8th
    const dates = Array.from({ length: 7 }, (_, i) => `2026-11-0${i + 1}`);
    await runPipeline({ loaded, dates, now });
    const old = await sha(csvPath(dir, 'ga4_api_funnel_daily', '2026-11-01'));
    const revised = await sha(csvPath(dir, 'ga4_api_funnel_daily', '2026-11-06'));
    emulator.revise('funnel', '2026-11-06', (row) => row.map((v, i) => (i === 4 ? Number(v) + 1000 : v))); // sessions
    const second = await runPipeline({ loaded, dates, now });
    expect(second.settled_dates).toEqual(['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04']);
    expect(second.dates.map((d) => [d.date, d.status, d.final])).toEqual([
      ['2026-11-05', 'published', false], ['2026-11-06', 'published', false], ['2026-11-07', 'published', false],
    ]);
    expect((await daysOf(loaded)).map((d) => [d.date, d.status])).toEqual([
      ...['01', '02', '03', '04'].map((d) => [`2026-11-${d}`, 'complete']),
      ...['05', '06', '07'].map((d) => [`2026-11-${d}`, 'provisional']),
    ]);
    expect(await sha(csvPath(dir, 'ga4_api_funnel_daily', '2026-11-01'))).toBe(old);
    expect(await sha(csvPath(dir, 'ga4_api_funnel_daily', '2026-11-06'))).not.toBe(revised);
    expect(fetchesOf(emulator, '2026-11-01')).toBe(2);
    expect(fetchesOf(emulator, '2026-11-06')).toBe(4);
  });
});

describe('retention of the landed pages', () => {
  it('deletes the pages of report dates older than retention.landed_days, and keeps the recent ones', async () => {
    const emulator = await Ga4ApiEmulator.fromExportFiles(join(data, 'events_*.json.gz'));
    const endpoint = await emulator.start();
    try {
      const dir = await tempDir();
      const loaded = parseConfig(
        `source: { type: ga4-data-api, property: properties/123456, api_endpoint: "${endpoint}" }
warehouse: { type: duckdb, path: state/w.duckdb }
export: { type: local, dir: exports }
landing: { dir: state/landing }
retention: { landed_days: 30 }`,
        join(dir, 'cartlens.yaml'),
      );
      const pages = join(dir, 'state', 'landing', 'ga4-api', '123456');
      await runPipeline({ loaded, dates: ['2026-11-01', '2026-11-02'], now: () => new Date('2026-11-29T12:00:00Z') });
      expect(await readdir(pages)).toEqual(['2026-11-01', '2026-11-02']);
      // 31 days after the 2nd, São Paulo time: the 1st is past the window, the 2nd not yet.
      await runPipeline({ loaded, dates: ['2026-11-03'], now: () => new Date('2026-12-02T12:00:00Z') });
      expect(await readdir(pages)).toEqual(['2026-11-02', '2026-11-03']);
    } finally {
      await emulator.stop();
    }
  });
});
