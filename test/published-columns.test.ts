// Each column of the three published tables on one hand-computed day (values worked out by hand
// in the comments), plus the file rules: sorting, rounding, truncation, header-only files.
import { beforeAll, describe, expect, it } from 'vitest';
import { ev, item, runOn, userKey, type RunResult } from './support/pipeline.js';

const D = '2026-11-01';
const T0 = 1_793_502_000_000_000n; // 2026-11-01T03:00:00.000Z
const ts = (micros: number) => String(T0 + BigInt(micros));

let run: RunResult;

beforeAll(async () => {
  const A = (fields: Record<string, unknown> = {}) => item('A', { item_name: 'Alpha', price: 10, ...fields });
  run = await runOn({
    'day.json': [
      // S1 (u1, session 10): views A, adds 2×A@10 and 1×B@5.005, removes 1×A, checks out, no purchase.
      ev('view_item', { user: 'u1', session: 10, event_timestamp: ts(5_000_000), items: [A()] }),
      ev('add_to_cart', { user: 'u1', session: 10, event_timestamp: ts(10_123_900), items: [A({ quantity: 2 }), item('B', { item_name: 'Beta', price: 5.005 })] }),
      ev('remove_from_cart', { user: 'u1', session: 10, event_timestamp: ts(30_000_999), items: [A({ quantity: 1 })] }),
      ev('begin_checkout', { user: 'u1', session: 10, event_timestamp: ts(31_000_000), items: [A()] }),
      // S2 (u2, 2): views A (listed twice: one view), adds 1×A, buys T1 (revenue 12.5), T1 sent again later.
      ev('view_item', { user: 'u2', session: 2, event_timestamp: ts(1_000_000), items: [A(), A()] }),
      ev('add_to_cart', { user: 'u2', session: 2, event_timestamp: ts(2_000_000), items: [A()] }),
      ev('purchase', { user: 'u2', session: 2, event_timestamp: ts(3_000_000), items: [A({ item_revenue: 10 })], ecommerce: { transaction_id: 'T1', purchase_revenue: 12.5 } }),
      ev('purchase', { user: 'u2', session: 2, event_timestamp: ts(4_000_000), items: [A({ quantity: 5, item_revenue: 50 })], ecommerce: { transaction_id: 'T1', purchase_revenue: 99 } }),
      // S3 (u3, 3): adds 1×C, removes 2×C: net floored at 0, not abandoned. C's names tie 1–1.
      ev('add_to_cart', { user: 'u3', session: 3, event_timestamp: ts(6_000_000), items: [item('C', { item_name: 'Zeta', price: 7 })] }),
      ev('remove_from_cart', { user: 'u3', session: 3, event_timestamp: ts(7_000_000), items: [item('C', { item_name: 'Eta', price: 7, quantity: 2 })] }),
      // S4 (u4, 4): a page view only.
      ev('page_view', { user: 'u4', session: 4, event_timestamp: ts(8_000_000) }),
      // S5 (u1, 9): first event from desktop in Portugal with a hostile source; A added at 10 then at 12.
      ev('view_item', { user: 'u1', session: 9, event_timestamp: ts(40_000_000), items: [A({ item_name: 'Alfa' })], device: { category: 'desktop' }, geo: { country: 'Portugal' }, traffic_source: { source: '=cmd|calc', medium: 'referral, "x"' } }),
      ev('add_to_cart', { user: 'u1', session: 9, event_timestamp: ts(50_000_000), items: [A()] }),
      ev('add_to_cart', { user: 'u1', session: 9, event_timestamp: ts(60_000_000), items: [A({ price: 12 })] }),
    ],
  });
});

describe('cart_funnel_daily', () => {
  it('computes every column', async () => {
    expect(await run.csv('cart_funnel_daily', D)).toEqual([
      {
        date: D,
        sessions: '5',
        sessions_with_view_item: '3', // S1, S2, S5
        sessions_with_add_to_cart: '4', // S1, S2, S3, S5
        sessions_with_begin_checkout: '1',
        sessions_with_purchase: '1',
        abandoned_carts: '2', // S1, S5
        cart_abandonment_rate: '0.5000',
        purchases: '1', // T1 once
        revenue: '12.50', // T1's first event
        abandoned_value: '39.01', // 15.005 + 24, rounded half away from zero
      },
    ]);
  });
});

