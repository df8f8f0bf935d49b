// The contract's abandoned_carts columns for remarketing (Changes, 2026-11-29): purchased_later and
// ads_consent, each rule on hand-written inputs.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { runPipeline } from '../src/pipeline/run.js';
import { SECRET, ev, item, resultFor, runOn, tempDir, userKey, writeInput } from './support/pipeline.js';

const D = '2026-11-01';
const cart = (fields: Record<string, unknown> = {}) => ev('add_to_cart', { items: [item('A')], ...fields });
const purchase = (fields: Record<string, unknown> = {}) => ev('purchase', { items: [item('A')], ecommerce: { transaction_id: 'T1', purchase_revenue: 10 }, ...fields });

/** The published abandoned carts, by session. */
async function carts(lines: (string | Record<string, unknown>)[]) {
  const run = await runOn({ 'a.json': lines });
  const rows = await run.csv('abandoned_carts', D);
  return Object.fromEntries(rows.map((row) => [row.session_id, { purchased_later: row.purchased_later, ads_consent: row.ads_consent }]));
}

describe('abandoned_carts.purchased_later', () => {
  it('is true only for a purchase of the same user that day after the last cart event, in another session', async () => {
    const result = await carts([
      // Session 1: cart at 10 s, removed-and-added until 20 s; purchases by the same user at 5 s (before) and 20 s (at) only.
      cart({ session: 1, at: 10 }),
      ev('remove_from_cart', { session: 1, at: 15, items: [item('A')] }),
      cart({ session: 1, at: 20 }),
      purchase({ session: 2, at: 5 }),
      purchase({ session: 3, at: 20, ecommerce: { transaction_id: 'T2', purchase_revenue: 10 } }),
      // User u2: cart at 10 s, bought in another session at 30 s (after).
      cart({ user: 'u2', session: 4, at: 10 }),
      purchase({ user: 'u2', session: 5, at: 30, ecommerce: { transaction_id: 'T3', purchase_revenue: 5 } }),
      // User u3: a purchase without a transaction id, later: still a purchase.
      cart({ user: 'u3', session: 6, at: 10 }),
      purchase({ user: 'u3', session: 7, at: 11, ecommerce: { purchase_revenue: 5 } }),
      // User u4: another user's later purchase does not count; nor one the next day.
      cart({ user: 'u4', session: 8, at: 10 }),
      purchase({ user: 'u4', session: 9, at: 10, date: '20261102' }),
    ]);
    expect(result['1']).toMatchObject({ purchased_later: 'false' }); // before and at the last cart event
    expect(result['4']).toMatchObject({ purchased_later: 'true' });
    expect(result['6']).toMatchObject({ purchased_later: 'true' });
    expect(result['8']).toMatchObject({ purchased_later: 'false' });
  });

  it('compares at full precision: one microsecond later counts', async () => {
    const base = 1_793_502_000_000_000;
    const result = await carts([
      cart({ session: 1, event_timestamp: String(base + 10_000_001) }),
      purchase({ session: 2, event_timestamp: String(base + 10_000_002) }),
      cart({ user: 'u2', session: 3, event_timestamp: String(base + 10_000_001) }),
      purchase({ user: 'u2', session: 4, event_timestamp: String(base + 10_000_001) }),
    ]);
    expect(result['1']!.purchased_later).toBe('true');
    expect(result['3']!.purchased_later).toBe('false');
  });

  it('ignores a purchase event that is not included (no ga_session_id)', async () => {
    const result = await carts([cart({ session: 1, at: 10 }), purchase({ session: undefined, at: 30 })]);
    expect(result['1']!.purchased_later).toBe('false');
  });
});

describe('abandoned_carts.ads_consent', () => {
  const consent = (value: unknown) => ({ privacy_info: { ads_storage: value } });

  it("is the session's latest Yes or No, by timestamp then input order; empty when none", async () => {
    const result = await carts([
      // Changes mid-session: granted, then denied at the end.
      cart({ session: 1, at: 1, ...consent('Yes') }),
      ev('page_view', { session: 1, at: 5, ...consent('No') }),
      // Withdrawn at the end, and an event without privacy_info after it: denied stands.
      cart({ session: 2, at: 1, ...consent('Yes') }),
      ev('page_view', { session: 2, at: 3, ...consent('No') }),
      ev('page_view', { session: 2, at: 4 }),
      // Ties on timestamp: the later line wins.
      cart({ session: 3, at: 2, ...consent('No') }),
      ev('page_view', { session: 3, at: 2, ...consent('Yes') }),
      // None at all.
      cart({ session: 4, at: 1 }),
    ]);
    expect(result['1']!.ads_consent).toBe('denied');
    expect(result['2']!.ads_consent).toBe('denied');
    expect(result['3']!.ads_consent).toBe('granted');
    expect(result['4']!.ads_consent).toBe('');
  });

  it('counts only the exact strings Yes and No', async () => {
    const result = await carts([
      cart({ session: 1, at: 1, ...consent('Yes') }),
      ev('page_view', { session: 1, at: 2, ...consent('yes') }),
      ev('page_view', { session: 1, at: 3, ...consent(' No') }),
      ev('page_view', { session: 1, at: 4, ...consent(true) }),
      ev('page_view', { session: 1, at: 5, ...consent(null) }),
      cart({ session: 2, at: 1, ...consent('NO') }),
    ]);
    expect(result['1']!.ads_consent).toBe('granted');
    expect(result['2']!.ads_consent).toBe('');
  });

  it('treats a privacy_info that is not an object as absent, never quarantining the event', async () => {
    const run = await runOn({
      'a.json': [
        cart({ session: 1, at: 1, privacy_info: { ads_storage: 'No' } }),
        ev('page_view', { session: 1, at: 2, privacy_info: 'Yes' }),
        ev('page_view', { session: 1, at: 3, privacy_info: ['Yes'] }),
        cart({ session: 2, at: 1, privacy_info: 42 }),
      ],
    });
    expect(await run.query(`SELECT reason FROM quarantined_events`)).toEqual([]);
    const rows = Object.fromEntries((await run.csv('abandoned_carts', D)).map((row) => [row.session_id, row.ads_consent]));
    expect(rows).toEqual({ '1': 'denied', '2': '' });
  });
});

