// The anomaly check covers the 7-day recovery rate (issue 22, item 3): when a date is published,
// the cart date whose 7-day window it closes (9 days before) is judged against the cart dates of
// its 4 baseline days, on the warehouse and on the dashboard's copy alike.
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DUCKDB_COLUMN_TYPES } from '../src/contract/column-types.js';
import { publishedTable } from '../src/contract/tables.js';
import { duckdbSnapshotSource } from '../src/dashboard/copy-from-duckdb.js';
import { dashboardData } from '../src/dashboard/queries.js';
import { WarehouseSnapshot } from '../src/dashboard/snapshot.js';
import { baselineDates, detectAnomalies, formatAnomaly, isAnomaly, recoveryCartDate, type Anomaly } from '../src/reports/anomaly-check.js';
import { addDays, dateRange } from '../src/util/dates.js';
import { dialectFor } from '../src/warehouse/index.js';
import type { Row } from '../src/warehouse/warehouse.js';
import { tempDir } from './support/pipeline.js';

const JUDGED = '2026-03-10';
const SPIKE_CARTS = '2026-03-01';
const createAsContract = (name: string) => `CREATE TABLE ${name} (${publishedTable(name).columns.map((c) => `${c.name} ${DUCKDB_COLUMN_TYPES[c.kind]}`).join(', ')});`;

/**
 * Every date from 5 weeks before the judged one: the same funnel, 10 abandoned carts, 2 recovered
 * within 7 days (and 1 after 169 hours, beyond them); the spike's cart date has 5 within 7 days.
 */
async function fill(c: DuckDBConnection): Promise<void> {
  const dates = dateRange(addDays(JUDGED, -40), JUDGED);
  const recovery = (cartDate: string, i: number, hours: number) =>
    `(DATE '${addDays(cartDate, Math.ceil(hours / 24))}', DATE '${cartDate}', 'u${i}', ${i}, 1.00, TIMESTAMP '2026-01-01 00:00:00', TIMESTAMP '2026-01-02 00:00:00', ${hours.toFixed(2)}, true, 't', 1.00)`;
  const rows = dates.flatMap((d) => [recovery(d, 1, 10), recovery(d, 2, 168), recovery(d, 3, 169), ...(d === SPIKE_CARTS ? [recovery(d, 4, 30), recovery(d, 5, 100), recovery(d, 6, 150)] : [])]);
  await c.run(`
    ${createAsContract('cart_funnel_daily')}
    INSERT INTO cart_funnel_daily (date, sessions, sessions_with_add_to_cart, abandoned_carts, cart_abandonment_rate, revenue, abandoned_value)
      SELECT d, 100, 20, 10, 0.5, 100.00, 50.00 FROM (VALUES ${dates.map((d) => `(DATE '${d}')`).join(', ')}) AS t(d);
    ${createAsContract('cart_recoveries')}
    INSERT INTO cart_recoveries VALUES ${rows.join(', ')};
    ${createAsContract('abandoned_carts')}
    ${createAsContract('cart_items_daily')}`);
}

let path: string;
let instance: DuckDBInstance;
let connection: DuckDBConnection;
const warehouse = { dialect: dialectFor({ type: 'duckdb' }), query: async (sql: string) => (await connection.runAndReadAll(sql)).getRowObjectsJson() as Row[] };

beforeAll(async () => {
  path = join(await tempDir(), 'warehouse.duckdb');
  instance = await DuckDBInstance.create(path);
  connection = await instance.connect();
  await fill(connection);
});
afterAll(() => {
  connection?.closeSync();
  instance?.closeSync();
});

describe('the 7-day recovery rate in the anomaly check', () => {
  it("is judged on the date that closes its cart date's window, against its baseline days' cart dates", async () => {
    expect(recoveryCartDate(JUDGED)).toBe(SPIKE_CARTS);
    const [check] = await detectAnomalies(warehouse, [JUDGED]);
    expect(isAnomaly(check!)).toBe(true);
    const anomaly = check as Anomaly;
    // 5 of 10 carts within 168 hours against 2 of 10 each baseline cart date: +30 points. The one at 169 hours is beyond the window.
    expect(anomaly.metrics.at(-1)).toEqual({ metric: 'recovery_rate_7d', value: 0.5, baseline: 0.2, unit: 'points', change: 30, beyond: true, cart_date: SPIKE_CARTS });
    expect(anomaly.beyond).toEqual(['recovery_rate_7d']);
    expect(formatAnomaly(anomaly)).toBe(`${JUDGED}: recovery_rate_7d (carts of ${SPIKE_CARTS}) 50.0% vs 20.0% (+30.0 pp); drivers: none; items: none`);
    // The baseline days are judged on their own cart dates, which are quiet.
    const quiet = await detectAnomalies(warehouse, [baselineDates(JUDGED).at(-1)!]);
    expect(quiet[0]).toMatchObject({ judged: true, beyond: [] });
  });

  it('has nothing to compare for a cart date without a published row', async () => {
    await connection.run(`CREATE TABLE kept AS SELECT * FROM cart_funnel_daily WHERE date = DATE '${SPIKE_CARTS}'; DELETE FROM cart_funnel_daily WHERE date = DATE '${SPIKE_CARTS}'`);
    try {
      const [check] = await detectAnomalies(warehouse, [JUDGED]);
      expect(check).toMatchObject({ judged: true, beyond: [] });
      expect(check!.judged && check!.metrics.at(-1)).toEqual({ metric: 'recovery_rate_7d', value: null, baseline: 0.2, unit: 'points', change: null, beyond: false, cart_date: SPIKE_CARTS });
    } finally {
      await connection.run(`INSERT INTO cart_funnel_daily SELECT * FROM kept; DROP TABLE kept`);
    }
  });

  it("flags the same day on the dashboard's copy, which holds recoveries counted per window", async () => {
    connection.closeSync();
    instance.closeSync();
    const snapshot = await WarehouseSnapshot.create(duckdbSnapshotSource(path), 'test source');
    try {
      await snapshot.refresh();
      const shown = await snapshot.read((query) => dashboardData(query, { from: JUDGED, to: JUDGED }, { first: addDays(JUDGED, -40), last: JUDGED }));
      expect(shown.anomalies.map((a) => [a.date, a.beyond, a.metrics.at(-1)!.cart_date])).toEqual([[JUDGED, ['recovery_rate_7d'], SPIKE_CARTS]]);
    } finally {
      await snapshot.close();
      instance = await DuckDBInstance.create(path);
      connection = await instance.connect();
    }
  });
});
