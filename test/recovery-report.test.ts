// Recovery in report.html (issue 22, item 3): the rates within 1, 3, 7 and 14 days of each cart
// date, counted only once their window has closed in the data, from a hand-made warehouse.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { DEMO_DEFAULTS } from '../src/config/schema.js';
import { runPipeline } from '../src/pipeline/run.js';
import { renderDailyReport, reportPath, reportRecoveries } from '../src/reports/daily-report.js';
import { rateText, reportCartDates, windowClosed, windowClosesOn, type Recovery } from '../src/reports/recovery.js';
import { generateDemoExport } from '../src/sources/demo/generator.js';
import { addDays } from '../src/util/dates.js';
import { dialectFor } from '../src/warehouse/index.js';
import type { Row } from '../src/warehouse/warehouse.js';
import { resultFor, tempDir, writeConfig } from './support/pipeline.js';
import { fillRecoveryWarehouse, FIRST } from './support/recovery-warehouse.js';

let instance: DuckDBInstance;
let connection: DuckDBConnection;
const dialect = dialectFor({ type: 'duckdb' });
const warehouse = { dialect, query: async (sql: string) => (await connection.runAndReadAll(sql)).getRowObjectsJson() as Row[] };

beforeAll(async () => {
  instance = await DuckDBInstance.create(join(await tempDir(), 'warehouse.duckdb'));
  connection = await instance.connect();
  await fillRecoveryWarehouse(connection);
});
afterAll(() => {
  connection?.closeSync();
  instance?.closeSync();
});

const rates = (r: Recovery) => r.windows.map((w) => w.rate);

describe('when a window has closed', () => {
  it("is the cart date plus the window's days plus the contract's two days of date tolerance", () => {
    expect([24, 72, 168, 336].map((h) => windowClosesOn(FIRST, h))).toEqual(['2026-03-04', '2026-03-06', '2026-03-10', '2026-03-17']);
    // A report shows the 16 cart dates before its date: the oldest has every window closed.
    expect(reportCartDates('2026-03-17')).toEqual(Array.from({ length: 16 }, (_, i) => addDays(FIRST, i)));
  });

  it('rounds a rate as the contract does, half up to 4 decimals, empty without carts', () => {
    expect(rateText(1, 3)).toBe('0.3333');
    expect(rateText(2, 3)).toBe('0.6667');
    expect(rateText(1, 20000)).toBe('0.0001'); // 0.00005 rounds up
    expect(rateText(7, 7)).toBe('1.0000');
    expect(rateText(0, 0)).toBeNull();
  });
});

describe("report.html's recovery", () => {
  it('counts every window of a cart date whose 14 days have elapsed, hours_to_recovery ≤ N', async () => {
    const shown = await reportRecoveries(warehouse, '2026-03-17');
    expect(shown.map((r) => r.cart_date)).toEqual(reportCartDates('2026-03-17'));
    const first = shown[0]!;
    // 24.00 is within 1 day, 24.01 is not; 72.00 within 3; 168.00 within 7; 336.00 within 14.
    expect(first).toMatchObject({ abandoned_carts: 10, recovered: 7, recovered_value: '31.75', same_item: 5, same_item_share: '0.7143', complete: true });
    expect(first.windows.map((w) => [w.closed, w.recovered])).toEqual([[true, 1], [true, 3], [true, 5], [true, 7]]);
    expect(rates(first)).toEqual(['0.1000', '0.3000', '0.5000', '0.7000']);
    // The 2nd's one recovery, 22 hours after; the newest cart dates' windows are still open.
    expect(rates(shown[1]!)).toEqual(['0.1000', '0.1000', '0.1000', null]);
    expect(shown.at(-1)!.windows.every((w) => !w.closed && w.rate === null)).toBe(true);
    expect(shown.at(-3)!.windows.map((w) => w.closed)).toEqual([true, false, false, false]); // 03-14 + 3 = 03-17
  });

  it("shows what was known on the report's date: later windows still open, later recoveries left out", async () => {
    // Cart dates before 03-01 have no published row: not shown.
    const [first] = await reportRecoveries(warehouse, '2026-03-10');
    expect(first).toMatchObject({ cart_date: FIRST, recovered: 6, recovered_value: '25.75', complete: false });
    expect(rates(first!)).toEqual(['0.1000', '0.3000', '0.5000', null]);
    // A day earlier the 7-day window is still open: a purchase within it may yet be published on 03-10.
    expect(rates((await reportRecoveries(warehouse, '2026-03-09'))[0]!)).toEqual(['0.1000', '0.3000', null, null]);
  });

  it('says "still open" in both locales, and carries each rate as published', async () => {
    const recoveries = await reportRecoveries(warehouse, '2026-03-10');
    const funnel = { sessions: '1', abandoned_carts: '10', abandoned_value: '1.00' };
    const en = renderDailyReport('2026-03-10', funnel, [], { locale: 'en', currency: 'USD' }, [], undefined, recoveries);
    const row = /<tr data-cart-date="2026-03-01"[^]*?<\/tr>/.exec(en)![0];
    expect([...row.matchAll(/data-window="(\d+)" data-(rate|open)="([^"]*)"/g)].map((m) => [m[1], m[2], m[3]])).toEqual([
      ['24', 'rate', '0.1000'],
      ['72', 'rate', '0.3000'],
      ['168', 'rate', '0.5000'],
      ['336', 'open', 'true'],
    ]);
    expect(row).toContain('>still open<');
    expect(row).toContain('data-recovered-value="25.75">$25.75 <span class="note">(so far)</span>');
    expect(row).toContain('data-same-item="0.6667">66.7%<'); // 4 of the 6 so far held an item of the cart
    expect(en).toContain('<th class="num">Within 1 day</th><th class="num">Within 3 days</th>');
    const br = renderDailyReport('2026-03-10', funnel, [], { locale: 'pt-BR', currency: 'BRL' }, [], undefined, recoveries);
    expect(br).toContain('>ainda aberta<');
    expect(br).toContain('Em até 7 dias');
    expect(br).toContain('R$\u00a025,75');
    // Newest cart date first.
    expect([...en.matchAll(/<tr data-cart-date="([^"]+)"/g)].map((m) => m[1])).toEqual(reportCartDates('2026-03-10').filter((d) => d >= FIRST).reverse());
  });
});

