// The restatement log (issue 23, item 1): a run that republishes a date whose files were published
// before with other content records what changed — the funnel's metrics before and after, the other
// tables' rows added, removed and changed with the sums of their measures — with the run that
// changed it and the one before; identical content records nothing.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BigQueryWarehouseConfig } from '../src/config/schema.js';
import { parseConfig } from '../src/config/load.js';
import type { RunReport } from '../src/pipeline/report.js';
import { latestRestatements, restatementLines } from '../src/pipeline/restatements.js';
import { BigQueryWarehouse } from '../src/warehouse/bigquery/bigquery-warehouse.js';
import { dialectFor } from '../src/warehouse/index.js';
import { runPipeline, type RunRequest } from '../src/pipeline/run.js';
import { cli } from './support/cli.js';
import { cartDay, queryWarehouse, tempDir, writeConfig, writeInput, type Line } from './support/pipeline.js';
import { dayOf, EXPORT_DATASET, PROJECT, twoWarehouses, type TwoWarehouses } from './support/two-warehouses.js';
import { describeWithZetaSql } from './support/zetasql/guard.js';

const LATER = () => new Date('2026-11-20T12:00:00Z');


async function project() {
  const dir = await tempDir();
  const configFile = await writeConfig(dir);
  const run = async (request: Partial<RunRequest> = {}) => runPipeline({ loaded: parseConfig(await readFile(configFile, 'utf8'), configFile), now: LATER, ...request });
  const input = async (files: Record<string, Line[]>) => {
    await rm(join(dir, 'input'), { recursive: true, force: true });
    await writeInput(dir, files);
  };
  const csv = async (table: string, date: string) => parse(await readFile(join(dir, 'exports', table, `dt=${date}`, `${table}_${date.replaceAll('-', '')}.csv`), 'utf8'), { columns: true }) as Record<string, string>[];
  const query = (sql: string) => queryWarehouse(join(dir, 'state', 'warehouse.duckdb'), sql);
  return { dir, configFile, run, input, csv, query };
}

