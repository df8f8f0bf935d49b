// One test per rule of the contract's "Cleaning" section (shared/spec/cart-metrics.md), each on
// a small hand-written input with hand-computed expectations.
import { describe, expect, it } from 'vitest';
import { ev, item, runOn } from './support/pipeline.js';

const D = '2026-11-01';

describe('cleaning 1: duplicates', () => {
  it('counts byte-identical lines once, across files, before any other check', async () => {
    const add = JSON.stringify(ev('add_to_cart', { items: [item('A')] }));
    const broken = '{"event_name": "add_to_cart", "event_date": "20261101"';
    const run = await runOn({
      'a.json': [add, add, broken, broken],
      'b.json': [add, JSON.stringify(ev('add_to_cart', { items: [item('A')] })).replace('"event_name"', ' "event_name"')],
    });
    const quality = run.report.dates[0]!.quality;
    expect(quality.duplicates).toBe(3); // two copies of `add`, one of `broken`
    expect(quality.quarantined).toBe(1); // `broken` once
    const [items] = await run.csv('cart_items_daily', D);
    // The line with an extra space is another event: 2 units, not 1 or 3.
    expect(items!.add_to_cart_units).toBe('2');
    const kept = await run.query(`SELECT source_file, line_no FROM quarantined_events`);
    expect(kept).toHaveLength(1);
    expect(String(kept[0]!.source_file)).toMatch(/a\.json$/);
    expect(kept[0]!.line_no).toBe('3'); // the first copy in input order is the one kept
  });

  it('does not count blank lines as events', async () => {
    const run = await runOn({ 'a.json': ['', ev('page_view'), '   ', '', ev('page_view', { at: 1 })] });
    expect(run.report.dates[0]!.quality.lines).toBe(2);
    expect(run.report.dates[0]!.quality.quarantined).toBe(0);
    expect(run.report.files[0]!.blank_lines).toBe(3);
  });
});

