// The GA4 Data API view's range queries on a hand-made warehouse: sums, the units' rate recomputed
// from the sums, "(other)", "(not set)", the previous period, and what the copy leaves out.
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duckdbSnapshotSource } from '../src/dashboard/copy-from-duckdb.js';
import { WarehouseSnapshot } from '../src/dashboard/snapshot.js';
import { apiView, eventsView, viewFor } from '../src/dashboard/view.js';
import type { ApiDashboardData } from '../src/dashboard/api-queries.js';
import { tempDir } from './support/pipeline.js';

const KEYS = { identity: 'ga4-data-api:properties/1', legacy: 'GA4 Data API properties/1' };
let snapshot: WarehouseSnapshot;

async function dataFor(asked: { from?: string; to?: string }): Promise<ApiDashboardData> {
  return snapshot.read((query) => apiView.data(query, asked)) as Promise<ApiDashboardData>;
}

beforeAll(async () => {
  const path = join(await tempDir(), 'warehouse.duckdb');
  const instance = await DuckDBInstance.create(path);
  const c = await instance.connect();
  // Three days: 2026-02-27 (the previous period of the two-day range below), 03-01 and 03-02.
  // Items: A adds 3, buys 1 on day 1 (rate 0.3333) and adds 1, buys 1 on day 2 (rate 1): the
  // range's rate is 2/4 = 0.5, not the mean 0.6667. B: 7 added, 0 bought. C: never added.
  // Units over the range: 2 + 0 bought of 4 + 7 added = 0.1818 (a mean of item rates would differ).
  await c.run(`
    CREATE TABLE ga4_api_funnel_daily AS SELECT * FROM (VALUES
      (DATE '2026-02-27', 'desktop', 'Brazil', 'google / cpc', 10, 1, 1, 1, 5.00::DECIMAL(38,2), 1)
    ) AS t(date, device_category, country, session_source_medium, sessions, add_to_carts, checkouts, ecommerce_purchases, purchase_revenue, total_purchasers);
    -- Day 1: 12 countries with 12..1 sessions (revenue 1.00 each); devices '' and NULL and mobile.
    INSERT INTO ga4_api_funnel_daily
      SELECT DATE '2026-03-01', CASE WHEN k % 3 = 0 THEN NULL WHEN k % 3 = 1 THEN '' ELSE 'mobile' END, 'C' || lpad(k::VARCHAR, 2, '0'), NULL, k, 1, 1, 1, 1.00, 99
      FROM range(1, 13) AS countries(k);
    INSERT INTO ga4_api_funnel_daily VALUES (DATE '2026-03-02', 'desktop', 'C01', 'google / organic', 22, 4, 2, 1, 10.55, 7);
    CREATE TABLE ga4_api_items_daily AS SELECT * FROM (VALUES
      (DATE '2026-03-01', 'A', 'Old name', 'Cat', 9, 3, 2, 1, 10.00::DECIMAL(38,2), 0.3333::DECIMAL(38,4)),
      (DATE '2026-03-02', 'A', 'New name', 'Cat', 9, 1, 1, 1, 12.00::DECIMAL(38,2), 1.0000::DECIMAL(38,4)),
      (DATE '2026-03-01', 'B', 'B', 'Dog', 1, 7, 0, 0, 0.00::DECIMAL(38,2), 0.0000::DECIMAL(38,4)),
      (DATE '2026-03-02', 'C', 'C', 'Dog', 5, 0, 0, 0, 0.00::DECIMAL(38,2), NULL))
      AS t(date, item_id, item_name, item_category, items_viewed, items_added_to_cart, items_checked_out, items_purchased, item_revenue, cart_to_purchase_rate);
    CREATE TABLE run_state (source VARCHAR, date DATE, status VARCHAR, final BOOLEAN, finished_at TIMESTAMP, last_error VARCHAR);
    INSERT INTO run_state VALUES ('${KEYS.identity}', DATE '2026-03-01', 'complete', true, now()::TIMESTAMP, NULL),
      ('${KEYS.identity}', DATE '2026-03-03', 'deferred', false, now()::TIMESTAMP, 'quota'),
      ('files:events', DATE '2026-03-02', 'failed', false, now()::TIMESTAMP, 'x');
    -- The events' tables beside them must not leak into this view.
    CREATE TABLE cart_funnel_daily (date DATE, sessions BIGINT);
    INSERT INTO cart_funnel_daily VALUES (DATE '2026-04-01', 1000);`);
  c.closeSync();
  instance.closeSync();
  snapshot = await WarehouseSnapshot.create(duckdbSnapshotSource(path), KEYS, apiView.copy);
  await snapshot.refresh();
});

afterAll(async () => snapshot?.close());