describe('the restatement log (DuckDB)', () => {
  it('records what a republish changed, with before and after equal to the two published files, and nothing for identical content', async () => {
    const p = await project();
    await p.input({ 'events_20261102.json': cartDay('20261102', 8, 2), 'events_20261103.json': cartDay('20261103', 10, 3) });
    const first = await p.run();
    expect(first.restatements).toEqual([]);
    const funnelBefore = (await p.csv('cart_funnel_daily', '2026-11-03'))[0]!;
    const cartsBefore = await p.csv('abandoned_carts', '2026-11-03');

    // The same input again: the files are published again with the same content, nothing is restated.
    const same = await p.run({ dates: ['2026-11-03'] });
    expect(same.dates.map((d) => [d.date, d.status])).toEqual([['2026-11-03', 'published']]);
    expect(same.restatements).toEqual([]);
    expect(await p.query('SELECT count(*)::INTEGER AS n FROM restatements')).toEqual([{ n: 0 }]);

    // 2026-11-03 arrives again with 2 more sessions, one more purchase (a cart that is no longer abandoned).
    await p.input({ 'events_20261102.json': cartDay('20261102', 8, 2), 'events_20261103.json': cartDay('20261103', 12, 4) });
    const second = await p.run({ dates: ['2026-11-03'] });
    const funnelAfter = (await p.csv('cart_funnel_daily', '2026-11-03'))[0]!;
    const cartsAfter = await p.csv('abandoned_carts', '2026-11-03');
    expect(funnelAfter.sessions).toBe('12');

    const funnel = second.restatements.find((r) => r.table === 'cart_funnel_daily')!;
    expect(funnel).toMatchObject({ date: '2026-11-03', previous_run_id: same.run_id });
    // Every metric that changed, as the two published CSVs write it; every other one left out.
    const changed = Object.keys(funnelBefore).filter((c) => funnelBefore[c] !== funnelAfter[c]);
    expect(changed).toContain('sessions');
    expect(funnel.changes).toEqual(changed.map((column) => ({ column, before: funnelBefore[column], after: funnelAfter[column] })));

    // abandoned_carts: by its key, 7 → 8 carts (session 4 now bought, sessions 11 and 12 are new).
    const keyOf = (r: Record<string, string>) => `${r.user_key}|${r.session_id}`;
    const added = cartsAfter.filter((r) => !cartsBefore.some((b) => keyOf(b) === keyOf(r))).length;
    const removed = cartsBefore.filter((r) => !cartsAfter.some((a) => keyOf(a) === keyOf(r))).length;
    expect([added, removed]).toEqual([2, 1]);
    const sum = (rows: Record<string, string>[], column: string) => rows.reduce((s, r) => s + Number(r[column]), 0);
    const carts = second.restatements.find((r) => r.table === 'abandoned_carts')!;
    expect(carts).toEqual({
      date: '2026-11-03',
      table: 'abandoned_carts',
      previous_run_id: same.run_id,
      changes: [
        { column: 'rows', before: String(cartsBefore.length), after: String(cartsAfter.length) },
        { column: 'rows_added', before: '0', after: '2' },
        { column: 'rows_removed', before: '0', after: '1' },
        { column: 'sum(distinct_items)', before: String(sum(cartsBefore, 'distinct_items')), after: String(sum(cartsAfter, 'distinct_items')) },
        { column: 'sum(units)', before: String(sum(cartsBefore, 'units')), after: String(sum(cartsAfter, 'units')) },
        { column: 'sum(cart_value)', before: sum(cartsBefore, 'cart_value').toFixed(2), after: sum(cartsAfter, 'cart_value').toFixed(2) },
      ],
    });
    // The item table changed too; 2026-11-02 was not recomputed: nothing about it.
    expect(second.restatements.map((r) => r.table)).toContain('cart_items_daily');
    expect(second.restatements.every((r) => r.date === '2026-11-03')).toBe(true);

    // The warehouse holds the same, row per change, with the run and the one before.
    const rows = await p.query(`SELECT strftime(date, '%Y-%m-%d') AS date, table_name, run_id, previous_run_id, column_name, before, after FROM restatements WHERE table_name = 'cart_funnel_daily' ORDER BY seq`);
    expect(rows).toEqual(funnel.changes.map((c) => ({ date: '2026-11-03', table_name: 'cart_funnel_daily', run_id: second.run_id, previous_run_id: same.run_id, column_name: c.column, before: c.before, after: c.after })));
    const total = second.restatements.reduce((n, r) => n + r.changes.length, 0);
    expect(await p.query('SELECT count(*)::INTEGER AS n FROM restatements')).toEqual([{ n: total }]);

    // The terminal line: the headline, sessions.
    expect(restatementLines(second.restatements)).toEqual([`2026-11-03 revised: sessions 10 → 12 (+20.0%)`]);

    // Identical content once more: nothing more is recorded, and the next change names the run before.
    const third = await p.run({ dates: ['2026-11-03'] });
    expect(third.restatements).toEqual([]);
    expect(await p.query('SELECT count(*)::INTEGER AS n FROM restatements')).toEqual([{ n: total }]);
  });

  it('a date the shrink guard withholds is undone with its snapshot: only the date republished is restated, once', async () => {
    const p = await project();
    await p.input({ 'events_20261102.json': cartDay('20261102', 10), 'events_20261103.json': cartDay('20261103', 10) });
    const first = await p.run();
    // 2026-11-02 would fall by half (withheld: the transaction is undone and run again without it); 2026-11-03 grows.
    await p.input({ 'events_20261102.json': cartDay('20261102', 5), 'events_20261103.json': cartDay('20261103', 11) });
    const second = await p.run({ dates: ['2026-11-02', '2026-11-03'] });
    expect(second.dates.map((d) => [d.date, d.status])).toEqual([['2026-11-02', 'failed'], ['2026-11-03', 'published']]);
    expect([...new Set(second.restatements.map((r) => r.date))]).toEqual(['2026-11-03']);
    expect(second.restatements.every((r) => r.previous_run_id === first.run_id)).toBe(true);
    expect(await p.query(`SELECT DISTINCT strftime(date, '%Y-%m-%d') AS date, run_id FROM restatements`)).toEqual([{ date: '2026-11-03', run_id: second.run_id }]);
    expect(restatementLines(second.restatements)).toEqual(['2026-11-03 revised: sessions 10 → 11 (+10.0%)']);
  });

  it('the CLI prints one line per restated date and status marks it revised', async () => {
    const p = await project();
    await p.input({ 'events_20261103.json': cartDay('20261103', 29) });
    expect((await cli(['run', '--config', p.configFile])).code).toBe(0);
    await p.input({ 'events_20261103.json': cartDay('20261103', 31) });
    const run = await cli(['run', '--config', p.configFile, '--date', '2026-11-03']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^2026-11-03 revised: sessions 29 → 31 \(\+6\.9%\)$/m);
    const json = JSON.parse((await cli(['run', '--config', p.configFile, '--date', '2026-11-03', '--json'])).stdout);
    expect(json.restatements).toEqual([]);
    const status = await cli(['status', '--config', p.configFile]);
    expect(status.stdout).toMatch(/^2026-11-03 .* revised: sessions 29 → 31 \(\+6\.9%\) \(run \S+, before: run \S+\)$/m);
    const statusJson = JSON.parse((await cli(['status', '--config', p.configFile, '--json'])).stdout);
    expect(statusJson.revised).toHaveLength(1);
    expect(statusJson.revised[0]).toMatchObject({ date: '2026-11-03', restatements: expect.arrayContaining([expect.objectContaining({ table: 'cart_funnel_daily', changes: expect.arrayContaining([{ column: 'sessions', before: '29', after: '31' }]) })]) });
  });
});