describe('cleaning 2: quarantine', () => {
  const cases: [string, unknown, string][] = [
    ['invalid_json', '{"event_name": "view_item", "event_date": "20261101"', 'the line is not valid JSON'],
    ['invalid_json', '["view_item", "20261101"]', 'the line is not an object'],
    ['missing_event_name', ev('view_item', { event_name: '' }), 'event_name is empty'],
    ['missing_event_name', ev('view_item', { event_name: null }), 'event_name is null'],
    ['missing_user_pseudo_id', ev('view_item', { user_pseudo_id: '' }), 'user_pseudo_id is empty'],
    ['missing_user_pseudo_id', (() => { const e = ev('view_item'); delete e.user_pseudo_id; return e; })(), 'user_pseudo_id is missing'],
    ['invalid_event_date', ev('view_item', { event_date: '20261131' }), 'event_date is not a real date'],
    ['invalid_event_date', ev('view_item', { event_date: '2026-11-01' }), 'event_date is not YYYYMMDD'],
    ['invalid_event_timestamp', ev('view_item', { event_timestamp: '1793502000.5' }), 'event_timestamp is a decimal string'],
    ['invalid_event_timestamp', ev('view_item', { event_timestamp: 1.5 }), 'event_timestamp is a non-integral number'],
    ['items_not_array', ev('view_item', { items: { item_id: 'A' } }), 'items is an object'],
    ['event_params_not_array', ev('view_item', { event_params: 'ga_session_id=1' }), 'event_params is a string'],
    ['invalid_item_quantity', ev('add_to_cart', { items: [item('A', { quantity: 0 })] }), 'quantity is 0'],
    ['invalid_item_quantity', ev('add_to_cart', { items: [item('A', { quantity: 1.5 })] }), 'quantity is not integral'],
    ['invalid_item_quantity', ev('add_to_cart', { items: [item('A', { quantity: 'dois' })] }), 'quantity is text'],
    ['invalid_item_price', ev('add_to_cart', { items: [item('A', { price: '10.00' })] }), 'price is a string'],
    ['invalid_item_price', ev('add_to_cart', { items: [item('A', { price: true })] }), 'price is a boolean'],
    ['invalid_item_revenue', ev('purchase', { items: [item('A', { item_revenue: 'grátis' })] }), 'item_revenue is text'],
  ];
  for (const [reason, line, why] of cases) {
    it(`quarantines with ${reason} when ${why}`, async () => {
      const run = await runOn({ 'a.json': [ev('page_view'), line as string] });
      const rows = await run.query(`SELECT reason, raw_line FROM quarantined_events`);
      expect(rows).toEqual([{ reason, raw_line: typeof line === 'string' ? line : JSON.stringify(line) }]);
      const counted = run.report.dates[0]?.quality.quarantined_by_reason[reason] ?? run.report.undated.quarantined_by_reason[reason];
      expect(counted).toBe(1);
    });
  }

  describe('event_date more than one day from the UTC date of event_timestamp', () => {
    const AT = 1_793_502_000_000_000; // 2026-11-01T03:00:00Z
    const LAST_MICRO = 1_793_577_599_999_999; // 2026-11-01T23:59:59.999999Z
    const at = (event_date: string, event_timestamp: number, more: Record<string, unknown> = {}) => ev('view_item', { event_date, event_timestamp, ...more });

    it('accepts one day off either way, at either end of the UTC day', async () => {
      const run = await runOn({
        'a.json': [at('20261031', AT), at('20261102', AT, { session: 2 }), at('20261102', LAST_MICRO, { session: 3 }), at('20261031', LAST_MICRO, { session: 4 })],
      });
      expect(await run.query(`SELECT reason FROM quarantined_events`)).toEqual([]);
      expect(run.report.dates.map((d) => [d.date, d.quality.included_events])).toEqual([['2026-10-31', 2], ['2026-11-02', 2]]);
    });

    it('quarantines two days off either way and 99991231 with a 2026 timestamp, as undated lines', async () => {
      const off = [at('20261030', LAST_MICRO), at('20261103', AT), at('99991231', AT), at('20261101', 253_402_300_800_000_000), at('20261101', 9_200_000_000_000_000_000)];
      const run = await runOn({ 'a.json': [ev('page_view'), ...off] });
      const rows = await run.query(`SELECT reason, event_date, raw_line FROM quarantined_events ORDER BY line_no`);
      expect(rows).toEqual(off.map((line) => ({ reason: 'event_date_mismatch', event_date: null, raw_line: JSON.stringify(line) })));
      expect(run.report.dates.map((d) => d.date)).toEqual(['2026-11-01']);
      expect(run.report.undated.quarantined_by_reason).toEqual({ event_date_mismatch: 5 });
    });

    it('comes after invalid_event_date and invalid_event_timestamp, before the array and item rules', async () => {
      const run = await runOn({
        'a.json': [
          ev('page_view'),
          at('99991231', 'soon' as unknown as number),
          at('20261131', AT),
          at('99991231', AT, { items: 'oops' }),
          at('99991231', AT, { items: [item('A', { quantity: 0 })] }),
        ],
      });
      expect((await run.query(`SELECT reason FROM quarantined_events ORDER BY line_no`)).map((r) => r.reason)).toEqual([
        'invalid_event_timestamp', 'invalid_event_date', 'event_date_mismatch', 'event_date_mismatch',
      ]);
    });

    it('leaves other quarantined lines with a date outside 2000 … the day after the run undated, so it never becomes a day of the run', async () => {
      const badTimestamp = at('99991231', 'soon' as unknown as number);
      const cut = '{"event_date":"99991231","event_name":';
      const noUser = at('20991231', 4_102_444_800_000_000, { user_pseudo_id: '' });
      const noUserInRange = at('20261102', AT, { user_pseudo_id: '' });
      const run = await runOn({ 'a.json': [ev('page_view'), badTimestamp, cut, noUser, noUserInRange] });
      expect(await run.query(`SELECT reason, event_date FROM quarantined_events ORDER BY line_no`)).toEqual([
        { reason: 'invalid_event_timestamp', event_date: null },
        { reason: 'invalid_json', event_date: null },
        { reason: 'missing_user_pseudo_id', event_date: null },
        { reason: 'missing_user_pseudo_id', event_date: '2026-11-02' },
      ]);
      expect(run.report.dates.map((d) => d.date)).toEqual(['2026-11-01', '2026-11-02']);
    });
  });

  it('accepts the integer forms: number, integral number, digit string', async () => {
    const run = await runOn({
      'a.json': [
        ev('add_to_cart', { event_timestamp: 1793502000000000, items: [item('A', { quantity: '2' })] }),
        ev('add_to_cart', { at: 1, items: [item('A', { quantity: 3.0 })] }),
        ev('add_to_cart', { at: 2, items: [item('A', { quantity: 1e1 })] }),
      ],
    });
    expect(run.report.dates[0]!.quality.quarantined).toBe(0);
    expect((await run.csv('cart_items_daily', D))[0]!.add_to_cart_units).toBe('15');
  });

  it('treats a null field as absent, not invalid', async () => {
    const run = await runOn({ 'a.json': [ev('add_to_cart', { items: [item('A', { price: null, quantity: null, item_revenue: null })], device: null, ecommerce: null })] });
    expect(run.report.dates[0]!.quality.quarantined).toBe(0);
    const [cart] = await run.csv('abandoned_carts', D);
    expect(cart).toMatchObject({ units: '1', cart_value: '0.00', device_category: '' });
  });

  it('keeps the quarantined line verbatim and never fails the run for it', async () => {
    const run = await runOn({ 'a.json': ['not json at all ç', ev('page_view')] });
    expect(run.report.dates[0]!.status).toBe('published');
    expect(await run.query(`SELECT raw_line, line_no FROM quarantined_events`)).toEqual([{ raw_line: 'not json at all ç', line_no: '1' }]);
  });
});

