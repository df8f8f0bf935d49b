// cart_recoveries, rule by rule (shared/spec/cart-metrics.md): the first later purchase within 14
// days, in any session and on any date, on the purchase's date; one purchase recovering several
// carts; same_item; odd input handled as the contract says; and matching on the raw id, so that a
// rotated user_key secret changes every user_key alike and loses no recovery.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { runPipeline } from '../src/pipeline/run.js';
import { ev, item, runOn, userKey, type RunResult } from './support/pipeline.js';
import { compileModels } from '../src/models/compile.js';
import { planModels, readModels } from '../src/models/graph.js';
import { dialectFor } from '../src/warehouse/index.js';

const day = (n: number) => `202611${String(n).padStart(2, '0')}`;
const NON_ASCII = 'usuário-ç-東京';

const EVENTS = [
  // A cart on the 1st, bought on the 3rd with its item: 2 days less 900 s = 47.75 hours.
  ev('add_to_cart', { user: NON_ASCII, session: 1, at: 1000, date: day(1), items: [item('A')] }),
  ev('purchase', { user: NON_ASCII, session: 9, at: 100, date: day(3), items: [item('A')], ecommerce: { transaction_id: 'T1', purchase_revenue: 25.5 } }),
  // A cart without a priced item (value 0): bought exactly 14 days later (recovered), then again on the 16th (too late anyway).
  ev('add_to_cart', { user: 'u2', session: 1, at: 0, date: day(1), items: [item('B', { price: undefined })] }),
  ev('purchase', { user: 'u2', session: 5, at: 0, date: day(15), items: [item('Z')], ecommerce: { transaction_id: 'T2', purchase_revenue: '31.0' } }),
  ev('purchase', { user: 'u2', session: 6, at: 10, date: day(16), ecommerce: { transaction_id: 'T3', purchase_revenue: 5 } }),
  // Two carts of one user on the 2nd, one purchase on the 4th recovers both (its revenue on each row);
  // its items are odd (one without item_id) and hold the first cart's item only.
  ev('add_to_cart', { user: 'u3', session: 1, at: 100, date: day(2), items: [item('C')] }),
  ev('add_to_cart', { user: 'u3', session: 2, at: 200, date: day(2), items: [item('D', { price: 7 })] }),
  ev('purchase', { user: 'u3', session: 3, at: 50, date: day(4), items: [{ item_name: 'no id', quantity: 1 }, item('C', { quantity: 2 })], ecommerce: { transaction_id: 'T4', purchase_revenue: 40 } }),
  // A purchase without a transaction_id still recovers; its revenue counts as 0.
  ev('add_to_cart', { user: 'u4', session: 1, at: 0, date: day(5), items: [item('E')] }),
  ev('purchase', { user: 'u4', session: 2, at: 30, date: day(5) }),
  // A purchase in the cart's own session: not an abandoned cart, nothing to recover. A purchase
  // before the cart's last event does not recover it either.
  ev('add_to_cart', { user: 'u5', session: 1, at: 0, date: day(6), items: [item('F')] }),
  ev('purchase', { user: 'u5', session: 1, at: 10, date: day(6), ecommerce: { transaction_id: 'T5', purchase_revenue: 3 } }),
  ev('purchase', { user: 'u6', session: 1, at: 0, date: day(7), ecommerce: { transaction_id: 'T6', purchase_revenue: 3 } }),
  ev('add_to_cart', { user: 'u6', session: 2, at: 10, date: day(7), items: [item('G')] }),
];

let result: RunResult;
const rowsOf = async (r: RunResult, n: number) => r.csv('cart_recoveries', `2026-11-${String(n).padStart(2, '0')}`);

beforeAll(async () => {
  result = await runOn({ 'a.json': EVENTS });
});