describe('export.remarketing_audience', () => {
  const lines = [
    // Remarketable: abandoned, not bought later, consent granted.
    cart({ session: 1, at: 10, privacy_info: { ads_storage: 'Yes' }, items: [item('A', { price: 12.5, quantity: 2 }), item('B')] }),
    // Bought later the same day: suppressed.
    cart({ user: 'u2', session: 2, at: 10, privacy_info: { ads_storage: 'Yes' } }),
    purchase({ user: 'u2', session: 3, at: 40, privacy_info: { ads_storage: 'Yes' } }),
    // Consent denied, or never given: not in the audience.
    cart({ user: 'u3', session: 4, at: 10, privacy_info: { ads_storage: 'No' } }),
    cart({ user: 'u4', session: 5, at: 10 }),
  ];
  const runWith = async (exportConfig: string) => {
    const dir = await tempDir();
    await writeInput(dir, { 'a.json': lines });
    const file = join(dir, 'cartlens.yaml');
    await writeFile(file, `source: { type: ga4-export-files, path: "input/*.json" }\nwarehouse: { type: duckdb, path: state/warehouse.duckdb }\nexport: ${exportConfig}\nlanding: { dir: state/landing }\nprivacy: { user_key_secret: "${SECRET}" }\n`);
    return resultFor(dir, await runPipeline({ loaded: parseConfig(await readFile(file, 'utf8'), file) }));
  };

  it('publishes the remarketable carts only, under the file rules, with their manifest', async () => {
    const run = await runWith('{ type: local, dir: exports, remarketing_audience: true }');
    const text = await run.csvText('remarketing_audience', D);
    expect(text.split('\n')[0]).toBe('date,user_key,session_id,cart_value,distinct_items,last_cart_event_at');
    expect(await run.csv('remarketing_audience', D)).toEqual([
      { date: D, user_key: userKey('u1'), session_id: '1', cart_value: '35.00', distinct_items: '2', last_cart_event_at: '2026-11-01T03:00:10.000Z' },
    ]);
    const manifest = JSON.parse(await readFile(join(run.dir, 'exports', 'remarketing_audience', `dt=${D}`, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ table: 'remarketing_audience', rows: 1, sha256: createHash('sha256').update(text).digest('hex') });
    // It is part of the date's set: the completion marker names it.
    const marker = JSON.parse(await readFile(join(run.dir, 'exports', '_SUCCESS', `dt=${D}.json`), 'utf8'));
    expect(marker.files.map((f: { table: string }) => f.table)).toContain('remarketing_audience');
    // All abandoned carts stay in abandoned_carts, marked.
    // report.html shows the remarketable carts beside all abandoned ones, and the split by consent.
    const html = await readFile(join(run.dir, 'exports', 'report', `dt=${D}`, 'report.html'), 'utf8');
    const tile = (key: string) => /data-value="([^"]*)"/.exec(html.slice(html.indexOf(`data-tile="${key}"`)))![1];
    expect([tile('abandoned_carts'), tile('remarketable'), tile('remarketable_value')]).toEqual(['4', '1', '35.00']);
    expect([...html.matchAll(/<tr data-consent="([^"]*)">/g)].map((m) => m[1])).toEqual(['', 'denied', 'granted']);
    const marked = Object.fromEntries((await run.csv('abandoned_carts', D)).map((r) => [r.session_id, [r.purchased_later, r.ads_consent]]));
    expect(marked).toEqual({ '1': ['false', 'granted'], '2': ['true', 'granted'], '4': ['false', 'denied'], '5': ['false', ''] });
  });

  it('publishes nothing of it unless switched on', async () => {
    const run = await runWith('{ type: local, dir: exports }');
    expect(existsSync(join(run.dir, 'exports', 'remarketing_audience'))).toBe(false);
    expect(run.report.dates[0]!.files.map((f) => f.table)).toEqual(['cart_funnel_daily', 'abandoned_carts', 'cart_items_daily', 'cart_recoveries']);
  });
});

describe('a warehouse made before these columns', () => {
  it('gains them on the next run, which publishes them', async () => {
    const dir = await tempDir();
    const lines = [cart({ session: 1, at: 10, privacy_info: { ads_storage: 'Yes' } })];
    const first = await runOn({ 'a.json': lines }, { dir });
    expect((await first.csv('abandoned_carts', D))[0]!.ads_consent).toBe('granted');
    // As an earlier release left it: no consent staged, no remarketing columns published.
    const instance = await DuckDBInstance.create(join(dir, 'state', 'warehouse.duckdb'));
    const connection = await instance.connect();
    await connection.run('ALTER TABLE abandoned_carts DROP COLUMN ads_consent; ALTER TABLE abandoned_carts DROP COLUMN purchased_later; ALTER TABLE stg_events DROP COLUMN ads_storage');
    connection.closeSync();
    instance.closeSync();
    const again = await runOn({ 'a.json': lines }, { dir });
    expect((await again.csv('abandoned_carts', D))[0]).toMatchObject({ purchased_later: 'false', ads_consent: 'granted' });
  });
});