describe('dashboard range queries, GA4 Data API view', () => {
  it('is the view of a ga4-data-api source, and only of that one', () => {
    expect(viewFor({ kind: 'ga4-data-api' })).toBe(apiView);
    // The events' view, with the config's anomaly thresholds bound in.
    for (const kind of ['files', 'bigquery-export'] as const) expect(viewFor({ kind })).toMatchObject({ name: eventsView.name, copy: eventsView.copy, render: eventsView.render });
  });

  it("sums the days' additive metrics and recomputes the units' rate from the sums", async () => {
    const data = await dataFor({ from: '2026-03-01', to: '2026-03-02' });
    expect(data.totals).toEqual({
      days: '2',
      sessions: String(78 + 22),
      add_to_carts: String(12 + 4),
      checkouts: String(12 + 2),
      purchases: String(12 + 1),
      revenue: '22.55',
      units_added: '11',
      units_purchased: '2',
      item_cart_to_purchase: '0.1818',
    });
    // Never total_purchasers: it is not even in the copy.
    await expect(snapshot.read((query) => query('SELECT total_purchasers FROM ga4_api_funnel_daily'))).rejects.toThrow(/total_purchasers/);
  });

  it('compares with the previous period of the same length', async () => {
    const data = await dataFor({ from: '2026-03-01', to: '2026-03-02' });
    expect(data.previous).toEqual({ from: '2026-02-27', to: '2026-02-28' });
    expect(data.previousTotals).toMatchObject({ days: '1', sessions: '10', revenue: '5.00', units_added: '0', item_cart_to_purchase: null });
    const before = await dataFor({ from: '2026-02-20', to: '2026-02-21' });
    expect(before.totals).toMatchObject({ days: '0', sessions: '0', revenue: '0.00', item_cart_to_purchase: null });
  });

  it("lists items by units added to cart, with the range's rate and latest name", async () => {
    const data = await dataFor({ from: '2026-03-01', to: '2026-03-02' });
    expect(data.topItems).toEqual([
      { item_id: 'B', item_name: 'B', item_category: 'Dog', items_added_to_cart: '7', items_purchased: '0', item_revenue: '0.00', cart_to_purchase_rate: '0.0000' },
      { item_id: 'A', item_name: 'New name', item_category: 'Cat', items_added_to_cart: '4', items_purchased: '2', item_revenue: '22.00', cart_to_purchase_rate: '0.5000' },
    ]);
  });

  it('breaks sessions and revenue down: the 8 largest, then (other); NULL and empty are (not set)', async () => {
    const { country, device, sourceMedium } = (await dataFor({ from: '2026-03-01', to: '2026-03-01' })).breakdowns;
    expect(country.map((r) => r.key)).toEqual(['C12', 'C11', 'C10', 'C09', 'C08', 'C07', 'C06', 'C05', null]);
    expect(country.at(-1)).toMatchObject({ sessions: '10', revenue: '4.00' }); // 4 + 3 + 2 + 1
    expect(country.reduce((sum, r) => sum + Number(r.sessions), 0)).toBe(78);
    expect(country[0]!.share).toBeCloseTo(12 / 78, 10);
    // k % 3: 1 → '' and 0 → NULL are both "(not set)": 1+4+7+10 + 3+6+9+12 = 52; mobile 2+5+8+11 = 26.
    expect(device).toEqual([
      { key: '(not set)', sessions: '52', revenue: '8.00', share: 52 / 78 },
      { key: 'mobile', sessions: '26', revenue: '4.00', share: 26 / 78 },
    ]);
    expect(sourceMedium).toMatchObject([{ key: '(not set)', sessions: '78' }]);
  });

  it("shows every day with this source's run state only, and the trend of the published days", async () => {
    const data = await dataFor({ from: '2026-02-28', to: '2026-03-03' });
    expect(data.days.map((d) => [d.date, d.status, d.final, d.published])).toEqual([
      ['2026-02-28', null, null, false],
      ['2026-03-01', 'complete', true, true],
      ['2026-03-02', null, null, true],
      ['2026-03-03', 'deferred', false, false],
    ]);
    expect(data.trend).toEqual([
      { date: '2026-03-01', sessions: '78', revenue: '12.00' },
      { date: '2026-03-02', sessions: '22', revenue: '10.55' },
    ]);
  });

  it("defaults to the last 7 days up to the source's newest published day, and refuses bad ranges", async () => {
    expect((await dataFor({})).range).toEqual({ from: '2026-02-24', to: '2026-03-02' });
    await expect(dataFor({ from: '2026-03-02', to: '2026-03-01' })).rejects.toThrow(/after/);
    await expect(dataFor({ from: '2026-02-30' })).rejects.toThrow(/not a date/);
    await expect(dataFor({ from: '2024-01-01', to: '2026-03-01' })).rejects.toThrow(/more than 400 days/);
  });
});
