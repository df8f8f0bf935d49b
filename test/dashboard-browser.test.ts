// The dashboard and the daily report in a real browser (issue 6): Debian's Chromium driven by
// playwright-core, against `startDashboard` on 127.0.0.1 over a pipeline run on demo data.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { parseConfig, type LoadedConfig } from '../src/config/load.js';
import { dashboardOptions } from '../src/dashboard/options.js';
import { startDashboard, type DashboardOptions, type RunningDashboard } from '../src/dashboard/server.js';
import { addDays } from '../src/util/dates.js';
import { runPipeline } from '../src/pipeline/run.js';
import { reportPath } from '../src/reports/daily-report.js';
import { DEMO_DEFAULTS } from '../src/config/schema.js';
import { generateDemoExport } from '../src/sources/demo/generator.js';
import { ConfigError } from '../src/util/errors.js';
import { BROWSER_TESTS, launchBrowser } from './support/browser.js';
import { resultFor, tempDir, writeConfig, type RunResult } from './support/pipeline.js';

const DAYS = 10;
const FIRST = DEMO_DEFAULTS.startDate;
const LAST = addDays(FIRST, DAYS - 1);
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const TOKEN = 'a-dashboard-token-for-tests-0123';

/** The six tiles of a range, computed here from the published CSV files of its days. */
async function expectedTiles(run: RunResult, from: string, to: string): Promise<Record<string, string>> {
  const sums = { sessions: 0n, sessions_with_add_to_cart: 0n, abandoned_carts: 0n, purchases: 0n, revenue: 0n, abandoned_value: 0n };
  for (let date = from; date <= to; date = addDays(date, 1)) {
    const rows = await run.csv('cart_funnel_daily', date).catch(() => []);
    for (const row of rows) {
      for (const key of ['sessions', 'sessions_with_add_to_cart', 'abandoned_carts', 'purchases'] as const) sums[key] += BigInt(row[key]!);
      for (const key of ['revenue', 'abandoned_value'] as const) sums[key] += BigInt(row[key]!.replace('.', ''));
    }
  }
  const cents = (value: bigint) => `${value / 100n}.${String(value % 100n).padStart(2, '0')}`;
  const n = sums.abandoned_carts;
  const d = sums.sessions_with_add_to_cart;
  // The contract's rate: 4 decimals, half up, empty with no add_to_cart.
  const rate = d === 0n ? '' : ((q) => `${q / 10000n}.${String(q % 10000n).padStart(4, '0')}`)((2n * n * 10000n + d) / (2n * d));
  return {
    sessions: String(sums.sessions),
    sessions_with_add_to_cart: String(d),
    cart_abandonment_rate: rate,
    abandoned_value: cents(sums.abandoned_value),
    purchases: String(sums.purchases),
    revenue: cents(sums.revenue),
  };
}

/** The range's six tiles (the remarketing section has its own). */
const MAIN_TILES = 'section.tiles:not(.remarketing) .tile';

async function shownTiles(page: Page, attribute = 'data-value'): Promise<Record<string, string>> {
  return page.$$eval(MAIN_TILES, (tiles, name) => Object.fromEntries(tiles.map((t) => [t.getAttribute('data-tile'), t.getAttribute(name)])), attribute);
}

/** Every chart has marks with a drawn (non-empty) box. */
async function drawnMarks(page: Page, selector: string): Promise<number> {
  const boxes = await page.$$eval(selector, (marks) => marks.map((m) => m.getBoundingClientRect()).map((r) => r.width > 0 && r.height > 0));
  return boxes.filter(Boolean).length;
}

