// The restatement log and intraday, shown (issue 23): a republished date's report.html carries a
// "revised" mark with the funnel's metrics before and after and a line per other table, naming the
// run and the one before; the dashboard marks the date revised (before → after) and a date computed
// from GA4's intraday data "provisional (intraday)", over DuckDB and over BigQuery; a report built
// with `input: 'intraday'` says its numbers are provisional and will be replaced.
import { copyFile, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type LoadedConfig } from '../src/config/load.js';
import type { BigQueryWarehouseConfig } from '../src/config/schema.js';
import { bigQuerySnapshotSource } from '../src/dashboard/copy-from-bigquery.js';
import { duckdbSnapshotSource } from '../src/dashboard/copy-from-duckdb.js';
import { dashboardOptions } from '../src/dashboard/options.js';
import { startDashboard, type DashboardOptions, type RunningDashboard } from '../src/dashboard/server.js';
import type { RunReport } from '../src/pipeline/report.js';
import { runPipeline, type RunRequest } from '../src/pipeline/run.js';
import { eventsDailyReport, reportPath } from '../src/reports/daily-report.js';
import { dialectFor, openWarehouse } from '../src/warehouse/index.js';
import { BROWSER_TESTS, launchBrowser } from './support/browser.js';
import { RecordingGcp } from './support/local-gcp.js';
import { cartDay, executeOnWarehouse, tempDir, writeConfig, writeInput } from './support/pipeline.js';
import { describeWithZetaSql } from './support/zetasql/guard.js';

/** Each run an hour after the one before: run ids begin with their start, so they sort as the runs ran. */
const at = (hour: number) => () => new Date(`2026-11-20T${String(hour).padStart(2, '0')}:00:00Z`);
const DAY = '2026-11-03';
const OTHER = '2026-11-02';


/** Every `<tr data-column data-before data-after>` of report.html's revision table. */
const revisedRows = (html: string) => [...html.matchAll(/<tr data-column="([^"]*)" data-before="([^"]*)" data-after="([^"]*)">/g)].map((m) => ({ column: m[1], before: m[2] || null, after: m[3] || null }));


// One project for the whole file: DAY published, then republished twice with more sessions; OTHER published once.
let dir: string;
let loaded: LoadedConfig;
let warehousePath: string;
let first: RunReport;
let second: RunReport;
let third: RunReport;
const html = (date: string) => readFile(join(dir, 'exports', reportPath(date)), 'utf8');
let firstHtml: string;
let secondHtml: string;

beforeAll(async () => {
  dir = await tempDir();
  const configFile = await writeConfig(dir, 'locale: en\nproperty: { currency: USD }\n');
  loaded = parseConfig(await readFile(configFile, 'utf8'), configFile);
  warehousePath = join(dir, 'state', 'warehouse.duckdb');
  const run = (hour: number, request: Partial<RunRequest> = {}) => runPipeline({ loaded, now: at(hour), ...request });
  const input = async (sessions: number, buyers: number) => {
    await rm(join(dir, 'input'), { recursive: true, force: true });
    await writeInput(dir, { [`events_${OTHER.replaceAll('-', '')}.json`]: cartDay(OTHER.replaceAll('-', ''), 8, 2), [`events_${DAY.replaceAll('-', '')}.json`]: cartDay(DAY.replaceAll('-', ''), sessions, buyers) });
  };
  await input(10, 3);
  first = await run(10);
  firstHtml = await html(DAY);
  await input(12, 4);
  second = await run(11, { dates: [DAY] });
  secondHtml = await html(DAY);
  await input(14, 4);
  third = await run(12, { dates: [DAY] });
}, 120_000);

