// The GA4 Data API source end to end: the real client against the project's emulator, landing,
// raw tables, models, CSV files with the quality signals in their manifests; quota deferral and
// the lookback window with an injected clock.
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { runApiPipeline } from '../src/pipeline/api-run.js';
import { generateDemoExport, DEMO_DEFAULTS } from '../src/sources/demo/generator.js';
import { Ga4ApiEmulator } from '../src/sources/ga4-data-api/emulator/ga4-api-emulator.js';
import { queryWarehouse, tempDir } from './support/pipeline.js';

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
    const report = await runApiPipeline({ loaded, dates: ['2026-11-01', '2026-11-02'], now: () => new Date('2026-11-29T12:00:00Z') });
    expect(report.dates.map((d) => [d.date, d.status, d.final])).toEqual([['2026-11-01', 'published', true], ['2026-11-02', 'published', true]]);
    const items = (await readFile(csvPath(dir, 'ga4_api_items_daily', '2026-11-01'), 'utf8')).split('\n');
    expect(items[0]).toBe('date,item_id,item_name,item_category,items_viewed,items_added_to_cart,items_checked_out,items_purchased,item_revenue,cart_to_purchase_rate');
    expect(items.length).toBeGreaterThan(20);
    const funnelManifest = JSON.parse(await readFile(join(dir, 'exports', 'ga4_api_funnel_daily', 'dt=2026-11-02', 'manifest.json'), 'utf8'));
    expect(funnelManifest).toMatchObject({ final: true, quality: { items: { subjectToThresholding: true }, funnel: { subjectToThresholding: false } } });
    const landed = await readdir(join(dir, 'state', 'landing', 'ga4-api', report.run_id, '2026-11-01', 'items'));
    expect(landed).toEqual(['page-00000.json']);
    const page = JSON.parse(await readFile(join(dir, 'state', 'landing', 'ga4-api', report.run_id, '2026-11-01', 'items', 'page-00000.json'), 'utf8'));
    expect(page.request).toMatchObject({ property: 'properties/123456', returnPropertyQuota: true });
    // The published sums equal the raw report's, and the CSV rows equal its rows.
    const [raw] = await queryWarehouse(join(dir, 'state', 'w.duckdb'), `SELECT count(*)::INTEGER AS n, sum(items_added_to_cart)::INTEGER AS added FROM raw_ga4_api_items WHERE date = DATE '2026-11-01'`);
    expect(items.length - 2).toBe(raw!.n);
    const added = items.slice(1, -1).reduce((sum, line) => sum + Number(line.split(',').at(-5)), 0);
    expect(added).toBe(raw!.added);
  });

  it('a backfill of 10 days that hits the daily quota after 3 completes days 4–10 on the next run, each fetched once', async () => {
    const { emulator, loaded } = await setUp(60); // 2 requests a day × 10 tokens: 3 days a day
    cleanup.push(() => emulator.stop());
    const now = () => new Date('2026-11-29T12:00:00Z');
    const dates = Array.from({ length: 10 }, (_, i) => `2026-11-${String(i + 1).padStart(2, '0')}`);
    const first = await runApiPipeline({ loaded, dates, now });
    expect(first.dates.map((d) => d.status)).toEqual([...Array(3).fill('published'), ...Array(7).fill('deferred')]);
    emulator.resetDailyQuota();
    emulator.setTokensPerDay(1_000);
    const second = await runApiPipeline({ loaded, dates, now });
    expect(second.dates.map((d) => d.status)).toEqual([...Array(3).fill('final'), ...Array(7).fill('published')]);
    expect(dates.map((d) => fetchesOf(emulator, d))).toEqual(Array(10).fill(2)); // both reports, once
  });

  it('re-fetches the lookback window on every run, picking up a revision, and leaves older days alone', async () => {
    const { emulator, dir, loaded } = await setUp();
    cleanup.push(() => emulator.stop());
    const now = () => new Date('2026-11-08T15:00:00Z'); // 12:00 in São Paulo: today is the 8th
    const dates = Array.from({ length: 7 }, (_, i) => `2026-11-0${i + 1}`);
    await runApiPipeline({ loaded, dates, now });
    const old = await sha(csvPath(dir, 'ga4_api_funnel_daily', '2026-11-01'));
    const revised = await sha(csvPath(dir, 'ga4_api_funnel_daily', '2026-11-06'));
    emulator.revise('funnel', '2026-11-06', (row) => row.map((v, i) => (i === 4 ? Number(v) + 1000 : v))); // sessions
    const second = await runApiPipeline({ loaded, dates, now });
    expect(second.dates.map((d) => [d.date, d.status, d.final])).toEqual([
      ['2026-11-01', 'final', true], ['2026-11-02', 'final', true], ['2026-11-03', 'final', true], ['2026-11-04', 'final', true],
      ['2026-11-05', 'published', false], ['2026-11-06', 'published', false], ['2026-11-07', 'published', false],
    ]);
    expect(await sha(csvPath(dir, 'ga4_api_funnel_daily', '2026-11-01'))).toBe(old);
    expect(await sha(csvPath(dir, 'ga4_api_funnel_daily', '2026-11-06'))).not.toBe(revised);
    expect(fetchesOf(emulator, '2026-11-01')).toBe(2);
    expect(fetchesOf(emulator, '2026-11-06')).toBe(4);
  });
});
