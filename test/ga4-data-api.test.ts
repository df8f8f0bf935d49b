// The GA4 Data API fetcher with the real @google-analytics/data client (REST fallback) against the
// project's emulator on 127.0.0.1: paging, quota and error handling, with request counts.
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateDemoExport } from '../src/sources/demo/generator.js';
import { DEMO_DEFAULTS } from '../src/config/schema.js';
import { openDataClient } from '../src/sources/ga4-data-api/data-api-client.js';
import { Ga4ApiEmulator } from '../src/sources/ga4-data-api/emulator/ga4-api-emulator.js';
import { FETCHER_DEFAULTS, QuotaDeferral, ReportFetcher } from '../src/sources/ga4-data-api/fetcher.js';
import { DEFAULT_REPORTS } from '../src/sources/ga4-data-api/reports.js';
import { CartlensError } from '../src/util/errors.js';
import { tempDir } from './support/pipeline.js';

const ITEMS = DEFAULT_REPORTS[0]!;
const FUNNEL = DEFAULT_REPORTS[1]!;
const DATE = '2026-11-01';
let emulator: Ga4ApiEmulator;
let endpoint: string;
let sleeps: number[];

const fetcher = (overrides: Partial<typeof FETCHER_DEFAULTS> = {}) =>
  new ReportFetcher(openDataClient(endpoint), { ...FETCHER_DEFAULTS, property: 'properties/123456', pageSize: 40, sleep: async (ms) => void sleeps.push(ms), random: () => 0.5, ...overrides });
const requestsSince = (n: number) => emulator.requests.length - n;

beforeAll(async () => {
  const dir = await tempDir();
  await generateDemoExport({ ...DEMO_DEFAULTS, outDir: join(dir, 'in'), days: 2, sessionsPerDay: 300 });
  emulator = await Ga4ApiEmulator.fromExportFiles(join(dir, 'in', 'events_*.json.gz'));
  endpoint = await emulator.start();
});
afterAll(() => emulator.stop());
beforeEach(() => {
  sleeps = [];
  emulator.resetDailyQuota();
  emulator.clearFaults();
});

describe('GA4 Data API fetcher', () => {
  it('pages until rowCount, keeping every page with its request and asking for the quota each time', async () => {
    const before = emulator.requests.length;
    const report = await fetcher().fetch(ITEMS, DATE);
    expect(report.rowCount).toBeGreaterThan(80);
    expect(report.pages).toHaveLength(Math.ceil(report.rowCount / 40));
    expect(requestsSince(before)).toBe(report.pages.length);
    expect(report.pages.reduce((sum, p) => sum + ((p.response.rows as unknown[]) ?? []).length, 0)).toBe(report.rowCount);
    expect(emulator.requests.slice(before).every((r) => r.body.returnPropertyQuota === true)).toBe(true);
    expect(report.pages.map((p) => p.request.offset)).toEqual(report.pages.map((_, i) => i * 40));
    expect(report.tokens).toBe(report.pages.length * 10);
  });

  it('retries a 503 at most 3 times, with growing jittered waits', async () => {
    emulator.inject({ kind: 'unavailable' }, 2);
    const before = emulator.requests.length;
    await fetcher({ pageSize: 10_000 }).fetch(FUNNEL, DATE);
    expect(requestsSince(before)).toBe(3);
    expect(sleeps).toEqual([750, 1250]);

    emulator.inject({ kind: 'unavailable' }, 10);
    const again = emulator.requests.length;
    const error = await fetcher({ pageSize: 10_000 }).fetch(FUNNEL, DATE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CartlensError);
    expect((error as CartlensError).transient).toBe(true);
    expect(requestsSince(again)).toBe(4);
  });

  it('waits out an hourly quota error, then continues', async () => {
    emulator.inject({ kind: 'hourly-quota' }, 1);
    const before = emulator.requests.length;
    await fetcher({ pageSize: 10_000 }).fetch(FUNNEL, DATE);
    expect(sleeps).toEqual([FETCHER_DEFAULTS.hourlyWaitMs]);
    expect(requestsSince(before)).toBe(2);
  });

  it('stops on a daily quota error, deferring instead of failing', async () => {
    emulator.inject({ kind: 'daily-quota' }, 1);
    const before = emulator.requests.length;
    await expect(fetcher().fetch(ITEMS, DATE)).rejects.toBeInstanceOf(QuotaDeferral);
    expect(requestsSince(before)).toBe(1);
  });

  it('stops before the run token budget would be passed', async () => {
    const before = emulator.requests.length;
    const small = fetcher({ tokenBudget: 25, tokensPerRequestEstimate: 10 });
    await expect(small.fetch(ITEMS, DATE)).rejects.toBeInstanceOf(QuotaDeferral);
    expect(requestsSince(before)).toBe(2); // 10, then 20 spent; a third page would pass 25
    expect(small.spent).toBe(20);
  });

  it('treats a row count that disagrees with the rows sent as an error, not a short table', async () => {
    emulator.inject({ kind: 'bad-row-count' }, 10);
    await expect(fetcher({ pageSize: 10_000 }).fetch(FUNNEL, DATE)).rejects.toThrow(/reported \d+ rows and sent \d+/);
  });

  it('keeps the quality signals of the response', async () => {
    emulator.inject({ kind: 'thresholded' }, 1);
    const report = await fetcher({ pageSize: 10_000 }).fetch(FUNNEL, DATE);
    expect(report.quality).toMatchObject({ subjectToThresholding: true, dataLossFromOtherRow: false, emptyReason: null });
    const empty = await fetcher().fetch(FUNNEL, '2026-12-25');
    expect(empty.quality.emptyReason).toMatch(/No data/);
    expect(empty.rowCount).toBe(0);
  });
});