describe('cleaning 3: defaults', () => {
  it('counts an item without quantity as 1 and one without price as 0, and skips one without item_id', async () => {
    const { quantity: _q, ...noQuantity } = item('A', { price: 12.5 });
    const { price: _p, ...noPrice } = item('B');
    const { item_id: _i, ...noId } = item('C');
    const run = await runOn({ 'a.json': [ev('add_to_cart', { items: [noQuantity, noPrice, noId] })] });
    const [cart] = await run.csv('abandoned_carts', D);
    expect(cart).toMatchObject({ distinct_items: '2', units: '2', cart_value: '12.50' });
    const items = await run.csv('cart_items_daily', D);
    expect(items.map((r) => r.item_id)).toEqual(['A', 'B']);
    expect(run.report.dates[0]!.quality.items_without_id).toBe(1);
  });
});

describe('cleaning 4: sessions', () => {
  it('compares ga_session_id as integers: 1717, "1717" and string_value "1717" are one session', async () => {
    const run = await runOn({
      'a.json': [
        ev('view_item', { session: 1717 }),
        ev('view_item', { session: '1717', at: 1 }),
        ev('view_item', { event_params: [{ key: 'ga_session_id', value: { string_value: '1717' } }], at: 2 }),
      ],
    });
    expect((await run.csv('cart_funnel_daily', D))[0]!.sessions).toBe('1');
  });

  it('uses the first ga_session_id parameter, its int_value before its string_value', async () => {
    const run = await runOn({
      'a.json': [
        ev('view_item', { event_params: [{ key: 'ga_session_id', value: { int_value: 5, string_value: '6' } }, { key: 'ga_session_id', value: { int_value: 7 } }] }),
        ev('add_to_cart', { session: 5, at: 1, items: [item('A')] }),
      ],
    });
    const [funnel] = await run.csv('cart_funnel_daily', D);
    expect(funnel).toMatchObject({ sessions: '1', sessions_with_view_item: '1', sessions_with_add_to_cart: '1' });
  });

  it('scopes sessions to one day and excludes events without a session, counting them', async () => {
    const run = await runOn({
      'a.json': [
        ev('view_item', { session: 9 }),
        ev('view_item', { session: 9, date: '20261102' }),
        ev('add_to_cart', { session: undefined, items: [item('A')] }),
        ev('view_item', { event_params: [{ key: 'ga_session_id', value: { string_value: 'abc' } }] }),
      ],
    });
    expect((await run.csv('cart_funnel_daily', D))[0]!.sessions).toBe('1');
    expect((await run.csv('cart_funnel_daily', '2026-11-02'))[0]!.sessions).toBe('1');
    expect(run.report.dates[0]!.quality.events_without_session).toBe(2);
    expect(await run.csv('cart_items_daily', D)).toHaveLength(0);
  });
});

describe('cleaning 5: input order', () => {
  it('breaks timestamp ties by the later line, files sorted by path', async () => {
    const run = await runOn({
      'b.json': [ev('add_to_cart', { at: 5, items: [item('A', { price: 30 })] })],
      'a.json': [ev('add_to_cart', { at: 5, items: [item('A', { price: 20 })] })],
    });
    // a.json comes first, so b.json's line is the later one: cart price 30, 2 units.
    expect((await run.csv('abandoned_carts', D))[0]!.cart_value).toBe('60.00');
  });
});

describe('cleaning 6: purchases without transaction_id', () => {
  it('still make the session purchasing but are left out of purchases and revenue', async () => {
    const run = await runOn({
      'a.json': [
        ev('add_to_cart', { items: [item('A')] }),
        ev('purchase', { at: 1, items: [item('A')], ecommerce: { transaction_id: '', purchase_revenue: 10 } }),
      ],
    });
    const [funnel] = await run.csv('cart_funnel_daily', D);
    expect(funnel).toMatchObject({ sessions_with_purchase: '1', abandoned_carts: '0', purchases: '0', revenue: '0.00' });
    expect(run.report.dates[0]!.quality.purchases_without_transaction_id).toBe(1);
    expect((await run.csv('cart_items_daily', D))[0]!.purchased_units).toBe('0');
  });

  it('counts a missing or non-numeric purchase_revenue as 0', async () => {
    const run = await runOn({
      'a.json': [
        ev('purchase', { ecommerce: { transaction_id: 'T1', purchase_revenue: 'n/a' } }),
        ev('purchase', { session: 2, ecommerce: { transaction_id: 'T2' } }),
        ev('purchase', { session: 3, ecommerce: { transaction_id: 'T3', purchase_revenue: 5.5 } }),
      ],
    });
    expect((await run.csv('cart_funnel_daily', D))[0]).toMatchObject({ purchases: '3', revenue: '5.50' });
  });
});