describe('report.html after a run, against the CSV files', () => {
  it("equals the contract's counts over every date's cart_recoveries file, against abandoned_carts", async () => {
    const dir = await tempDir();
    const days = 18;
    await generateDemoExport({ ...DEMO_DEFAULTS, outDir: join(dir, 'input'), days, sessionsPerDay: 200 });
    const configFile = await writeConfig(dir, 'locale: en\n');
    const run = resultFor(dir, await runPipeline({ loaded: parseConfig(await readFile(configFile, 'utf8'), configFile) }));
    const dates = run.report.dates.filter((d) => d.status === 'published').map((d) => d.date);
    expect(dates).toHaveLength(days);
    const last = dates.at(-1)!;
    const recoveries = (await Promise.all(dates.map((d) => run.csv('cart_recoveries', d)))).flat();
    const html = await readFile(join(dir, 'exports', reportPath(last)), 'utf8');
    let compared = 0;
    let recovered = 0;
    for (const cartDate of reportCartDates(last).filter((d) => dates.includes(d))) {
      const carts = (await run.csv('abandoned_carts', cartDate)).length;
      const ofDate = recoveries.filter((r) => r.cart_date === cartDate);
      const row = new RegExp(`<tr data-cart-date="${cartDate}"[^]*?</tr>`).exec(html)![0];
      for (const hours of [24, 72, 168, 336]) {
        const cell = new RegExp(`data-window="${hours}" data-(rate|open)="([^"]*)"`).exec(row)!;
        if (!windowClosed(cartDate, hours, last)) {
          expect(cell[1], `${cartDate} ${hours}`).toBe('open');
          continue;
        }
        const within = ofDate.filter((r) => Number(r.hours_to_recovery) <= hours).length;
        expect(cell[2], `${cartDate} ${hours}`).toBe(rateText(within, carts) ?? '');
        compared++;
        recovered += within;
      }
      const cents = ofDate.reduce((sum, r) => sum + Math.round(Number(r.cart_value) * 100), 0);
      expect(row).toContain(`data-recovered-value="${(cents / 100).toFixed(2)}"`);
      expect(row).toContain(`data-same-item="${rateText(ofDate.filter((r) => r.same_item === 'true').length, ofDate.length) ?? ''}"`);
    }
    // Every window of the oldest cart date, and fewer of each newer one.
    expect(compared).toBeGreaterThan(4);
    expect(recovered).toBeGreaterThan(0);
    // The demo's users come back: something was recovered, across dates.
    expect(recoveries.some((r) => r.cart_date !== r.date)).toBe(true);
  });
});