describe("report.html's revised mark", () => {
  it('a date published once has no mark; republished with other numbers, its report shows the funnel before and after, the other tables, and the runs', async () => {
    expect(first.restatements).toEqual([]);
    expect(firstHtml).not.toContain('data-mark="revised"');
    expect(revisedRows(firstHtml)).toEqual([]);

    // The run's own revision is in the report it publishes: every changed metric, as the CSV writes it.
    const funnel = second.restatements.find((r) => r.table === 'cart_funnel_daily')!;
    expect(funnel.changes.find((c) => c.column === 'sessions')).toEqual({ column: 'sessions', before: '10', after: '12' });
    expect(revisedRows(secondHtml)).toEqual(funnel.changes);
    expect(secondHtml).toMatch(new RegExp(`<h1>Cart report — ${DAY} <span class="mark revised" data-mark="revised" title="changed by run ${second.run_id}; published before by run ${first.run_id}">revised</span></h1>`));
    expect(secondHtml).toContain(`<section class="revision" data-revised-run="${second.run_id}" data-previous-run="${first.run_id}">`);
    // The other tables, one line each: abandoned_carts lost one cart (bought now) and gained two.
    const others = Object.fromEntries([...secondHtml.matchAll(/<li data-table="([a-z_]+)">([^<]*)<\/li>/g)].map((m) => [m[1], m[2]]));
    expect(Object.keys(others)).toEqual(second.restatements.filter((r) => r.table !== 'cart_funnel_daily').map((r) => r.table));
    expect(others.abandoned_carts).toMatch(/^abandoned_carts: rows 7 → 8; rows added 2; rows removed 1; sum\(distinct_items\) 7 → 8; /);

    // Republished again: the latest revision, against the run before it, and how many there were.
    const latest = await html(DAY);
    expect(revisedRows(latest)).toEqual(third.restatements.find((r) => r.table === 'cart_funnel_daily')!.changes);
    expect(revisedRows(latest).find((c) => c.column === 'sessions')).toEqual({ column: 'sessions', before: '12', after: '14' });
    expect(latest).toContain(`changed by run ${third.run_id}; published before by run ${second.run_id} (2 revisions)`);
    expect(latest).toContain('<td>sessions</td><td class="num">12</td><td class="num">14</td><td class="num">+16.7%</td>');
    // A date the runs did not republish keeps a plain report.
    expect(await html(OTHER)).not.toContain('data-mark="revised"');
  });

  it('in both locales; and a report from intraday data says it is provisional and will be replaced', async () => {
    const warehouse = await openWarehouse(loaded.config.warehouse, dialectFor({ type: 'duckdb' }));
    try {
      const build = async (options: Parameters<typeof eventsDailyReport>[2], date = DAY) => (await eventsDailyReport(warehouse, date, options))!.html;
      const pt = await build({ locale: 'pt-BR', currency: 'BRL' });
      expect(pt).toContain('<span class="mark revised" data-mark="revised"');
      expect(pt).toContain('>revisado</span>');
      expect(pt).toContain('<h2>Números revisados</h2>');
      expect(pt).toContain(`alterados pela execução ${third.run_id}; publicados antes pela execução ${second.run_id} (2 revisões)`);
      expect(revisedRows(pt)).toEqual(revisedRows(await html(DAY)));
      expect(pt).toContain('<th class="num">Antes</th><th class="num">Depois</th>');

      // The option the run passes for a date computed from GA4's intraday data.
      const daily = await build({ locale: 'en', currency: 'USD' }, OTHER);
      expect(daily).not.toContain('intraday');
      expect(await build({ locale: 'en', currency: 'USD', input: 'daily' }, OTHER)).toBe(daily);
      const intraday = await build({ locale: 'en', currency: 'USD', input: 'intraday' }, OTHER);
      expect(intraday).toContain(`<h1>Cart report — ${OTHER} <span class="mark intraday" data-mark="intraday">provisional (intraday)</span></h1>`);
      expect(intraday).toMatch(/<p class="note intraday" data-input="intraday">Provisional: computed from GA4's intraday data \(events_intraday\)[^<]*will be replaced when GA4's daily export of this date arrives\.<\/p>/);
      const intradayPt = await build({ locale: 'pt-BR', currency: 'BRL', input: 'intraday' }, OTHER);
      expect(intradayPt).toContain('>provisório (intraday)</span>');
      expect(intradayPt).toMatch(/Provisório: calculado a partir dos dados intraday do GA4[^<]*serão substituídos quando chegar o export diário/);
    } finally {
      await warehouse.close();
    }
  });
});