describe('cart_recoveries on BigQuery', () => {
  it('reads only the partitions it needs: every table it reads is filtered by a constant list of dates', async () => {
    const dialect = dialectFor({ type: 'bigquery', project: 'p', staging_dataset: 'cartlens_staging', marts_dataset: 'cartlens_marts' });
    const models = planModels(await readModels());
    const [step] = compileModels(models, dialect, ['2026-11-20']).filter((s) => s.model === 'cart_recoveries');
    const select = step!.statements[0]!;
    const reads = [...select.matchAll(/FROM `p\.cartlens_staging\.(\w+)`(?: AS \w+)?\s+WHERE (\w+) IN \(((?:DATE '[0-9-]+'(?:, )?)+)\)/g)].map((m) => [m[1], m[2], m[3]!.split(', ').length]);
    // Compiled alone, it is computed for the 18 dates a run of the 20th reaches (the 19th … the 5th
    // of December): their carts' dates (16 before, 1 after), purchases one further, items of their own.
    expect(reads).toEqual([
      ['recovery_carts', 'date', 35],
      ['stg_events', 'event_date', 37],
      ['stg_event_items', 'event_date', 18],
    ]);
    // No other read of a staging table.
    expect(select.match(/FROM `p\.cartlens_staging\./g)).toHaveLength(3);
  });
});

describe('cart_recoveries, rule by rule', () => {
  it('the first purchase within 14 days recovers a cart, on the purchase date, with the hours it took', async () => {
    expect(await rowsOf(result, 3)).toEqual([
      {
        date: '2026-11-03', cart_date: '2026-11-01', user_key: userKey(NON_ASCII), session_id: '1', cart_value: '10.00',
        last_cart_event_at: '2026-11-01T03:16:40.000Z', recovered_at: '2026-11-03T03:01:40.000Z', hours_to_recovery: '47.75',
        same_item: 'true', transaction_id: 'T1', purchase_revenue: '25.50',
      },
    ]);
    // Exactly 14 days is within; the later purchase is not the first.
    expect((await rowsOf(result, 15)).map((r) => [r.user_key, r.cart_value, r.hours_to_recovery, r.same_item, r.purchase_revenue])).toEqual([[userKey('u2'), '0.00', '336.00', 'false', '31.00']]);
    expect(await rowsOf(result, 16)).toEqual([]);
  });

  it('one purchase recovers several carts, each row with its revenue; same_item says which held its item', async () => {
    const rows = await rowsOf(result, 4);
    expect(rows.map((r) => [r.session_id, r.same_item, r.transaction_id, r.purchase_revenue, r.cart_value])).toEqual([
      ['1', 'true', 'T4', '40.00', '10.00'],
      ['2', 'false', 'T4', '40.00', '7.00'],
    ]);
  });

  it('a purchase without transaction_id recovers with an empty id and revenue 0; a purchase in the session or before the cart recovers nothing', async () => {
    expect((await rowsOf(result, 5)).map((r) => [r.user_key, r.transaction_id, r.purchase_revenue])).toEqual([[userKey('u4'), '', '0.00']]);
    expect(await rowsOf(result, 6)).toEqual([]);
    expect(await rowsOf(result, 7)).toEqual([]);
  });

  it('matches on the raw id: after a user_key rotation every row keeps its cart, with the abandoned_carts user_key', async () => {
    const file = join(result.dir, 'rotated.yaml');
    const text = (await readFile(join(result.dir, 'cartlens.yaml'), 'utf8')).replace(/user_key_secret: "[^"]*"/, 'user_key_secret: "another-secret-0123456789"');
    await writeFile(file, text);
    const before = await Promise.all([3, 4, 5, 15].map((n) => rowsOf(result, n)));
    await runPipeline({ loaded: parseConfig(text, file), rotateUserKey: true, dates: [1, 2, 3, 4, 5, 6, 7, 15, 16].map((n) => `2026-11-${String(n).padStart(2, '0')}`) });
    const after = await Promise.all([3, 4, 5, 15].map((n) => rowsOf(result, n)));
    expect(after.flat().map((r) => [r.cart_date, r.session_id, r.transaction_id])).toEqual(before.flat().map((r) => [r.cart_date, r.session_id, r.transaction_id]));
    for (const row of after.flat()) {
      expect(row.user_key).not.toBe(before.flat().find((b) => b.cart_date === row.cart_date && b.session_id === row.session_id)!.user_key);
      const carts = await result.csv('abandoned_carts', row.cart_date!);
      expect(carts.some((c) => c.user_key === row.user_key && c.session_id === row.session_id)).toBe(true);
    }
  });
});

