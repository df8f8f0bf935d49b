// One conformance suite for both warehouses (issue 20, item 4, GA4 export events): small dirty demo
// days through ga4-export-bigquery + BigQuery (the local BigQuery: ZetaSQL's reference engine) and
// through ga4-export-files + DuckDB on the same rows in the contract's input order. Every
// published file, every manifest and the run reports' quality figures are equal, in one run of
// several dates and date by date; a seeded assertion and the built-in shrink guard withhold the
// same dates, with the same samples; the volume assertions' median agrees on an even count; the
// dashboard's copies show the same numbers; and a negative control shows that one changed
// expression in one BigQuery model breaks the equality.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LoadedConfig } from '../src/config/load.js';
import type { BigQueryWarehouseConfig } from '../src/config/schema.js';
import { bigQuerySnapshotSource } from '../src/dashboard/copy-from-bigquery.js';
import { duckdbSnapshotSource } from '../src/dashboard/copy-from-duckdb.js';
import { dashboardData, resolveRange } from '../src/dashboard/queries.js';
import { WarehouseSnapshot, type SnapshotSource } from '../src/dashboard/snapshot.js';
import { compileAssertion, declare } from '../src/models/assertions.js';
import type { RunReport } from '../src/pipeline/report.js';
import { createSource } from '../src/sources/index.js';
import { runStateKeys } from '../src/sources/source.js';
import { BigQueryWarehouse } from '../src/warehouse/bigquery/bigquery-warehouse.js';
import { dialectFor } from '../src/warehouse/index.js';
import { EXPORT_DATASET, PROJECT, dayOf, publishedFiles, qualityFigures, twoWarehouses, type TwoWarehouses } from './support/two-warehouses.js';
import { describeWithZetaSql } from './support/zetasql/guard.js';

const TABLES = ['cart_funnel_daily', 'abandoned_carts', 'cart_items_daily', 'cart_recoveries', 'remarketing_audience'];