describeWithZetaSql('the restatement log on BigQuery (the local engine) equals DuckDB\'s', () => {
  let both: TwoWarehouses;
  beforeAll(async () => {
    both = await twoWarehouses({ days: 2, sessionsPerDay: 25, dirtyRate: 0.05 });
  });
  afterAll(async () => {
    await both?.stop();
  });

  it('a republished date with a tenth of its users gone: the same changes on both, naming each warehouse\'s run before', async () => {
    const firstBigQuery = await both.run(both.bigQueryConfig(), both.dates);
    const firstDuckDb = await both.run(both.duckDbConfig(), both.dates);
    expect([firstBigQuery.restatements, firstDuckDb.restatements]).toEqual([[], []]);
    const date = both.dates.at(-1)!;
    const table = `events_${dayOf(date)}`;
    const funnelCsv = (root: string) => readFile(join(root, 'cart_funnel_daily', `dt=${date}`, `cart_funnel_daily_${dayOf(date)}.csv`), 'utf8');
    const before = parse(await funnelCsv(both.duckDbRoot()), { columns: true })[0] as Record<string, string>;
    await both.gcp.bigquery.runScript(`DELETE FROM \`${PROJECT}.${EXPORT_DATASET}.${table}\` WHERE MOD(ABS(FARM_FINGERPRINT(user_pseudo_id)), 10) = 0`, { project: PROJECT, parameters: [] });
    await writeFile(join(both.dir, 'files', `${table}.json`), await both.gcp.exportTableLines(table));
    const onBigQuery = await both.run(both.bigQueryConfig(), [date]);
    const onDuckDb = await both.run(both.duckDbConfig(), [date]);
    const after = parse(await funnelCsv(both.duckDbRoot()), { columns: true })[0] as Record<string, string>;
    expect(await funnelCsv(both.bigQueryRoot())).toBe(await funnelCsv(both.duckDbRoot()));

    const withoutRuns = (report: RunReport) => report.restatements.map(({ previous_run_id: _, ...r }) => r);
    expect(withoutRuns(onBigQuery)).toEqual(withoutRuns(onDuckDb));
    expect(onBigQuery.restatements.every((r) => r.previous_run_id === firstBigQuery.run_id)).toBe(true);
    expect(onDuckDb.restatements.every((r) => r.previous_run_id === firstDuckDb.run_id)).toBe(true);
    const funnel = onBigQuery.restatements.find((r) => r.table === 'cart_funnel_daily')!;
    expect(funnel.changes.find((c) => c.column === 'sessions')).toEqual({ column: 'sessions', before: before.sessions, after: after.sessions });
    expect(Number(after.sessions)).toBeLessThan(Number(before.sessions));
    expect(onBigQuery.restatements.map((r) => r.table)).toEqual(expect.arrayContaining(['cart_funnel_daily', 'cart_items_daily']));

    // BigQuery's table holds them, as status reads them.
    const warehouse = both.bigQueryConfig().config.warehouse as BigQueryWarehouseConfig;
    const bigQuery = await BigQueryWarehouse.open({ project: PROJECT, location: warehouse.location, stagingDataset: warehouse.staging_dataset, martsDataset: warehouse.marts_dataset, maximumBytesBilled: 1e12, apiEndpoint: both.endpoint }, dialectFor(warehouse));
    try {
      const latest = await latestRestatements(bigQuery);
      expect([...latest.keys()]).toEqual([date]);
      expect(latest.get(date)).toEqual({ date, run_id: onBigQuery.run_id, restatements: onBigQuery.restatements });
    } finally {
      await bigQuery.close();
    }
  });
});
