// `npm run bench -- dashboard`: the dashboard (issue 6) on a year of daily data.
// Runs the pipeline on 7 generated days, repeats those days' published tables across 365 days
// in a second warehouse, then times: the dashboard's copy of the warehouse, its queries for 7, 30
// and 365 days, the whole HTTP response, and the first contentful paint in Chromium.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { chromium } from 'playwright-core';
import { parseConfig } from '../src/config/load.js';
import { startDashboard } from '../src/dashboard/server.js';
import { dashboardData, resolveRange } from '../src/dashboard/queries.js';
import { WarehouseSnapshot } from '../src/dashboard/snapshot.js';
import { duckdbSnapshotSource } from '../src/dashboard/copy-from-duckdb.js';
import { runPipeline } from '../src/pipeline/run.js';
import { addDays } from '../src/util/dates.js';
import { createSource } from '../src/sources/index.js';
import { runStateKeys } from '../src/sources/source.js';

const ROOT = join(process.env.CARTLENS_BENCH_DIR ?? join(tmpdir(), 'cartlens-bench'), 'dashboard');
const SESSIONS_PER_DAY = Number(process.env.CARTLENS_BENCH_SESSIONS ?? 10_000);
const YEAR = 365;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const weekDir = join(ROOT, 'week');
await mkdir(weekDir, { recursive: true });
const configFile = join(weekDir, 'cartlens.yaml');
await writeFile(
  configFile,
  `source: { type: demo, dir: input, days: 7, sessions_per_day: ${SESSIONS_PER_DAY} }\nwarehouse: { type: duckdb, path: state/warehouse.duckdb }\nexport: { type: local, dir: exports }\nlanding: { dir: state/landing }\nprivacy: { user_key_secret: "bench-secret-0123456789" }\n`,
);
const loaded = parseConfig(await readFile(configFile, 'utf8'), configFile);
const weekWarehouse = join(weekDir, 'state', 'warehouse.duckdb');
if (!existsSync(weekWarehouse)) {
  process.stderr.write(`running the pipeline on 7 days × ${SESSIONS_PER_DAY} sessions …\n`);
  await runPipeline({ loaded });
}
const source = runStateKeys(createSource(loaded.config.source, loaded.baseDir));

// A year: the 7 published days repeated 53 times, one week apart, cut to 365 days.
const yearWarehouse = join(ROOT, 'year.duckdb');
let lastDay: string;
await rm(yearWarehouse, { force: true });
{
  const instance = await DuckDBInstance.create(yearWarehouse);
  const connection = await instance.connect();
  await connection.run(`ATTACH '${weekWarehouse}' AS week (READ_ONLY)`);
  const [first] = (await connection.runAndReadAll(`SELECT strftime(min(date), '%Y-%m-%d') AS d FROM week.cart_funnel_daily`)).getRowObjectsJson();
  const start = String(first!.d);
  for (const table of ['cart_funnel_daily', 'cart_items_daily', 'abandoned_carts', 'run_state', 'quality_daily']) {
    await connection.run(`
      CREATE TABLE ${table} AS
      SELECT CAST(date + INTERVAL (7 * k) DAY AS DATE) AS date, * EXCLUDE (date, k)
      FROM week.${table} CROSS JOIN (SELECT range AS k FROM range(53)) AS weeks
      WHERE date + INTERVAL (7 * k) DAY < DATE '${start}' + INTERVAL ${YEAR} DAY`);
  }
  connection.closeSync();
  instance.closeSync();
  lastDay = addDays(start, YEAR - 1);
}

const time = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
  const started = process.hrtime.bigint();
  const result = await work();
  return [result, Number(process.hrtime.bigint() - started) / 1e6];
};
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const snapshot = await WarehouseSnapshot.create(duckdbSnapshotSource(yearWarehouse), source);
const [, copyMs] = await time(() => snapshot.refresh());
const counts = await snapshot.read((query) => query(`SELECT (SELECT count(*) FROM cart_funnel_daily) AS days, (SELECT sum(carts) FROM abandoned_carts_by_dimension) AS abandoned_carts, (SELECT count(*) FROM abandoned_carts_by_dimension) AS breakdown_rows, (SELECT count(*) FROM cart_items_daily) AS item_rows`));
process.stdout.write(`${JSON.stringify({ bench: 'dashboard-year', sessions_per_day: SESSIONS_PER_DAY, ...counts[0], copy_ms: Math.round(copyMs) })}\n`);

for (const days of [7, 30, YEAR]) {
  const asked = { from: addDays(lastDay, -(days - 1)), to: lastDay };
  const samples: number[] = [];
  for (let i = 0; i < 15; i++) {
    const [, ms] = await time(() =>
      snapshot.read(async (query) => {
        const { range, available } = await resolveRange(query, asked);
        return dashboardData(query, range, available);
      }),
    );
    samples.push(ms);
  }
  process.stdout.write(`${JSON.stringify({ bench: 'dashboard-queries', range_days: days, median_ms: +median(samples).toFixed(1), max_ms: +Math.max(...samples).toFixed(1) })}\n`);
}
await snapshot.close();

// First paint (the first one on a fresh server: the copy of the warehouse included) and whole
// responses, on the 7 demo days (the issue's goal: under 1 s) and on the year.
const browser = existsSync(CHROMIUM) ? await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] }) : null;
for (const [label, warehousePath, query] of [
  ['demo week', weekWarehouse, ''],
  ['year', yearWarehouse, ''],
  ['year', yearWarehouse, `?from=${addDays(lastDay, -(YEAR - 1))}&to=${lastDay}`],
] as const) {
  const dashboard = await startDashboard({ host: '127.0.0.1', port: 0, warehouse: duckdbSnapshotSource(warehousePath), runStateKeys: source, format: { locale: 'pt-BR', currency: 'BRL' }, exportConfig: loaded.config.export });
  const url = `${dashboard.url}${query}`;
  const paints: number[] = [];
  if (browser) {
    const page = await browser.newPage();
    for (let i = 0; i < 5; i++) {
      await page.goto(url);
      // The paint entry can land just after the load event: wait for it.
      await page.waitForFunction(() => performance.getEntriesByName('first-contentful-paint').length > 0);
      paints.push(await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]!.startTime));
    }
    await page.close();
  }
  const samples: number[] = [];
  let html = '';
  for (let i = 0; i < 15; i++) samples.push((await time(async () => (html = await (await fetch(url)).text())))[1]);
  process.stdout.write(
    `${JSON.stringify({
      bench: 'dashboard-page',
      data: label,
      range: query ? `${YEAR} days` : 'default (7 days)',
      cold_first_contentful_paint_ms: browser ? Math.round(paints[0]!) : 'no chromium',
      warm_first_contentful_paint_ms: browser ? Math.round(median(paints.slice(1))) : 'no chromium',
      median_response_ms: +median(samples).toFixed(1),
      html_kb: +(html.length / 1024).toFixed(1),
    })}\n`,
  );
  await dashboard.close();
}
await browser?.close();
