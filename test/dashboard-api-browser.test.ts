// The dashboard of a GA4 Data API config in a real browser (issue 12): a real run of that source
// (the real client against the project's emulator over demo data), then `cartlens serve`'s
// dashboard in Debian's Chromium. Its numbers must be the sums of the published CSV files.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { parseConfig, type LoadedConfig } from '../src/config/load.js';
import { dashboardOptions } from '../src/dashboard/options.js';
import { startDashboard, type RunningDashboard } from '../src/dashboard/server.js';
import { addDays } from '../src/util/dates.js';
import { runPipeline } from '../src/pipeline/run.js';
import { DEMO_DEFAULTS } from '../src/config/schema.js';
import { generateDemoExport } from '../src/sources/demo/generator.js';
import { Ga4ApiEmulator } from '../src/sources/ga4-data-api/emulator/ga4-api-emulator.js';
import { BROWSER_TESTS, launchBrowser } from './support/browser.js';
import { tempDir } from './support/pipeline.js';

const DAYS = 10;
const FIRST = DEMO_DEFAULTS.startDate;
const LAST = addDays(FIRST, DAYS - 1);
const ARTIFACTS = join(process.cwd(), 'test-artifacts');

type CsvRow = Record<string, string>;

describe.skipIf(!BROWSER_TESTS.run)('dashboard of a GA4 Data API source, in a browser', () => {
  let browser: Browser;
  let emulator: Ga4ApiEmulator;
  let dir: string;
  let loaded: LoadedConfig;
  let dashboard: RunningDashboard;
  const servers: RunningDashboard[] = [];

  const csv = async (table: string, date: string): Promise<CsvRow[]> =>
    parse(await readFile(join(dir, 'exports', table, `dt=${date}`, `${table}_${date.replaceAll('-', '')}.csv`), 'utf8'), { columns: true }) as CsvRow[];
  const rowsOf = async (table: string, from: string, to: string) => {
    const rows: CsvRow[] = [];
    for (let date = from; date <= to; date = addDays(date, 1)) rows.push(...(await csv(table, date).catch(() => [])));
    return rows;
  };

  /** The six tiles of a range, summed here from the published CSV files of its days. */
  async function expectedTiles(from: string, to: string): Promise<Record<string, string>> {
    const funnel = await rowsOf('ga4_api_funnel_daily', from, to);
    const items = await rowsOf('ga4_api_items_daily', from, to);
    const sum = (rows: CsvRow[], column: string) => rows.reduce((total, row) => total + BigInt(row[column]!), 0n);
    const cents = (rows: CsvRow[], column: string) => rows.reduce((total, row) => total + BigInt(row[column]!.replace('.', '')), 0n);
    const revenue = cents(funnel, 'purchase_revenue');
    const n = sum(items, 'items_purchased');
    const d = sum(items, 'items_added_to_cart');
    // The contract's rate: 4 decimals, half up, empty when nothing was added.
    const rate = d === 0n ? '' : ((q) => `${q / 10000n}.${String(q % 10000n).padStart(4, '0')}`)((2n * n * 10000n + d) / (2n * d));
    return {
      sessions: String(sum(funnel, 'sessions')),
      add_to_carts: String(sum(funnel, 'add_to_carts')),
      checkouts: String(sum(funnel, 'checkouts')),
      purchases: String(sum(funnel, 'ecommerce_purchases')),
      revenue: `${revenue / 100n}.${String(revenue % 100n).padStart(2, '0')}`,
      item_cart_to_purchase: rate,
    };
  }

  const shownTiles = (page: Page, attribute = 'data-value'): Promise<Record<string, string>> =>
    page.$$eval('.tile', (tiles, name) => Object.fromEntries(tiles.map((t) => [t.getAttribute('data-tile'), t.getAttribute(name)])), attribute);
  const drawnMarks = async (page: Page, selector: string) =>
    (await page.$$eval(selector, (marks) => marks.map((m) => m.getBoundingClientRect()).map((r) => r.width > 0 && r.height > 0))).filter(Boolean).length;

  beforeAll(async () => {
    browser = await launchBrowser();
    dir = await tempDir();
    await generateDemoExport({ ...DEMO_DEFAULTS, outDir: join(dir, 'input'), days: DAYS, sessionsPerDay: 150 });
    emulator = await Ga4ApiEmulator.fromExportFiles(join(dir, 'input', 'events_*.json.gz'), { tokensPerDay: 200_000 });
    const endpoint = await emulator.start();
    loaded = parseConfig(
      `source: { type: ga4-data-api, property: properties/123456, api_endpoint: "${endpoint}" }
warehouse: { type: duckdb, path: state/w.duckdb }
export: { type: local, dir: exports }
landing: { dir: state/landing }
locale: en`,
      join(dir, 'cartlens.yaml'),
    );
    const dates = Array.from({ length: DAYS }, (_, i) => addDays(FIRST, i));
    const report = await runPipeline({ loaded, dates, now: () => new Date('2026-11-29T12:00:00Z') });
    expect(report.dates.map((d) => d.status)).toEqual(Array(DAYS).fill('published'));
    dashboard = await startDashboard(dashboardOptions(loaded, { port: 0 }));
    await mkdir(ARTIFACTS, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([dashboard, ...servers].map((s) => s?.close()));
    await emulator?.stop();
  });

  it("shows the source's own tiles, equal to the sums of the range's CSV files, against the previous period", async () => {
    const page = await browser.newPage();
    expect((await page.goto(dashboard.url))?.status()).toBe(200);
    const from = addDays(LAST, -6);
    expect(await page.inputValue('input[name=from]')).toBe(from);
    expect(await page.inputValue('input[name=to]')).toBe(LAST);
    expect(await page.locator('h1').textContent()).toBe('Cart dashboard (GA4 Data API)');
    expect(await page.locator('p.note').textContent()).toMatch(/GA4 Data API reports them/);
    const tiles = await shownTiles(page);
    expect(tiles).toEqual(await expectedTiles(from, LAST));
    expect(Number(tiles.sessions)).toBeGreaterThan(0);
    // The previous 7 days hold 3 published days.
    expect(await shownTiles(page, 'data-previous')).toEqual(await expectedTiles(addDays(from, -7), addDays(from, -1)));
    expect(await page.locator('p.previous').textContent()).toContain('(3/7');

    expect(await drawnMarks(page, 'svg.trend rect.sessions-bar')).toBe(7);
    expect(await drawnMarks(page, 'svg.trend circle.revenue-point')).toBe(7);
    expect(await page.locator('svg.trend polyline.revenue-line').count()).toBe(1);
    expect(await drawnMarks(page, 'svg.funnel g[data-step] rect')).toBe(4);
    expect(await page.$$eval('svg.funnel g[data-step]', (gs) => gs.map((g) => g.getAttribute('data-count')))).toEqual([tiles.sessions, tiles.add_to_carts, tiles.checkouts, tiles.purchases]);
    for (const dimension of ['device', 'country', 'source_medium']) {
      expect(await drawnMarks(page, `svg.breakdown-chart[data-dimension=${dimension}] g[data-key] rect`), dimension).toBeGreaterThan(0);
    }

    // The top items: by units added over the range, with the rate of the range's sums.
    const added = new Map<string, [bigint, bigint]>();
    for (const row of await rowsOf('ga4_api_items_daily', from, LAST)) {
      const [a, p] = added.get(row.item_id!) ?? [0n, 0n];
      added.set(row.item_id!, [a + BigInt(row.items_added_to_cart!), p + BigInt(row.items_purchased!)]);
    }
    const shownItems = await page.$$eval('table.top-items tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-item-id'), tr.getAttribute('data-added'), tr.getAttribute('data-rate')]));
    expect(shownItems.length).toBe(Math.min(10, [...added.values()].filter(([a]) => a > 0n).length));
    const most = [...added.values()].map(([a]) => a).sort((x, y) => (x < y ? 1 : x > y ? -1 : 0))[0]!;
    expect(shownItems[0]![1]).toBe(String(most));
    for (const [id, units, rate] of shownItems) {
      const [a, p] = added.get(id!)!;
      expect(units).toBe(String(a));
      expect(rate).toBe(((q) => `${q / 10000n}.${String(q % 10000n).padStart(4, '0')}`)((2n * p * 10000n + a) / (2n * a)));
    }
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-ga4-api.png'), fullPage: true });
    await page.close();
  });

  it('breaks sessions and revenue down by device exactly as the funnel CSV files grouped by device', async () => {
    const page = await browser.newPage();
    const to = addDays(FIRST, 2);
    await page.goto(`${dashboard.url}?from=${FIRST}&to=${to}`);
    expect(await shownTiles(page)).toEqual(await expectedTiles(FIRST, to));
    expect(await drawnMarks(page, 'svg.trend rect.sessions-bar')).toBe(3);
    const sessions = new Map<string, number>();
    const revenue = new Map<string, number>();
    for (const row of await rowsOf('ga4_api_funnel_daily', FIRST, to)) {
      const key = row.device_category || '(not set)';
      sessions.set(key, (sessions.get(key) ?? 0) + Number(row.sessions));
      revenue.set(key, Math.round((revenue.get(key) ?? 0) * 100 + Number(row.purchase_revenue) * 100) / 100);
    }
    const shown = await page.$$eval('svg.breakdown-chart[data-dimension=device] g[data-key]', (gs) =>
      gs.map((g) => [g.getAttribute('data-key'), Number(g.getAttribute('data-sessions')), Number(g.getAttribute('data-revenue'))] as const),
    );
    expect(sessions.size).toBeLessThanOrEqual(8); // else an "(other)" row would sum the rest
    expect(new Map(shown.map(([key, s]) => [key, s]))).toEqual(sessions);
    expect(new Map(shown.map(([key, , r]) => [key, r]))).toEqual(revenue);
    // Largest first.
    expect(shown.map(([, s]) => s)).toEqual([...sessions.values()].sort((a, b) => b - a));
    await page.close();
  });

  it("shows each day's run status with links to exactly the source's files, and serves no other", async () => {
    const page = await browser.newPage();
    await page.goto(`${dashboard.url}?from=${FIRST}&to=${LAST}`);
    const rows = await page.$$eval('table.days tbody tr', (trs) =>
      trs.map((tr) => ({ date: tr.getAttribute('data-date')!, status: tr.getAttribute('data-status'), final: tr.children[2]!.textContent, links: [...tr.querySelectorAll('a')].map((a) => a.getAttribute('href')!) })),
    );
    expect(rows.map((r) => r.date)).toEqual(Array.from({ length: DAYS }, (_, i) => addDays(LAST, -i)));
    expect(await page.locator('table.days th').count()).toBe(4); // no quality columns: the Data API has no lines
    for (const row of rows) {
      expect(row.status, row.date).toBe('complete');
      expect(row.final, row.date).toBe('yes');
      const compact = row.date.replaceAll('-', '');
      expect(row.links.map(decodeURIComponent)).toEqual([
        `/files/ga4_api_items_daily/dt=${row.date}/ga4_api_items_daily_${compact}.csv`,
        `/files/ga4_api_items_daily/dt=${row.date}/manifest.json`,
        `/files/ga4_api_funnel_daily/dt=${row.date}/ga4_api_funnel_daily_${compact}.csv`,
        `/files/ga4_api_funnel_daily/dt=${row.date}/manifest.json`,
        `/files/report/ga4_api/dt=${row.date}/report.html`,
        `/files/run_report/ga4_api/dt=${row.date}/run_report_${compact}.json`,
      ]);
    }
    const get = async (path: string) => page.request.get(new URL(path, dashboard.url).toString());
    for (const link of rows[0]!.links) expect((await get(link)).status(), link).toBe(200);
    expect(await (await get(rows[0]!.links[2]!)).text()).toBe(await readFile(join(dir, 'exports', decodeURIComponent(rows[0]!.links[2]!.slice('/files/'.length))), 'utf8'));
    expect((await get(`/files/_SUCCESS/ga4_api/dt=${FIRST}.json`)).status()).toBe(200);
    expect((await get('/files/run_report/ga4_api_last_run.json')).status()).toBe(200);
    // The events' files are not this source's: even where they exist, they are not served.
    await mkdir(join(dir, 'exports', 'report', `dt=${FIRST}`), { recursive: true });
    await writeFile(join(dir, 'exports', 'report', `dt=${FIRST}`, 'report.html'), '<p>events</p>');
    await mkdir(join(dir, 'exports', '_SUCCESS'), { recursive: true });
    await writeFile(join(dir, 'exports', '_SUCCESS', `dt=${FIRST}.json`), '{}');
    for (const path of [`/files/report/dt=${FIRST}/report.html`, `/files/_SUCCESS/dt=${FIRST}.json`, '/files/run_report/last_run.json', `/files/ga4_api_items_daily/dt=${FIRST}/other.csv`]) {
      expect((await get(path)).status(), path).toBe(404);
    }
    // The report's link opens the day's report.html.
    await page.click(`tr[data-date="${LAST}"] a[href$="report.html"]`);
    expect(await page.locator('h1').textContent()).toContain('GA4 Data API');
    await page.close();
  });

  it('returns the same data as JSON, and labels the page in pt-BR with the property currency', async () => {
    const json = (await (await fetch(`${dashboard.url}api/dashboard.json?from=${FIRST}&to=${LAST}`)).json()) as { totals: Record<string, string>; breakdowns: { device: unknown[] }; days: unknown[] };
    const tiles = await expectedTiles(FIRST, LAST);
    expect(json.totals).toMatchObject(tiles);
    expect(json.totals).not.toHaveProperty('total_purchasers');
    expect(json.days.length).toBe(DAYS);

    const server = await startDashboard({ ...dashboardOptions(loaded, { port: 0 }), format: { locale: 'pt-BR', currency: 'BRL' } });
    servers.push(server);
    const page = await browser.newPage();
    await page.goto(server.url);
    expect(await page.locator('h1').textContent()).toBe('Painel de carrinhos (GA4 Data API)');
    const raw = (await shownTiles(page)).revenue!;
    expect(await page.locator('[data-tile=revenue] .value').textContent()).toBe(new Intl.NumberFormat('pt-BR', { style: 'currency', currency: 'BRL' }).format(Number(raw)));
    expect(await page.locator('p.note').textContent()).toMatch(/GA4 Data API os informa/);
    await page.close();
  });
});
