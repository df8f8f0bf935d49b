// A whole run on the bigquery warehouse and the ga4-export-bigquery source, with the real client
// against the local BigQuery (src/dev/gcp/), whose reference engine computes every statement: the
// wiring — session, transaction, job order, cost guard, parameters, date-suffix filter — and the
// report and files, which come from the rows the run's own SQL computed from one export day.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { runPipeline } from '../src/pipeline/run.js';
import { RecordingGcp, sessionOf } from './support/local-gcp.js';
import { expectOrder } from './support/order.js';
import { ev, item, tempDir } from './support/pipeline.js';
import { describeWithZetaSql } from './support/zetasql/guard.js';

/** One export day: three sessions (a purchase, an abandoned cart, a view) and a line without a user. */
const DAY = [
  ev('add_to_cart', { user: 'u1', session: 1, at: 1, items: [item('A', { price: 12.5 })] }),
  ev('begin_checkout', { user: 'u1', session: 1, at: 2, items: [item('A', { price: 12.5 })] }),
  ev('purchase', { user: 'u1', session: 1, at: 3, items: [item('A', { price: 12.5 })], ecommerce: { transaction_id: 't-1', purchase_revenue: 12.5 } }),
  ev('view_item', { user: 'u2', session: 2, at: 4, items: [item('B')] }),
  ev('add_to_cart', { user: 'u2', session: 2, at: 5, items: [item('B')] }),
  ev('view_item', { user: 'u3', session: 3, at: 6, items: [item('C')] }),
  { ...ev('view_item', { user: 'u4', session: 4, at: 7, items: [item('C')] }), user_pseudo_id: null },
];

let gcp: RecordingGcp;

describeWithZetaSql('a run on BigQuery', () => {
  beforeAll(async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'in'));
    await writeFile(join(dir, 'in', 'events_20261101.json'), DAY.map((e) => `${JSON.stringify(e)}\n`).join(''));
    gcp = await RecordingGcp.start({ project: 'my-project', dataset: 'analytics_123', location: 'southamerica-east1', exportFiles: join(dir, 'in', 'events_*.json') });
  });
  afterAll(() => gcp?.stop());

  it('reads the export in place, in one session and one transaction, under the cost guard', async () => {
    const dir = await tempDir();
    const loaded = parseConfig(
      `source: { type: ga4-export-bigquery, project: my-project, dataset: analytics_123 }
warehouse: { type: bigquery, project: my-project, location: southamerica-east1, api_endpoint: "${gcp.endpoint}" }
export: { type: local, dir: exports }
privacy: { user_key_secret: "a-secret-of-enough-length" }`,
      join(dir, 'cartlens.yaml'),
    );
    const report = await runPipeline({ loaded, dates: ['2026-11-01'] });
    const sqls = gcp.inserts.map((job) => String(job.configuration.query?.query ?? ''));

    // The export is read with a date-suffix filter, never a whole wildcard scan.
    const stage = sqls.find((sql) => sql.includes('_run_raw'))!;
    expect(stage).toContain('FROM `my-project.analytics_123.events_2*` AS e');
    expect(stage).toContain("WHERE _TABLE_SUFFIX IN ('0261101')");
    expect(stage.match(/CREATE TEMP TABLE _run_raw AS/g)).toHaveLength(1);
    expect(stage).not.toContain('{{');
    expect(stage).toContain("r'^[0-9]+$'"); // inserted verbatim: `$'` is not a replacement pattern here

    // One session: the first job opens it, every later one joins it.
    const [opened, ...joined] = gcp.inserts.map((job) => sessionOf(job));
    expect(opened).toBe('opens');
    expect(new Set(joined).size).toBe(1);
    expect(joined[0]).toMatch(/^(?!opens$)./);
    expect((gcp.inserts[0]!.configuration.query as { createSession?: boolean }).createSession).toBe(true);

    // Schema first (DDL cannot run in a transaction), then BEGIN, loads, models, COMMIT.
    const at = (pattern: RegExp) => sqls.findIndex((sql) => pattern.test(sql));
    const last = (pattern: RegExp) => sqls.length - 1 - [...sqls].reverse().findIndex((sql) => pattern.test(sql));
    expectOrder(sqls, /CREATE TABLE IF NOT EXISTS/, /^BEGIN TRANSACTION$/);
    expect(at(/^BEGIN TRANSACTION$/)).toBeLessThan(at(/DELETE FROM `my-project.cartlens_staging.stg_events` WHERE event_date IN/));
    // Retention's purge of old staged events comes before, on its own.
    expectOrder(sqls, /DELETE FROM `my-project.cartlens_staging.stg_events` WHERE event_date < DATE/, /^BEGIN TRANSACTION$/);
    expect(last(/INSERT INTO `my-project.cartlens_marts.cart_items_daily`/)).toBeLessThan(at(/^COMMIT TRANSACTION$/));
    expect(sqls.at(-1)).toBe('CALL BQ.ABORT_SESSION()');

    // Every job carries the cost guard; only the jobs that write user_key (abandoned_carts, cart_recoveries) carry the key pads.
    expect(gcp.inserts.every((job) => (job.configuration.query as { maximumBytesBilled?: string }).maximumBytesBilled === String(10 * 2 ** 30))).toBe(true);
    const withParams = gcp.inserts.filter((job) => (job.configuration.query as { queryParameters?: unknown[] }).queryParameters);
    expect(withParams.map((job) => String(job.configuration.query?.query).split('\n')[0])).toEqual(['CREATE TEMP TABLE `_new_abandoned_carts` AS', 'CREATE TEMP TABLE `_new_cart_recoveries` AS']);
    expect(withParams.every((job) => String(job.configuration.query?.query).includes('AS user_key'))).toBe(true);

    // The report and the files come from the warehouse's rows.
    expect(report.files).toEqual([{ path: 'events_20261101', sha256: null, bytes: null, lines: 7, blank_lines: 0 }]);
    expect(report.dates[0]).toMatchObject({ date: '2026-11-01', status: 'published', quality: { quarantined: 1, quarantined_by_reason: { missing_user_pseudo_id: 1 } } });
    expect(await readFile(join(dir, 'exports', 'cart_funnel_daily', 'dt=2026-11-01', 'cart_funnel_daily_20261101.csv'), 'utf8')).toBe(
      'date,sessions,sessions_with_view_item,sessions_with_add_to_cart,sessions_with_begin_checkout,sessions_with_purchase,abandoned_carts,cart_abandonment_rate,purchases,revenue,abandoned_value\n2026-11-01,3,2,2,1,1,1,0.5000,1,12.50,10.00\n',
    );
  });

  it('refuses the files source, which BigQuery does not read', async () => {
    const dir = await tempDir();
    const loaded = parseConfig(
      `source: { type: ga4-export-files, path: "x/*.json" }
warehouse: { type: bigquery, project: my-project, api_endpoint: "${gcp.endpoint}" }`,
      join(dir, 'cartlens.yaml'),
    );
    await expect(runPipeline({ loaded })).rejects.toThrow(/does not read landed files/);
  });
});
