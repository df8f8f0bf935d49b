// The dashboard's range queries on a hand-made warehouse: sums, recomputed rates, "(other)", "(not set)".
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardData, resolveRange } from '../src/dashboard/queries.js';
import { WarehouseSnapshot } from '../src/dashboard/snapshot.js';
import { duckdbSnapshotSource } from '../src/dashboard/copy-from-duckdb.js';
import { tempDir } from './support/pipeline.js';
import { DUCKDB_COLUMN_TYPES } from '../src/contract/column-types.js';
import { publishedTable } from '../src/contract/tables.js';

const createAsContract = (name: string) => `CREATE TABLE ${name} (${publishedTable(name).columns.map((c) => `${c.name} ${DUCKDB_COLUMN_TYPES[c.kind]}`).join(', ')});`;

const SOURCE = 'test source';
let snapshot: WarehouseSnapshot;

async function dataFor(asked: { from?: string; to?: string }) {
  return snapshot.read(async (query) => {
    const { range, available } = await resolveRange(query, asked);
    return dashboardData(query, range, available);
  });
}

beforeAll(async () => {
  const path = join(await tempDir(), 'warehouse.duckdb');
  const instance = await DuckDBInstance.create(path);
  const c = await instance.connect();
  // Two days. Day 1: 3 abandoned of 7 carts; day 2: 1 of 2. Daily rates 0.4286 and 0.5; the range's is 4/9 = 0.4444.
  await c.run(`
    -- Made as the contract has it (a column the contract gains is there, NULL in these rows).
    ${createAsContract('cart_funnel_daily')}
    INSERT INTO cart_funnel_daily BY NAME SELECT * FROM (VALUES
      (DATE '2026-03-01', 100, 80, 7, 5, 4, 3, 0.4286::DECIMAL(38,4), 4, 100.10::DECIMAL(38,2), 30.05::DECIMAL(38,2)),
      (DATE '2026-03-02', 50, 40, 2, 1, 1, 1, 0.5000::DECIMAL(38,4), 1, 20.00::DECIMAL(38,2), 9.95::DECIMAL(38,2)))
      AS t(date, sessions, sessions_with_view_item, sessions_with_add_to_cart, sessions_with_begin_checkout, sessions_with_purchase, abandoned_carts, cart_abandonment_rate, purchases, revenue, abandoned_value);
    CREATE TABLE cart_items_daily AS SELECT * FROM (VALUES
      (DATE '2026-03-01', 'A', 'Old name', 'Cat', 3, 1, 2, 20.00::DECIMAL(38,2)),
      (DATE '2026-03-02', 'A', 'New name', 'Cat', 0, 0, 1, 10.00::DECIMAL(38,2)),
      (DATE '2026-03-01', 'B', 'B', 'Cat', 0, 0, 0, 0.00::DECIMAL(38,2)))
      AS t(date, item_id, item_name, item_category, add_to_cart_units, purchased_units, abandoned_units, abandoned_value);
    -- 12 countries with 12..1 carts of 1.00 each, and devices missing in two ways.
    CREATE TABLE abandoned_carts AS
      SELECT DATE '2026-03-01' AS date, 'u' AS user_key, n AS session_id, CASE WHEN n % 3 = 0 THEN NULL WHEN n % 3 = 1 THEN '' ELSE 'mobile' END AS device_category,
        'C' || lpad(k::VARCHAR, 2, '0') AS country, 'google' AS source, NULL AS medium, 1.00::DECIMAL(38,2) AS cart_value,
        n % 4 = 0 AS purchased_later, CASE n % 3 WHEN 0 THEN 'granted' WHEN 1 THEN 'denied' END AS ads_consent
      FROM range(1, 13) AS countries(k), LATERAL (SELECT range AS n FROM range(k)) AS carts;
    CREATE TABLE run_state (source VARCHAR, date DATE, status VARCHAR, final BOOLEAN, finished_at TIMESTAMP, last_error VARCHAR);
    INSERT INTO run_state VALUES ('${SOURCE}', DATE '2026-03-01', 'complete', true, now()::TIMESTAMP, NULL), ('other source', DATE '2026-03-02', 'failed', false, now()::TIMESTAMP, 'x');
    CREATE TABLE quality_daily (date DATE, lines BIGINT, duplicates BIGINT, quarantined BIGINT);
    INSERT INTO quality_daily VALUES (DATE '2026-03-01', 110, 2, 5);`);
  c.closeSync();
  instance.closeSync();
  snapshot = await WarehouseSnapshot.create(duckdbSnapshotSource(path), SOURCE);
  await snapshot.refresh();
});