// Skipped without Chromium on a developer machine (browser.ts says so); required with CI=true.
describe.skipIf(!BROWSER_TESTS.run)('dashboard in a browser', () => {
  let run: RunResult;
  let loaded: LoadedConfig;
  let browser: Browser;
  let dashboard: RunningDashboard;
  let options: DashboardOptions;
  const servers: RunningDashboard[] = [];

  beforeAll(async () => {
    // First, so that a CI machine without Chromium fails at once, not after the pipeline.
    browser = await launchBrowser();
    const dir = await tempDir();
    await generateDemoExport({ ...DEMO_DEFAULTS, outDir: join(dir, 'input'), days: DAYS, sessionsPerDay: 200, dirtyRate: 0.01 });
    const configFile = await writeConfig(dir);
    loaded = parseConfig(await readFile(configFile, 'utf8'), configFile);
    run = resultFor(dir, await runPipeline({ loaded }));
    options = dashboardOptions(loaded, { port: 0 });
    dashboard = await startDashboard(options);
    await mkdir(ARTIFACTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([dashboard, ...servers].map((s) => s?.close()));
  });

  it('loads on demo data with every chart drawn and the tiles equal to the CSVs of the range', async () => {
    const page = await browser.newPage();
    const response = await page.goto(dashboard.url);
    expect(response?.status()).toBe(200);
    // The default range: the last 7 published days, against the 7 before.
    const from = addDays(LAST, -6);
    expect(await page.inputValue('input[name=from]')).toBe(from);
    expect(await page.inputValue('input[name=to]')).toBe(LAST);
    expect(await shownTiles(page)).toEqual(await expectedTiles(run, from, LAST));
    expect(await shownTiles(page, 'data-previous')).toEqual(await expectedTiles(run, addDays(from, -7), addDays(from, -1)));

    expect(await drawnMarks(page, 'svg.trend rect.value-bar')).toBe(7);
    expect(await drawnMarks(page, 'svg.trend circle.rate-point')).toBe(7);
    expect(await page.locator('svg.trend polyline.rate-line').count()).toBe(1);
    expect(await drawnMarks(page, 'svg.funnel g[data-step] rect')).toBe(5);
    for (const dimension of ['device', 'country', 'source_medium']) {
      expect(await drawnMarks(page, `svg.breakdown-chart[data-dimension=${dimension}] g[data-key] rect`), dimension).toBeGreaterThan(0);
    }
    expect(await page.locator('table.top-items tbody tr').count()).toBe(10);
    // Remarketable carts (not bought later, consent granted) beside all abandoned carts, from the CSVs.
    let abandoned = 0;
    let remarketable = 0;
    for (let date = from; date <= LAST; date = addDays(date, 1)) {
      for (const row of await run.csv('abandoned_carts', date)) {
        abandoned++;
        if (row.purchased_later === 'false' && row.ads_consent === 'granted') remarketable++;
      }
    }
    const remarketing = await page.$$eval('section.tiles.remarketing .tile', (tiles) => Object.fromEntries(tiles.map((t) => [t.getAttribute('data-tile'), t.getAttribute('data-value')])));
    expect([remarketing.abandoned_carts, remarketing.remarketable]).toEqual([String(abandoned), String(remarketable)]);
    expect(remarketable).toBeGreaterThan(0);
    expect(await page.locator('table.consent tbody tr').count()).toBe(3);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    await page.close();
  });

  it('changing the range changes the tiles, the trend and the breakdowns, still equal to the CSVs', async () => {
    const page = await browser.newPage();
    await page.goto(dashboard.url);
    const before = await shownTiles(page);
    const to = addDays(FIRST, 2);
    await page.fill('input[name=from]', FIRST);
    await page.fill('input[name=to]', to);
    await Promise.all([page.waitForURL(/from=/), page.click('button[type=submit]')]);
    const after = await shownTiles(page);
    expect(after).toEqual(await expectedTiles(run, FIRST, to));
    expect(after.sessions).not.toBe(before.sessions);
    expect(await drawnMarks(page, 'svg.trend rect.value-bar')).toBe(3);

    // The device breakdown is the abandoned_carts CSV of those days, grouped.
    const carts = new Map<string, number>();
    for (let date = FIRST; date <= to; date = addDays(date, 1)) {
      for (const row of await run.csv('abandoned_carts', date)) carts.set(row.device_category || '(not set)', (carts.get(row.device_category || '(not set)') ?? 0) + 1);
    }
    const shown = await page.$$eval('svg.breakdown-chart[data-dimension=device] g[data-key]', (gs) => gs.map((g) => [g.getAttribute('data-key'), Number(g.getAttribute('data-carts'))]));
    expect(new Map(shown as [string, number][])).toEqual(carts);
    await page.close();
  });

  it("shows each day's run status and quarantined lines, with links to the day's files", async () => {
    const page = await browser.newPage();
    await page.goto(`${dashboard.url}?from=${FIRST}&to=${LAST}`);
    const rows = await page.$$eval('table.days tbody tr', (trs) =>
      trs.map((tr) => ({ date: tr.getAttribute('data-date'), status: tr.getAttribute('data-status'), quarantined: tr.querySelector('[data-quarantined]')!.getAttribute('data-quarantined'), links: [...tr.querySelectorAll('a')].map((a) => a.getAttribute('href')) })),
    );
    expect(rows.length).toBe(DAYS);
    const quarantined = Object.fromEntries(run.report.dates.map((d) => [d.date, String(d.quality.quarantined)]));
    expect(run.report.dates.some((d) => d.quality.quarantined > 0)).toBe(true);
    for (const row of rows) {
      expect(['complete', 'provisional']).toContain(row.status);
      expect(row.quarantined, row.date!).toBe(quarantined[row.date!]);
      expect(row.links.length, row.date!).toBe(6); // the four tables' CSV files, report.html, the run report
    }
    // A CSV link serves the published file itself.
    const href = rows[0]!.links.find((l) => l!.includes('cart_funnel_daily'))!;
    const file = await page.request.get(new URL(href!, dashboard.url).toString());
    expect(file.status()).toBe(200);
    expect(await file.text()).toBe(await run.csvText('cart_funnel_daily', rows[0]!.date!));
    await page.close();
  });

  it('labels and formats in pt-BR with the property currency', async () => {
    const server = await startDashboard({ ...options, format: { locale: 'pt-BR', currency: 'BRL' } });
    servers.push(server);
    const page = await browser.newPage();
    await page.goto(server.url);
    const revenue = await page.locator('[data-tile=revenue] .value').textContent();
    const raw = (await shownTiles(page)).revenue!;
    expect(revenue).toBe(new Intl.NumberFormat('pt-BR', { style: 'currency', currency: 'BRL' }).format(Number(raw)));
    expect(await page.locator('h1').textContent()).toBe('Painel de carrinhos');
    await page.close();
  });

  it('the daily report.html opens with no network: nothing but the file is requested', async () => {
    const context = await browser.newContext({ offline: true });
    const page = await context.newPage();
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    const file = pathToFileURL(join(run.dir, 'exports', reportPath(LAST))).toString();
    await page.goto(file);
    expect(requested).toEqual([file]);
    expect(await drawnMarks(page, 'svg.funnel g[data-step] rect')).toBe(5);
    expect(await shownTiles(page)).toEqual(await expectedTiles(run, LAST, LAST));
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    await context.close();
  });

  it('bound beyond localhost, refuses a request without the token, and takes one with it', async () => {
    // 127.0.0.2 is not one of the loopback names the rule lets through (tests bind to loopback only).
    await expect(startDashboard({ ...options, host: '127.0.0.2' })).rejects.toThrow(ConfigError);
    const server = await startDashboard({ ...options, host: '127.0.0.2', token: TOKEN });
    servers.push(server);
    const context = await browser.newContext();
    const page = await context.newPage();
    const refused = await page.goto(server.url);
    expect(refused?.status()).toBe(401);
    expect(await page.locator(MAIN_TILES).count()).toBe(0);
    expect((await page.request.get(`${server.url}api/dashboard.json`)).status()).toBe(401);
    expect((await page.request.get(`${server.url}?token=wrong-token-of-some-length`)).status()).toBe(401);
    expect((await page.request.get(`${server.url}api/dashboard.json`, { headers: { authorization: `Bearer ${TOKEN}` } })).status()).toBe(200);

    // ?token= once: the server moves it into a cookie and out of the address.
    const accepted = await page.goto(`${server.url}?token=${TOKEN}`);
    expect(accepted?.status()).toBe(200);
    expect(page.url()).toBe(server.url);
    expect(await page.locator(MAIN_TILES).count()).toBe(6);
    await context.close();
  });
});
