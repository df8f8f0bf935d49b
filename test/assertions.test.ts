// Assertions declared beside the models or in the config: SQL that returns the violating rows.
// A blocking failure withholds the date's files; a warning does not.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { compileAssertion, declare, planAssertions } from '../src/models/assertions.js';
import { readModels } from '../src/models/graph.js';
import { PUBLISHED_TABLES } from '../src/contract/tables.js';
import { DuckDbDialect } from '../src/warehouse/duckdb/duckdb-dialect.js';
import { cli } from './support/cli.js';
import { ev, item, queryWarehouse, tempDir, writeConfig, writeInput } from './support/pipeline.js';

const D = '2026-11-01';

async function runWith(assertion: string) {
  const dir = await tempDir();
  await writeInput(dir, { 'a.json': [ev('add_to_cart', { items: [item('A')] }), ev('page_view', { session: 2 }), ev('page_view', { session: 3 })] });
  const config = await writeConfig(dir, `assertions:\n  - ${assertion}\n`);
  return { dir, result: await cli(['run', '--config', config]) };
}

describe('assertions', () => {
  it('every shipped published model is checked on its key, and the shipped data passes them all', async () => {
    const { assertions, problems } = planAssertions(await readModels(), PUBLISHED_TABLES, []);
    expect(problems).toEqual([]);
    // remarketing_audience is published only when switched on, and is checked on its key too.
    expect(assertions.filter((a) => a.kind === 'unique').map((a) => a.model).sort()).toEqual(['abandoned_carts', 'cart_funnel_daily', 'cart_items_daily', 'cart_recoveries', 'remarketing_audience']);
  });

  it('a published table without an assertion on its key fails the graph check', async () => {
    const models = (await readModels()).map((m) => (m.name === 'cart_items_daily' ? { ...m, sql: m.sql.replace(/^-- assert unique:.*$/m, '') } : m));
    expect(planAssertions(models, PUBLISHED_TABLES, []).problems).toEqual(['the export of cart_items_daily depends on no assertion: declare `-- assert unique: date, item_id` in its model']);
  });

  it('a blocking failure withholds the date, keeps the result with a sample, and fails the run', async () => {
    const { dir, result } = await runWith('{ model: cart_funnel_daily, kind: row, check: "sessions < 2" }');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error: 2026-11-01: assertion cart_funnel_daily__row_101 \(error\) failed on 1 row\(s\), e\.g\. \{"date":"2026-11-01","sessions":"3"/);
    expect(existsSync(join(dir, 'exports', 'cart_funnel_daily', `dt=${D}`))).toBe(false);
    const report = JSON.parse(await readFile(join(dir, 'exports', 'run_report', 'last_run.json'), 'utf8'));
    expect(report.dates[0]).toMatchObject({ status: 'failed', assertion_failures: [{ assertion: 'cart_funnel_daily__row_101', blocking: true, failing_rows: 1 }] });
    const kept = await queryWarehouse(join(dir, 'state', 'warehouse.duckdb'), `SELECT assertion, failing_rows, sample IS NOT NULL AS has_sample FROM assertion_results WHERE failing_rows > 0`);
    expect(kept).toEqual([{ assertion: 'cart_funnel_daily__row_101', failing_rows: '1', has_sample: true }]);
    const all = await queryWarehouse(join(dir, 'state', 'warehouse.duckdb'), `SELECT count(*)::INTEGER AS n FROM assertion_results`);
    expect(all[0]!.n).toBeGreaterThan(10); // passes are kept too
  });

  it('a warning does not withhold anything', async () => {
    const { dir, result } = await runWith('{ model: cart_funnel_daily, kind: row, check: "sessions < 2", severity: warn }');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/warning: 2026-11-01: assertion cart_funnel_daily__row_101 \(warn\)/);
    expect(existsSync(join(dir, 'exports', 'cart_funnel_daily', `dt=${D}`, 'cart_funnel_daily_20261101.csv'))).toBe(true);
  });

  it('volume compares a day with the median of the 7 days before it', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run(`CREATE TABLE cart_funnel_daily AS SELECT DATE '2026-11-01' + INTERVAL (i) DAY AS date, CASE WHEN i = 8 THEN 40 WHEN i = 9 THEN 110 ELSE 100 END AS sessions FROM range(10) t(i)`);
    const sql = compileAssertion(declare('cart_funnel_daily', 'volume', 'SUM(sessions) within 0.5', 'warn', undefined, 0), new DuckDbDialect(), ['2026-11-09', '2026-11-10']);
    const flagged = (await connection.runAndReadAll(sql)).getRowObjectsJson();
    expect(flagged.map((r) => [String(r.date).slice(0, 10), Number(r.volume), Number(r.trailing_median)])).toEqual([['2026-11-09', 40, 100]]);
    connection.closeSync();
    instance.closeSync();
  });
});