afterAll(async () => snapshot?.close());

describe('dashboard range queries', () => {
  it('sums the days and computes the rate again from the sums, never averaging daily rates', async () => {
    const data = await dataFor({ from: '2026-03-01', to: '2026-03-02' });
    expect(data.totals).toMatchObject({ days: '2', sessions: '150', sessions_with_add_to_cart: '9', abandoned_carts: '4', cart_abandonment_rate: '0.4444', revenue: '120.10', abandoned_value: '40.00' });
    // The previous period: the two days before, with nothing published.
    expect(data.previous).toEqual({ from: '2026-02-27', to: '2026-02-28' });
    expect(data.previousTotals).toMatchObject({ days: '0', sessions: '0', cart_abandonment_rate: null });
  });

  it("lists items by abandoned value with the range's cart-to-purchase rate and latest name", async () => {
    const data = await dataFor({ from: '2026-03-01', to: '2026-03-02' });
    expect(data.topItems).toEqual([{ item_id: 'A', item_name: 'New name', item_category: 'Cat', abandoned_units: '3', abandoned_value: '30.00', cart_to_purchase_rate: '0.3333' }]);
  });

  it('keeps the 8 largest values of a breakdown and adds up the rest as (other)', async () => {
    const { country, device, sourceMedium } = (await dataFor({ from: '2026-03-01', to: '2026-03-01' })).breakdowns;
    expect(country.map((r) => r.key)).toEqual(['C12', 'C11', 'C10', 'C09', 'C08', 'C07', 'C06', 'C05', null]);
    expect(country.at(-1)).toMatchObject({ carts: '10', value: '10.00' }); // 4 + 3 + 2 + 1
    expect(country.reduce((sum, r) => sum + Number(r.carts), 0)).toBe(78);
    // NULL and '' are both "(not set)".
    expect(device.map((r) => r.key).sort()).toEqual(['(not set)', 'mobile']);
    expect(sourceMedium).toMatchObject([{ key: 'google / (not set)', carts: '78' }]);
  });

  it("shows every day of the range with the configured source's status and the quality counts", async () => {
    const data = await dataFor({ from: '2026-02-28', to: '2026-03-02' });
    expect(data.days.map((d) => [d.date, d.status, d.quarantined, d.published])).toEqual([
      ['2026-02-28', null, null, false],
      ['2026-03-01', 'complete', '5', true],
      ['2026-03-02', null, null, true],
    ]);
  });

  it('defaults to the last 7 days up to the newest published day, and refuses bad ranges', async () => {
    expect((await dataFor({})).range).toEqual({ from: '2026-02-24', to: '2026-03-02' });
    await expect(dataFor({ from: '2026-03-02', to: '2026-03-01' })).rejects.toThrow(/after/);
    await expect(dataFor({ from: '2026-02-30' })).rejects.toThrow(/not a date/);
    await expect(dataFor({ from: '2024-01-01', to: '2026-03-01' })).rejects.toThrow(/more than 400 days/);
  });
  it('counts the remarketable carts (not bought later, consent granted) and splits abandoned carts by consent', async () => {
    const data = await snapshot.read(async (query) => dashboardData(query, { from: '2026-03-01', to: '2026-03-01' }, { first: '2026-03-01', last: '2026-03-02' }));
    // The same rule in TypeScript over the same rows: k carts for country k, n = 0 … k-1.
    const carts = Array.from({ length: 12 }, (_, k) => Array.from({ length: k + 1 }, (_, n) => ({ later: n % 4 === 0, consent: ['granted', 'denied', ''][n % 3]! }))).flat();
    const remarketable = carts.filter((c) => !c.later && c.consent === 'granted').length;
    expect(data.totals).toMatchObject({ remarketable: String(remarketable), remarketable_value: `${remarketable}.00` });
    expect(data.consent.map((r) => [r.consent, Number(r.carts), Number(r.bought_later), Number(r.remarketable)])).toEqual(
      ['', 'denied', 'granted'].map((consent) => [consent, carts.filter((c) => c.consent === consent).length, carts.filter((c) => c.consent === consent && c.later).length, consent === 'granted' ? remarketable : 0]),
    );
  });
});