describe("the dashboard's marks", () => {
  const servers: RunningDashboard[] = [];
  let options: DashboardOptions;
  const range = `?from=${OTHER}&to=${DAY}`;
  beforeAll(async () => {
    // OTHER as a run publishing it from GA4's intraday data records it.
    await executeOnWarehouse(warehousePath, `UPDATE run_state SET status = 'provisional', final = false, input = 'intraday' WHERE date = DATE '${OTHER}'`);
    options = dashboardOptions(loaded, { port: 0 });
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });
  const start = async (overrides: Partial<DashboardOptions> = {}) => {
    const server = await startDashboard({ ...options, ...overrides });
    servers.push(server);
    return server;
  };
  const json = async (server: RunningDashboard) => {
    const { snapshot, ...data } = (await (await fetch(`${server.url}api/dashboard.json${range}`)).json()) as { snapshot: { stale: string | null }; revisions: unknown[]; days: Record<string, unknown>[] };
    expect(snapshot.stale).toBeNull();
    return data;
  };
  const row = (page: string, date: string) => new RegExp(`<tr data-date="${date}"[^]*?</tr>`).exec(page)![0];

  it('marks the revised date with its latest revision, before → after, and the intraday date "provisional (intraday)"', async () => {
    const server = await start();
    const data = await json(server);
    expect(data.revisions).toEqual([
      {
        date: DAY,
        run_id: third.run_id,
        previous_run_id: second.run_id,
        count: 2,
        tables: third.restatements.map((r) => ({ table: r.table, previous_run_id: r.previous_run_id, changes: r.changes })),
      },
    ]);
    expect(data.days.map((d) => [d.date, d.status, d.input])).toEqual([
      [OTHER, 'provisional', 'intraday'],
      [DAY, 'complete', 'daily'],
    ]);

    const page = await (await fetch(`${server.url}${range}`)).text();
    const revised = row(page, DAY);
    expect(revised).toContain(`<span class="mark revised" data-mark="revised" data-revised-run="${third.run_id}" title="changed by run ${third.run_id}; published before by run ${second.run_id} (2 revisions)`);
    expect(revised).toMatch(/<div class="revision">sessions 12 → 14 \(\+16\.7%\) · sessions_with_view_item 12 → 14 \(\+16\.7%\) · /);
    expect(revised).toContain('abandoned_carts: rows 8 → 10; rows added 2');
    const intraday = row(page, OTHER);
    expect(intraday).toMatch(/^<tr data-date="2026-11-02" data-status="provisional" data-input="intraday"><td>2026-11-02<\/td><td class="status-provisional">provisional \(intraday\)<\/td>/);
    expect(intraday).not.toContain('data-mark="revised"');

    const pt = await (await fetch(`${(await start({ format: { locale: 'pt-BR', currency: 'BRL' } })).url}${range}`)).text();
    expect(row(pt, OTHER)).toContain('>provisório (intraday)</td>');
    expect(row(pt, DAY)).toContain('>revisado</span>');
    expect(row(pt, DAY)).toContain(`alterados pela execução ${third.run_id}`);
  });

  it('a plain provisional date (daily data in its revision window) is not marked intraday', async () => {
    await executeOnWarehouse(warehousePath, `UPDATE run_state SET status = 'provisional', final = false, input = 'daily' WHERE date = DATE '${DAY}'`);
    try {
      const page = await (await fetch(`${(await start()).url}${range}`)).text();
      expect(row(page, DAY)).toMatch(/^<tr data-date="2026-11-03" data-status="provisional"><td>2026-11-03<\/td><td class="status-provisional">provisional <span class="mark revised"/);
    } finally {
      await executeOnWarehouse(warehousePath, `UPDATE run_state SET status = 'complete', final = true WHERE date = DATE '${DAY}'`);
    }
  });

  it('a warehouse from before the restatement log and intraday (no restatements table, no run_state.input) shows no mark and no error', async () => {
    const older = join(dir, 'older.duckdb');
    await copyFile(warehousePath, older);
    await executeOnWarehouse(older, 'DROP TABLE restatements; ALTER TABLE run_state DROP COLUMN input;');
    const data = await json(await start({ warehouse: duckdbSnapshotSource(older) }));
    expect(data.revisions).toEqual([]);
    expect(data.days.map((d) => [d.date, d.status, d.input])).toEqual([
      [OTHER, 'provisional', null],
      [DAY, 'complete', null],
    ]);
  });

  describe.skipIf(!BROWSER_TESTS.run)('in a browser', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchBrowser();
    });
    afterAll(() => browser?.close());

    it('shows the marks: the revised one with its changes on a line and its runs as a tooltip', async () => {
      const page = await browser.newPage();
      try {
        await page.goto(`${(await start()).url}${range}`);
        const mark = page.locator(`tr[data-date="${DAY}"] .mark.revised`);
        expect(await mark.textContent()).toBe('revised');
        expect(await mark.getAttribute('title')).toMatch(new RegExp(`^changed by run ${third.run_id}; published before by run ${second.run_id} \\(2 revisions\\)\\nsessions 12 → 14 \\(\\+16\\.7%\\); `));
        expect(await mark.isVisible()).toBe(true);
        expect(await page.locator(`tr[data-date="${DAY}"] .revision`).textContent()).toContain('sessions 12 → 14 (+16.7%)');
        expect(await page.locator(`tr[data-date="${OTHER}"] td.status-provisional`).textContent()).toBe('provisional (intraday)');
        expect(await page.locator(`tr[data-date="${DAY}"] td.status-complete`).evaluate((td) => td.firstChild!.textContent)).toBe('complete ');
      } finally {
        await page.close();
      }
    });
  });

  describeWithZetaSql('over BigQuery (the local engine)', () => {
    let gcp: RecordingGcp;
    let olderGcp: RecordingGcp;
    const DATASETS = ['cartlens_marts', 'cartlens_staging'];
    beforeAll(async () => {
      // Two projects: one local engine holds both.
      const engine = (project: string) => RecordingGcp.start({ project, dataset: 'analytics_1' });
      [gcp, olderGcp] = await Promise.all([engine('shop-project'), engine('older-project')]);
    });
    afterAll(async () => {
      await Promise.all([gcp?.stop(), olderGcp?.stop()]);
    });
    const bigQueryAt = (local: RecordingGcp) =>
      bigQuerySnapshotSource(parseConfig(`source: { type: demo }\nwarehouse: { type: bigquery, project: ${local.gcp.options.project}, api_endpoint: "${local.endpoint}" }`, join(dir, 'bq.yaml')).config.warehouse as BigQueryWarehouseConfig);

    it('copies the restatement log and run_state.input: the same marks as over DuckDB; a run_state without input reads as NULL', async () => {
      await gcp.copyDuckDbTables(warehousePath, DATASETS);
      const overBigQuery = await start({ warehouse: bigQueryAt(gcp) });
      const expected = await json(await start());
      const actual = await json(overBigQuery);
      expect(actual.revisions).toHaveLength(1);
      expect(actual).toEqual(expected);
      const page = await (await fetch(`${overBigQuery.url}${range}`)).text();
      expect(row(page, DAY)).toContain(`data-revised-run="${third.run_id}"`);
      expect(row(page, OTHER)).toContain('>provisional (intraday)</td>');
      // The restatement log is read from staging, as run_state is (its own grant in deploy/iam.yaml).
      expect(gcp.sqls().some((sql) => /FROM `shop-project\.cartlens_staging\.restatements` FOR SYSTEM_TIME AS OF/.test(sql))).toBe(true);

      // A warehouse no run of this release has opened has no run_state.input: read as NULL. (Its
      // missing restatements table is not tried here: under time travel the local engine answers
      // "Invalid snapshot time" where BigQuery answers "Not found: Table"; DuckDB's copy is tested above.)
      const older = join(dir, 'older-bq.duckdb');
      await copyFile(warehousePath, older);
      await executeOnWarehouse(older, 'DELETE FROM restatements; ALTER TABLE run_state DROP COLUMN input;');
      await olderGcp.copyDuckDbTables(older, DATASETS);
      const old = await json(await start({ warehouse: bigQueryAt(olderGcp) }));
      expect(old.revisions).toEqual([]);
      expect(old.days.map((d) => [d.date, d.input])).toEqual([
        [OTHER, null],
        [DAY, null],
      ]);
    });
  });
});