describeWithZetaSql('both warehouses publish the same bytes from the same GA4 export events', () => {
  let both: TwoWarehouses;

  beforeAll(async () => {
    // Three dirty days, small enough for one run of the engine (about 1,450 export rows at most).
    both = await twoWarehouses({ days: 3, sessionsPerDay: 30, dirtyRate: 0.05 });
  });

  afterAll(async () => {
    await both?.stop();
  });

  /** Runs `dates` on both warehouses and expects equal files, manifests and quality figures. */
  async function expectSameOnBoth(dates: readonly string[], duckDbFiles?: readonly string[]) {
    const onBigQuery = await both.run(both.bigQueryConfig(), dates);
    const onDuckDb = await both.run(both.duckDbConfig(duckDbFiles ? { dates: duckDbFiles } : {}), dates);
    expect(onBigQuery.dates.map((d) => d.status)).toEqual(dates.map(() => 'published'));
    expect(qualityFigures(onBigQuery)).toEqual(qualityFigures(onDuckDb));
    const fromBigQuery = await publishedFiles(both.bigQueryRoot(), TABLES, dates);
    const fromDuckDb = await publishedFiles(both.duckDbRoot(), TABLES, dates);
    // Each date: four tables with their manifests (rows, bytes, SHA-256) and report.html.
    expect([...fromDuckDb.keys()].filter((f) => f.endsWith('manifest.json'))).toHaveLength(dates.length * TABLES.length);
    expect(Object.fromEntries(fromBigQuery)).toEqual(Object.fromEntries(fromDuckDb));
    return { onBigQuery, onDuckDb };
  }

  it('several dates in one run: every file, manifest and quality figure, undated lines included', async () => {
    const { onDuckDb } = await expectSameOnBoth(both.dates);
    // The dirty days exercise the rules that decide a quarantined line's date.
    const undated = onDuckDb.undated.quarantined_by_reason;
    expect(Object.keys(undated)).toEqual(expect.arrayContaining(['invalid_event_date', 'event_date_mismatch']));
    expect(onDuckDb.dates.some((d) => (d.quality?.quarantined ?? 0) > 0)).toBe(true);
  });

  it('date by date, each run reading one day, replaces the same rows: undated ones are not counted twice', async () => {
    for (const date of both.dates) await expectSameOnBoth([date], [date]);
    // The undated quarantined rows of each export table were replaced, not added to.
    const bigQuery = await BigQueryWarehouse.open(warehouseOptions(both), dialectFor(both.bigQueryConfig().config.warehouse));
    try {
      const [onBigQuery] = await bigQuery.query(`SELECT COUNT(*) AS n FROM ${bigQuery.dialect.tableName('quarantined_events', false)} WHERE event_date IS NULL`);
      const [onDuckDb] = await queryDuckDb(join(both.dir, 'state', 'warehouse.duckdb'), 'SELECT count(*)::INTEGER AS n FROM quarantined_events WHERE event_date IS NULL');
      expect(Number(onBigQuery!.n)).toBeGreaterThan(0);
      expect(Number(onBigQuery!.n)).toBe(Number(onDuckDb!.n));
    } finally {
      await bigQuery.close();
    }
  });

  it("the dashboard's BigQuery copy shows the same numbers as its DuckDB copy over the range", async () => {
    const range = { from: both.dates[0]!, to: both.dates[both.dates.length - 1]! };
    const show = async (source: SnapshotSource, loaded: LoadedConfig) => {
      const snapshot = await WarehouseSnapshot.create(source, runStateKeys(createSource(loaded.config.source, loaded.baseDir)));
      try {
        await snapshot.refresh();
        return await snapshot.read(async (query) => dashboardData(query, range, (await resolveRange(query, range)).available));
      } finally {
        await snapshot.close();
      }
    };
    const bigQuery = both.bigQueryConfig();
    const fromBigQuery = await show(bigQuerySnapshotSource(bigQuery.config.warehouse as BigQueryWarehouseConfig), bigQuery);
    const fromDuckDb = await show(duckdbSnapshotSource(join(both.dir, 'state', 'warehouse.duckdb')), both.duckDbConfig());
    // The page's numbers: totals, trend, top items, breakdowns, consent, and each day's status and line counts.
    expect(fromBigQuery.trend).toHaveLength(both.dates.length);
    expect(fromBigQuery.topItems.length).toBeGreaterThan(0);
    expect(fromBigQuery.days.map((d) => d.status)).toEqual(both.dates.map(() => 'complete'));
    expect(fromBigQuery).toEqual(fromDuckDb);
  });

  it('a seeded violation fails as blocking on the same dates on both, and their files are withheld on both', async () => {
    // The busiest day(s) violate it, the others pass: the same dates must be withheld on both.
    const sessions = await Promise.all(both.dates.map(async (date) => Number(csvColumn((await publishedFiles(both.duckDbRoot(), ['cart_funnel_daily'], [date])).values().next().value!, 'sessions'))));
    const most = Math.max(...sessions);
    const violating = both.dates.filter((_d, i) => sessions[i] === most);
    expect(violating.length).toBeLessThan(both.dates.length);
    // And a warning on the carts, whose samples show every kind of value (timestamps, booleans, money).
    const extra = `assertions:\n  - { model: cart_funnel_daily, kind: row, check: "sessions < ${most}" }\n  - { model: abandoned_carts, kind: row, check: "units < 4", severity: warn }\n`;
    const onBigQuery = await both.run(both.bigQueryConfig({ prefix: 'asserted/', extra }), both.dates);
    const onDuckDb = await both.run(both.duckDbConfig({ exportDir: 'asserted', extra }), both.dates);
    const outcome = (report: RunReport) =>
      report.dates.map((d) => ({ date: d.date, status: d.status, failures: d.assertion_failures.map((f) => ({ assertion: f.assertion, blocking: f.blocking, failing_rows: f.failing_rows })) }));
    expect(outcome(onBigQuery)).toEqual(outcome(onDuckDb));
    expect(onBigQuery.dates.map((d) => [d.rows, d.assertion_failures])).toEqual(onDuckDb.dates.map((d) => [d.rows, d.assertion_failures]));
    expect(outcome(onBigQuery).filter((d) => d.status === 'failed').map((d) => d.date)).toEqual(violating);
    expect(outcome(onBigQuery).find((d) => d.status === 'failed')!.failures.filter((f) => f.blocking)).toEqual([{ assertion: 'cart_funnel_daily__row_101', blocking: true, failing_rows: 1 }]);
    // The warning's samples (the same rows, the same text, on both) hold timestamps, booleans and integers.
    const warned = onBigQuery.dates.flatMap((d) => d.assertion_failures.filter((f) => !f.blocking).flatMap((f) => f.sample));
    expect(warned.length).toBeGreaterThan(0);
    expect(warned[0]).toMatchObject({ first_add_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/), reached_checkout: expect.any(Boolean), units: expect.any(String) });
    const bigQueryFiles = await publishedFiles(both.bigQueryRoot('asserted/'), TABLES, both.dates);
    const duckDbFiles = await publishedFiles(both.duckDbRoot('asserted'), TABLES, both.dates);
    for (const date of violating) expect([...bigQueryFiles.keys()].filter((f) => f.includes(`dt=${date}/`) && !f.startsWith('report/'))).toEqual([]);
    expect([...bigQueryFiles.keys()]).toEqual([...duckDbFiles.keys()]);
  });

  it('the volume assertions take the same trailing median on both: the mean of the two middle values of an even count', async () => {
    // Four days before the judged one (an even count): 100, 100, 140, 180. The median is 120, and 66
    // is more than 0.4 below it; the lower middle value (100) would let 66 pass.
    const volumes = [100, 180, 140, 100, 66];
    const days = volumes.map((_v, i) => `DATE_ADD(DATE '2026-11-01', INTERVAL ${i} DAY)`);
    const assertion = declare('cart_funnel_daily', 'volume', 'SUM(sessions) within 0.4', 'error', undefined, 0);
    const judged = ['2026-11-05'];

    const bigQuery = await BigQueryWarehouse.open(warehouseOptions(both), dialectFor(both.bigQueryConfig().config.warehouse));
    let onBigQuery: Record<string, unknown>[];
    try {
      const table = bigQuery.dialect.tableName('volume_check', false);
      await bigQuery.execute(`CREATE OR REPLACE TABLE ${table} (date DATE, sessions INT64)`);
      await bigQuery.execute(`INSERT INTO ${table} VALUES ${volumes.map((v, i) => `(${days[i]}, ${v})`).join(', ')}`);
      onBigQuery = await bigQuery.query(compileAssertion({ ...assertion, model: 'volume_check' }, bigQuery.dialect, judged));
    } finally {
      await bigQuery.close();
    }
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const dialect = dialectFor({ type: 'duckdb' });
    await connection.run(`CREATE TABLE volume_check AS SELECT DATE '2026-11-01' + INTERVAL (i) DAY AS date, [${volumes.join(', ')}][i + 1] AS sessions FROM range(5) t(i)`);
    const onDuckDb = (await connection.runAndReadAll(compileAssertion({ ...assertion, model: 'volume_check' }, dialect, judged))).getRowObjectsJson();
    connection.closeSync();
    instance.closeSync();
    const flagged = (rows: Record<string, unknown>[]) => rows.map((r) => [String(r.date).slice(0, 10), Number(r.volume), Number(r.trailing_median)]);
    expect(flagged(onBigQuery)).toEqual([['2026-11-05', 66, 120]]);
    expect(flagged(onDuckDb)).toEqual(flagged(onBigQuery));
  });

  it('negative control: one changed expression in one BigQuery model makes the equality fail', async () => {
    const date = both.dates[0]!;
    let patched = 0;
    // One wrong expression in cart_funnel_daily: every session counted as having viewed an item.
    const right = 'WHEN has_view_item THEN 1 ELSE 0 END';
    both.rewriteBigQuerySql((sql) => (sql.includes(right) ? (patched++, sql.replace(right, 'WHEN has_view_item THEN 1 ELSE 1 END')) : sql));
    try {
      const report = await both.run(both.bigQueryConfig({ prefix: 'patched/' }), [date]);
      expect(report.dates.map((d) => d.status)).toEqual(['published']);
    } finally {
      both.rewriteBigQuerySql(undefined);
    }
    expect(patched).toBe(1);
    const fromBigQuery = await publishedFiles(both.bigQueryRoot('patched/'), TABLES, [date]);
    const fromDuckDb = await publishedFiles(both.duckDbRoot(), TABLES, [date]);
    const differing = [...fromDuckDb.keys()].filter((file) => fromBigQuery.get(file) !== fromDuckDb.get(file));
    expect(differing).toEqual(expect.arrayContaining([`cart_funnel_daily/dt=${date}/cart_funnel_daily_${dayOf(date)}.csv`, `cart_funnel_daily/dt=${date}/manifest.json`]));
    expect(differing.every((file) => file.startsWith('cart_funnel_daily/') || file.startsWith('report/'))).toBe(true);
    expect(() => expect(Object.fromEntries(fromBigQuery)).toEqual(Object.fromEntries(fromDuckDb))).toThrow();
  });

  it('a built-in blocking check, a day that would shrink on republishing, withholds the same date on both', async () => {
    const date = both.dates[both.dates.length - 1]!;
    const table = `events_${dayOf(date)}`;
    const before = await publishedFiles(both.bigQueryRoot(), TABLES, [date]);
    // Half the day's users vanish from the export (a partial table), on both sides alike.
    await both.gcp.bigquery.runScript(`DELETE FROM \`${PROJECT}.${EXPORT_DATASET}.${table}\` WHERE MOD(ABS(FARM_FINGERPRINT(user_pseudo_id)), 2) = 0`, { project: PROJECT, parameters: [] });
    await writeFile(join(both.dir, 'files', `${table}.json`), await both.gcp.exportTableLines(table));
    const onBigQuery = await both.run(both.bigQueryConfig(), [date]);
    const onDuckDb = await both.run(both.duckDbConfig({ dates: [date] }), [date]);
    const withheld = (report: RunReport) => report.dates.map((d) => ({ date: d.date, status: d.status, failures: d.assertion_failures }));
    expect(withheld(onBigQuery)).toEqual(withheld(onDuckDb));
    expect(withheld(onBigQuery)).toEqual([{ date, status: 'failed', failures: [expect.objectContaining({ assertion: 'sessions_shrink', blocking: true })] }]);
    // What was published stays, the same on both.
    expect(Object.fromEntries(await publishedFiles(both.bigQueryRoot(), TABLES, [date]))).toEqual(Object.fromEntries(before));
    expect(Object.fromEntries(await publishedFiles(both.duckDbRoot(), TABLES, [date]))).toEqual(Object.fromEntries(before));
  });
});

function warehouseOptions(both: TwoWarehouses) {
  const warehouse = both.bigQueryConfig().config.warehouse as BigQueryWarehouseConfig;
  return { project: PROJECT, location: warehouse.location, stagingDataset: warehouse.staging_dataset, martsDataset: warehouse.marts_dataset, maximumBytesBilled: 1e12, apiEndpoint: both.endpoint };
}

async function queryDuckDb(path: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJson();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** A column of a one-row CSV file. */
function csvColumn(csv: string, column: string): string {
  const [header, line] = csv.split('\n');
  return line!.split(',')[header!.split(',').indexOf(column)]!;
}