describe('abandoned_carts', () => {
  it('writes one row per abandoned cart, sorted by user_key then session_id as a number', async () => {
    const key = userKey('u1');
    expect(await run.csvText('abandoned_carts', D)).toBe(
      [
        'date,user_key,session_id,first_add_at,last_cart_event_at,reached_checkout,distinct_items,units,cart_value,device_category,country,source,medium,purchased_later,ads_consent',
        `${D},${key},9,2026-11-01T03:00:50.000Z,2026-11-01T03:01:00.000Z,false,1,2,24.00,desktop,Portugal,'=cmd|calc,"referral, ""x""",false,`,
        `${D},${key},10,2026-11-01T03:00:10.123Z,2026-11-01T03:00:30.000Z,true,2,2,15.01,mobile,Brazil,google,organic,false,`,
        '',
      ].join('\n'),
    );
  });

  it("takes attributes from the session's first event even when it lacks them", async () => {
    const other = await runOn({
      'a.json': [
        ev('page_view', { at: 1, device: null, geo: { country: 'Chile' } }),
        ev('add_to_cart', { at: 2, items: [item('A')], device: { category: 'tablet' }, geo: { country: 'Peru' } }),
        ev('page_view', { at: 0.5, device: null, geo: { country: 'Chile' }, traffic_source: null }),
      ],
    });
    expect((await other.csv('abandoned_carts', D))[0]).toMatchObject({ device_category: '', country: 'Chile', source: '', medium: '' });
  });

  it('never publishes the raw user_pseudo_id', async () => {
    expect(await run.csvText('abandoned_carts', D)).not.toMatch(/\bu1\b/);
  });
});

describe('cart_items_daily', () => {
  it('computes every column', async () => {
    expect(await run.csv('cart_items_daily', D)).toEqual([
      {
        date: D, item_id: 'A', item_name: 'Alpha', item_category: 'Cat',
        views: '3', add_to_cart_units: '5', remove_from_cart_units: '1',
        purchased_units: '1', purchased_revenue: '10.00', cart_to_purchase_rate: '0.2000',
        abandoned_units: '3', abandoned_value: '34.00', // S1: 1×10, S5: 2×12
      },
      {
        date: D, item_id: 'B', item_name: 'Beta', item_category: 'Cat',
        views: '0', add_to_cart_units: '1', remove_from_cart_units: '0',
        purchased_units: '0', purchased_revenue: '0.00', cart_to_purchase_rate: '0.0000',
        abandoned_units: '1', abandoned_value: '5.01',
      },
      {
        date: D, item_id: 'C', item_name: 'Eta', item_category: 'Cat', // tie 1–1: the smallest name
        views: '0', add_to_cart_units: '1', remove_from_cart_units: '2',
        purchased_units: '0', purchased_revenue: '0.00', cart_to_purchase_rate: '0.0000',
        abandoned_units: '0', abandoned_value: '0.00',
      },
    ]);
  });
});

describe('file rules', () => {
  it('rounds rates half away from zero and falls back to price × quantity for purchased revenue', async () => {
    const adds = Array.from({ length: 32 }, (_, i) => ev('add_to_cart', { session: i + 1, items: [item('A')] }));
    const other = await runOn({
      'a.json': [...adds, ev('purchase', { session: 1, at: 9, items: [item('A', { price: 2.675 })], ecommerce: { transaction_id: 'T', purchase_revenue: 2.675 } })],
    });
    const [row] = await other.csv('cart_items_daily', D);
    expect(row).toMatchObject({ cart_to_purchase_rate: '0.0313', purchased_revenue: '2.68' }); // 1/32 = 0.03125
    expect((await other.csv('cart_funnel_daily', D))[0]).toMatchObject({ revenue: '2.68', cart_abandonment_rate: '0.9688' }); // 31/32
  });

  it('writes the header alone when a table has no rows, and an empty rate when its denominator is 0', async () => {
    const other = await runOn({ 'a.json': [ev('page_view')] });
    expect(await other.csvText('abandoned_carts', D)).toBe(
      'date,user_key,session_id,first_add_at,last_cart_event_at,reached_checkout,distinct_items,units,cart_value,device_category,country,source,medium,purchased_later,ads_consent\n',
    );
    expect((await other.csv('cart_funnel_daily', D))[0]!.cart_abandonment_rate).toBe('');
    expect(await other.csvText('cart_items_daily', D)).toMatch(/^date,item_id,[^\n]*\n$/);
  });

  it('sorts item_id by code point on the raw value', async () => {
    const ids = ['a', 'É', '-1', 'B', 'Z', '10', '9'];
    const other = await runOn({ 'a.json': [ev('add_to_cart', { items: ids.map((id) => item(id)) })] });
    // '-' (0x2D) < '1' < '9' < 'B' < 'Z' < 'a' < 'É' (0xC3 0x89); '-1' is written guarded.
    expect((await other.csv('cart_items_daily', D)).map((r) => r.item_id)).toEqual(["'-1", '10', '9', 'B', 'Z', 'a', 'É']);
  });
});
