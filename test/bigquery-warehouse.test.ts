// A whole run on the bigquery warehouse and the ga4-export-bigquery source, with the real client
// against the local fake of the REST API. The fake does not execute SQL: it answers the run's
// own queries with fixed rows, so this checks the wiring — session, transaction, job order, cost
// guard, parameters, date-suffix filter — and that exports come from the warehouse's rows.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { runPipeline } from '../src/pipeline/run.js';
import { cannedBigQueryAnswer } from './support/bigquery-answers.js';
import { FakeBigQuery } from './support/fake-bigquery.js';
import { expectOrder } from './support/order.js';
import { tempDir } from './support/pipeline.js';

let fake: FakeBigQuery;
let endpoint: string;

beforeEach(async () => {
  fake = new FakeBigQuery(cannedBigQueryAnswer);
  endpoint = await fake.start();
});
afterEach(() => fake.stop());

describe('a run on BigQuery', () => {
  it('reads the export in place, in one session and one transaction, under the cost guard', async () => {
    const dir = await tempDir();
    const loaded = parseConfig(
      `source: { type: ga4-export-bigquery, project: my-project, dataset: analytics_123 }
warehouse: { type: bigquery, project: my-project, location: southamerica-east1, api_endpoint: "${endpoint}" }
export: { type: local, dir: exports }
privacy: { user_key_secret: "a-secret-of-enough-length" }`,
      join(dir, 'cartlens.yaml'),
    );
    const report = await runPipeline({ loaded, dates: ['2026-11-01'] });
    const sqls = fake.inserts.map((job) => String(job.configuration.query?.query ?? ''));

    // The export is read with a date-suffix filter, never a whole wildcard scan.
    const stage = sqls.find((sql) => sql.includes('_run_raw'))!;
    expect(stage).toContain('FROM `my-project.analytics_123.events_2*` AS e');
    expect(stage).toContain("WHERE _TABLE_SUFFIX IN ('0261101')");
    expect(stage.match(/CREATE TEMP TABLE _run_raw AS/g)).toHaveLength(1);
    expect(stage).not.toContain('{{');
    expect(stage).toContain("r'^[0-9]+$'"); // inserted verbatim: `$'` is not a replacement pattern here

    // One session: the first job opens it, every later one joins it.
    const sessions = fake.inserts.map((job) => fake.sessionOf(job));
    expect(new Set(sessions).size).toBe(1);
    expect((fake.inserts[0]!.configuration.query as { createSession?: boolean }).createSession).toBe(true);

    // Schema first (DDL cannot run in a transaction), then BEGIN, loads, models, COMMIT.
    const at = (pattern: RegExp) => sqls.findIndex((sql) => pattern.test(sql));
    const last = (pattern: RegExp) => sqls.length - 1 - [...sqls].reverse().findIndex((sql) => pattern.test(sql));
    expectOrder(sqls, /CREATE TABLE IF NOT EXISTS/, /^BEGIN TRANSACTION$/);
    expect(at(/^BEGIN TRANSACTION$/)).toBeLessThan(at(/DELETE FROM `my-project.cartlens_staging.stg_events` WHERE event_date IN/));
    // Retention's purge of old staged events comes before, on its own.
    expectOrder(sqls, /DELETE FROM `my-project.cartlens_staging.stg_events` WHERE event_date < DATE/, /^BEGIN TRANSACTION$/);
    expect(last(/INSERT INTO `my-project.cartlens_marts.cart_items_daily`/)).toBeLessThan(at(/^COMMIT TRANSACTION$/));
    expect(sqls.at(-1)).toBe('CALL BQ.ABORT_SESSION()');

    // Every job carries the cost guard; only the user_key job carries the key pads.
    expect(fake.inserts.every((job) => (job.configuration.query as { maximumBytesBilled?: string }).maximumBytesBilled === String(10 * 2 ** 30))).toBe(true);
    const withParams = fake.inserts.filter((job) => (job.configuration.query as { queryParameters?: unknown[] }).queryParameters);
    expect(withParams.map((job) => String(job.configuration.query?.query))).toEqual([expect.stringContaining('AS user_key')]);

    // The report and the files come from the warehouse's rows.
    expect(report.files).toEqual([{ path: 'events_20261101', sha256: null, bytes: null, lines: 6, blank_lines: 0 }]);
    expect(report.dates[0]).toMatchObject({ date: '2026-11-01', status: 'published', quality: { quarantined: 1, quarantined_by_reason: { missing_user_pseudo_id: 1 } } });
    expect(await readFile(join(dir, 'exports', 'cart_funnel_daily', 'dt=2026-11-01', 'cart_funnel_daily_20261101.csv'), 'utf8')).toBe(
      'date,sessions,sessions_with_view_item,sessions_with_add_to_cart,sessions_with_begin_checkout,sessions_with_purchase,abandoned_carts,cart_abandonment_rate,purchases,revenue,abandoned_value\n2026-11-01,3,2,2,1,1,1,0.5000,1,12.50,10.00\n',
    );
  });

  it('refuses the files source, which BigQuery does not read', async () => {
    const dir = await tempDir();
    const loaded = parseConfig(
      `source: { type: ga4-export-files, path: "x/*.json" }
warehouse: { type: bigquery, project: my-project, api_endpoint: "${endpoint}" }`,
      join(dir, 'cartlens.yaml'),
    );
    await expect(runPipeline({ loaded })).rejects.toThrow(/does not read landed files/);
  });
});
