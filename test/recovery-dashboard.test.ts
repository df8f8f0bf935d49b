// Recovery on the dashboard (issue 22, item 3): the range read as cart dates, from the copy, which
// holds recoveries counted per window (no cart-level row) on every date, past the range's end.
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duckdbSnapshotSource } from '../src/dashboard/copy-from-duckdb.js';
import { renderDashboard } from '../src/dashboard/page.js';
import { dashboardData } from '../src/dashboard/queries.js';
import { RECOVERY_WINDOWS, WarehouseSnapshot } from '../src/dashboard/snapshot.js';
import { tempDir } from './support/pipeline.js';
import { fillRecoveryWarehouse, FIRST } from './support/recovery-warehouse.js';

let snapshot: WarehouseSnapshot;

beforeAll(async () => {
  const path = join(await tempDir(), 'warehouse.duckdb');
  const instance = await DuckDBInstance.create(path);
  const c = await instance.connect();
  await fillRecoveryWarehouse(c);
  c.closeSync();
  instance.closeSync();
  snapshot = await WarehouseSnapshot.create(duckdbSnapshotSource(path), 'test source');
  await snapshot.refresh();
});
afterAll(async () => snapshot?.close());

const data = (from: string, to: string, last = '2026-03-20') => snapshot.read((query) => dashboardData(query, { from, to }, { first: FIRST, last }));

describe("the dashboard's recovery", () => {
  it('copies counts per window and none of the carts, on every date', async () => {
    const copied = await snapshot.read((query) => query(`SELECT strftime(min(date), '%Y-%m-%d') AS first, strftime(max(date), '%Y-%m-%d') AS last, sum(recoveries)::INTEGER AS rows FROM ${RECOVERY_WINDOWS}`));
    expect(copied).toEqual([{ first: '2026-03-02', last: '2026-03-15', rows: 8 }]);
    const columns = await snapshot.read((query) => query(`SELECT column_name FROM duckdb_columns() WHERE table_name = '${RECOVERY_WINDOWS}'`));
    expect(columns.map((c) => c.column_name)).not.toContain('user_key');
  });

  it("selects the range's cart dates and counts their recoveries after its end", async () => {
    // The range is one day; its carts were recovered up to 14 days later.
    const { recovery } = await data(FIRST, FIRST);
    expect(recovery.days.map((d) => [d.cart_date, d.windows.map((w) => w.rate), d.recovered_value])).toEqual([[FIRST, ['0.1000', '0.3000', '0.5000', '0.7000'], '31.75']]);
    expect(recovery.total).toMatchObject({ abandoned_carts: 10, recovered: 7, recovered_value: '31.75', same_item_share: '0.7143', complete: true });
  });

  it('counts a window of a range over the cart dates it has closed for, and says so', async () => {
    // Newest published day 03-05: the 1-day window has closed for 03-01 and 03-02 (03-04, 03-05), not 03-03.
    const { recovery } = await data(FIRST, '2026-03-03', '2026-03-05');
    expect(recovery.total!.windows.map((w) => [w.closed, w.cart_dates_closed, w.recovered, w.rate])).toEqual([
      [true, 2, 2, '0.1000'], // 1 of 03-01's 10 carts and 1 of 03-02's 10
      [false, 0, null, null],
      [false, 0, null, null],
      [false, 0, null, null],
    ]);
    // Recoveries published after the newest day are not counted yet: so far 03-01's 3 (on 03-02 and 03-04) and 03-02's 1.
    expect(recovery.total).toMatchObject({ recovered: 4, recovered_value: '23.75', complete: false });
    const html = renderDashboard(await data(FIRST, '2026-03-03', '2026-03-05'), { format: { locale: 'en', currency: 'USD' }, takenAt: null, busy: false, stale: null, links: () => [] });
    const total = /<tr data-cart-date="total"[^]*?<\/tr>/.exec(html)![0];
    expect(total).toContain('data-rate="0.1000">10.0% <span class="note">(2/3 of the cart dates)</span>');
    expect(total.match(/>still open</g)).toHaveLength(3);
  });
});
