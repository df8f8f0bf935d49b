// A hand-made warehouse for the recovery tests: the funnel of 20 cart dates and the recoveries of
// the first date's carts at the edges of each window.
import type { DuckDBConnection } from '@duckdb/node-api';
import { DUCKDB_COLUMN_TYPES } from '../../src/contract/column-types.js';
import { publishedTable } from '../../src/contract/tables.js';
import { addDays } from '../../src/util/dates.js';

const createAsContract = (name: string) => `CREATE TABLE ${name} (${publishedTable(name).columns.map((c) => `${c.name} ${DUCKDB_COLUMN_TYPES[c.kind]}`).join(', ')});`;

/** 20 cart dates from 2026-03-01 with 10 abandoned carts each; the 1st's carts recovered at these hours (date: the cart date + days). */
export const FIRST = '2026-03-01';
export const RECOVERED: { days: number; hours: string; same: boolean; value: string }[] = [
  { days: 1, hours: '24.00', same: true, value: '10.00' }, // exactly 24 hours: within 1 day
  { days: 1, hours: '24.01', same: false, value: '5.50' },
  { days: 3, hours: '72.00', same: true, value: '1.25' },
  { days: 5, hours: '100.00', same: true, value: '2.00' },
  { days: 7, hours: '168.00', same: false, value: '3.00' },
  { days: 9, hours: '200.00', same: true, value: '4.00' },
  { days: 14, hours: '336.00', same: true, value: '6.00' },
];

/** A warehouse with the funnel of 20 dates and the recoveries of the first date's carts (and one of the 2nd's). */
export async function fillRecoveryWarehouse(c: DuckDBConnection): Promise<void> {
  const funnel = Array.from({ length: 20 }, (_, i) => `(DATE '${addDays(FIRST, i)}', 10)`).join(', ');
  const rows = RECOVERED.map(
    (r, i) =>
      `(DATE '${addDays(FIRST, r.days)}', DATE '${FIRST}', 'user-${i}', ${i + 1}, ${r.value}, TIMESTAMP '2026-03-01 12:00:00', TIMESTAMP '2026-03-02 12:00:00', ${r.hours}, ${r.same}, 't-${i}', 99.00)`,
  );
  rows.push(`(DATE '2026-03-03', DATE '2026-03-02', 'user-x', 1, 7.00, TIMESTAMP '2026-03-02 12:00:00', TIMESTAMP '2026-03-03 10:00:00', 22.00, false, 't-x', 7.00)`);
  await c.run(`
    ${createAsContract('cart_funnel_daily')}
    INSERT INTO cart_funnel_daily (date, abandoned_carts) VALUES ${funnel};
    ${createAsContract('cart_recoveries')}
    INSERT INTO cart_recoveries VALUES ${rows.join(', ')};`);
}
