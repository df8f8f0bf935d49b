// Inputs at the edges of the contract's rules: each once produced a wrong number or a failed run.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ev, item, runOn, writeInput } from './support/pipeline.js';

const D = '2026-11-01';

describe('arrays are checked at the top level only', () => {
  it('quarantines a non-array items or event_params even when the key also appears nested', async () => {
    const run = await runOn({
      'a.json': [
        ev('page_view'),
        ev('add_to_cart', { ecommerce: { items: [] }, items: 'oops' }),
        ev('view_item', { event_params: { ga_session_id: 1 }, items: [item('A', { event_params: [] })] }),
      ],
    });
    const rows = await run.query(`SELECT reason FROM quarantined_events ORDER BY line_no`);
    expect(rows).toEqual([{ reason: 'items_not_array' }, { reason: 'event_params_not_array' }]);
    expect((await run.csv('cart_funnel_daily', D))[0]).toMatchObject({ sessions_with_add_to_cart: '0', cart_abandonment_rate: '' });
  });
});

describe('money is exact at any size', () => {
  it('rounds large amounts half away from zero from their decimal text', async () => {
    const run = await runOn({
      'a.json': [
        '{"event_date":"20261101","event_timestamp":"1793502000000000","event_name":"purchase","user_pseudo_id":"u","event_params":[{"key":"ga_session_id","value":{"int_value":1}}],"ecommerce":{"transaction_id":"T","purchase_revenue":123456789.125},"items":[{"item_id":"A","price":123456789.125,"quantity":1}]}',
      ],
    });
    expect((await run.csv('cart_funnel_daily', D))[0]!.revenue).toBe('123456789.13');
    expect((await run.csv('cart_items_daily', D))[0]!.purchased_revenue).toBe('123456789.13');
  });

  it('publishes amounts and rates far beyond everyday sizes instead of failing', async () => {
    // The largest the contract lets in (Cleaning 2): a quantity of 1,000,000 and money under 10^9.
    const run = await runOn({
      'a.json': [
        ev('add_to_cart', { items: [item('A', { price: 1 })] }),
        ev('purchase', { session: 2, items: [item('A', { price: 1, quantity: 1000000 })], ecommerce: { transaction_id: 'T9', purchase_revenue: 999_999_999.99 } }),
      ],
    });
    expect((await run.csv('cart_funnel_daily', D))[0]!.revenue).toBe('999999999.99');
    expect((await run.csv('cart_items_daily', D))[0]!.cart_to_purchase_rate).toBe('1000000.0000');
  });
});

describe('dates without included events', () => {
  it('get no files, and a re-run removes the files an earlier run published', async () => {
    const first = await runOn({ 'a.json': [ev('page_view'), ev('add_to_cart', { date: '20261102', items: [item('A')] })] });
    expect(first.report.dates.map((d) => d.status)).toEqual(['published', 'published']);
    // The 2nd's only event now has no session: the date has lines but no included event.
    await writeInput(first.dir, { 'a.json': [ev('page_view'), ev('add_to_cart', { date: '20261102', session: undefined, items: [item('A')] })] });
    // Named, and its shrink to no session accepted (published-guards.ts withholds it otherwise).
    const second = await runOn({}, { dir: first.dir, dates: [D, '2026-11-02'], acceptShrink: true });
    expect(second.report.dates.map((d) => [d.date, d.status])).toEqual([[D, 'published'], ['2026-11-02', 'no_events']]);
    expect(second.report.dates[1]!.quality).toMatchObject({ included_events: 0, events_without_session: 1 });
    for (const table of ['cart_funnel_daily', 'abandoned_carts', 'cart_items_daily']) {
      expect(await readdir(join(first.dir, 'exports', table))).toEqual([`dt=${D}`]);
    }
    expect(await readdir(join(first.dir, 'exports', 'report'))).toEqual([`dt=${D}`]);
    expect(await second.query(`SELECT count(*)::INTEGER AS n FROM cart_funnel_daily WHERE date = DATE '2026-11-02'`)).toEqual([{ n: 0 }]);
  });
});

describe('line ends', () => {
  it('quarantines a line with a carriage return inside a string, keeping it verbatim, without failing the run', async () => {
    const broken = '{"event_name":"view_item\r","event_date":"20261101"}';
    const run = await runOn({ 'a.json': [ev('page_view'), broken, ev('page_view', { at: 1 })] });
    expect(await run.query(`SELECT reason, raw_line, line_no FROM quarantined_events`)).toEqual([{ reason: 'invalid_json', raw_line: broken, line_no: '2' }]);
    expect(run.report.dates[0]!.quality.included_events).toBe(2);
  });

  it('reads a carriage return between tokens as the JSON whitespace it is', async () => {
    const spaced = JSON.stringify(ev('view_item', { at: 2 })).replace(',"event_name"', ',\r"event_name"');
    const noUser = '{"event_name":"view_item",\r"event_date":"20261101"}';
    const run = await runOn({ 'a.json': [ev('page_view'), spaced, noUser] });
    expect(await run.query(`SELECT reason, raw_line, line_no FROM quarantined_events`)).toEqual([{ reason: 'missing_user_pseudo_id', raw_line: noUser, line_no: '3' }]);
    expect(run.report.dates[0]!.quality.included_events).toBe(2);
  });

  it('reads CRLF files like LF files, line numbers included', async () => {
    const broken = '{"event_date":"20261101", not json';
    const run = await runOn({ 'a.json': [`${JSON.stringify(ev('page_view'))}\r`, `${broken}\r`, `${JSON.stringify(ev('page_view'))}\r`] });
    expect(run.report.dates[0]!.quality).toMatchObject({ lines: 3, duplicates: 1, quarantined: 1, included_events: 1 });
    expect(await run.query(`SELECT raw_line, line_no FROM quarantined_events`)).toEqual([{ raw_line: broken, line_no: '2' }]);
  });
});
