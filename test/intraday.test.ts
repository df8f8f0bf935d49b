// Intraday (issue 23, item 2): with source.intraday, a date without daily data is published from
// GA4's intraday data as provisional (manifests, completion marker, run report, status); once its
// daily data comes, the date is recomputed from the daily data alone — never both, never an event
// counted twice — and the change is logged as a restatement. A date whose daily data never comes
// stays provisional and is not counted as done. Without the switch, intraday files are left out.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type LoadedConfig } from '../src/config/load.js';
import { DEMO_DEFAULTS } from '../src/config/schema.js';
import { LocalGcp } from '../src/dev/gcp/local-gcp.js';
import type { RunReport } from '../src/pipeline/report.js';
import { generateDemoExport } from '../src/sources/demo/generator.js';
import { runPipeline, type RunRequest } from '../src/pipeline/run.js';
import { cli } from './support/cli.js';
import { ev, item, queryWarehouse, SECRET, tempDir, writeInput, type Line } from './support/pipeline.js';
import { dayOf, publishedFiles } from './support/two-warehouses.js';
import { describeWithZetaSql } from './support/zetasql/guard.js';

/** Sessions `from`…`to` of a day, each a view and a cart of one item; sessions divisible by 3 buy it. */
function sessions(date: string, from: number, to: number): Line[] {
  const lines: Line[] = [];
  for (let s = from; s <= to; s++) {
    lines.push(ev('view_item', { date, session: s, user: `u${s}`, at: s * 10, items: [item('A')] }));
    lines.push(ev('add_to_cart', { date, session: s, user: `u${s}`, at: s * 10 + 1, items: [item('A', { quantity: 2 })] }));
    if (s % 3 === 0) lines.push(ev('purchase', { date, session: s, user: `u${s}`, at: s * 10 + 2, items: [item('A', { quantity: 2 })], ecommerce: { transaction_id: `T${s}`, purchase_revenue: 20 } }));
  }
  return lines;
}

const TODAY = '2026-11-03';
/** 15:00 in São Paulo (the property's default time zone) on TODAY. */
const AFTERNOON = () => new Date('2026-11-03T18:00:00Z');

async function project({ intraday = true, at = AFTERNOON }: { intraday?: boolean; at?: () => Date } = {}) {
  const dir = await tempDir();
  const configFile = join(dir, 'cartlens.yaml');
  await writeFile(
    configFile,
    `source: { type: ga4-export-files, path: "input/*.json*", intraday: ${intraday} }
warehouse: { type: duckdb, path: "state/warehouse.duckdb", memory_limit: "256MB", threads: 2 }
export: { type: local, dir: "exports" }
landing: { dir: "state/landing" }
privacy: { user_key_secret: "${SECRET}" }
retention: { staged_days: 36500 }
`,
  );
  let clock = at;
  const run = async (request: Partial<RunRequest> = {}) => runPipeline({ loaded: parseConfig(await readFile(configFile, 'utf8'), configFile), now: clock, ...request });
  const path = (...parts: string[]) => join(dir, 'exports', ...parts);
  const csvText = (table: string, date: string) => readFile(path(table, `dt=${date}`, `${table}_${date.replaceAll('-', '')}.csv`), 'utf8');
  return {
    dir,
    configFile,
    run,
    setClock: (next: () => Date) => {
      clock = next;
    },
    input: (files: Record<string, Line[]>) => writeInput(dir, files),
    csvText,
    funnel: async (date: string) => (parse(await csvText('cart_funnel_daily', date), { columns: true }) as Record<string, string>[])[0]!,
    json: async (...parts: string[]) => JSON.parse(await readFile(path(...parts), 'utf8')) as Record<string, unknown>,
    query: (sql: string) => queryWarehouse(join(dir, 'state', 'warehouse.duckdb'), sql),
  };
}

const TABLES = ['cart_funnel_daily', 'abandoned_carts', 'cart_items_daily', 'cart_recoveries'];

describe('intraday data on DuckDB (source.intraday)', () => {
  it('publishes today from intraday files as provisional, then replaces it with the daily file alone: late and duplicate events counted once', async () => {
    const p = await project();
    // Yesterday's daily file, and today's intraday export so far: sessions 1–10.
    const intradayLines = sessions('20261103', 1, 10);
    await p.input({ 'events_20261102.json': sessions('20261102', 1, 6), 'events_intraday_20261103.json': intradayLines });
    const first = await p.run({ due: true });
    const today = first.dates.find((d) => d.date === TODAY)!;
    expect(today).toMatchObject({ status: 'published', provisional: true, source: 'intraday', final: false, left_out_lines: 0 });
    expect(first.dates.find((d) => d.date === '2026-11-02')).toMatchObject({ status: 'published', provisional: false, source: 'daily' });
    // Every manifest and the completion marker say so.
    for (const table of TABLES) expect(await p.json(table, `dt=${TODAY}`, 'manifest.json')).toMatchObject({ provisional: true, source: 'intraday' });
    expect(await p.json('_SUCCESS', `dt=${TODAY}.json`)).toMatchObject({ provisional: true, source: 'intraday' });
    expect(await p.json('cart_funnel_daily', 'dt=2026-11-02', 'manifest.json')).toMatchObject({ provisional: false, source: 'daily' });
    expect(await p.json('_SUCCESS', 'dt=2026-11-02.json')).toMatchObject({ provisional: false, source: 'daily' });
    const provisional = await p.funnel(TODAY);
    expect(provisional.sessions).toBe('10');

    // A second run the same day, with more intraday events: today's provisional files are replaced.
    await p.input({ 'events_intraday_20261103.json': [...intradayLines, ...sessions('20261103', 11, 12)] });
    p.setClock(() => new Date('2026-11-03T21:00:00Z'));
    const second = await p.run({ due: true });
    expect(second.dates.find((d) => d.date === TODAY)).toMatchObject({ provisional: true, source: 'intraday' });
    const provisionalAgain = await p.funnel(TODAY);
    expect(provisionalAgain.sessions).toBe('12');

    // The daily file comes: sessions 1–12 again (10 lines identical to intraday ones, the rest
    // exported anew), and 3 late sessions. The intraday file stays in the folder.
    const daily = [...intradayLines.slice(0, 10), ...sessions('20261103', 1, 12).slice(10), ...sessions('20261103', 13, 15)];
    await p.input({ 'events_20261103.json': daily });
    p.setClock(() => new Date('2026-11-04T12:00:00Z'));
    const third = await p.run({ due: true });
    const replaced = third.dates.find((d) => d.date === TODAY)!;
    expect(replaced).toMatchObject({ status: 'published', provisional: false, source: 'daily', final: false });
    // Every intraday line of the date was left out: none is counted, not even as a duplicate.
    expect(replaced.left_out_lines).toBe(intradayLines.length + sessions('20261103', 11, 12).length);
    expect(replaced.quality).toMatchObject({ lines: daily.length, duplicates: 0, included_events: daily.length });
    expect(await p.json('_SUCCESS', `dt=${TODAY}.json`)).toMatchObject({ provisional: false, source: 'daily' });
    for (const table of TABLES) expect(await p.json(table, `dt=${TODAY}`, 'manifest.json')).toMatchObject({ provisional: false, source: 'daily' });

    // The final files equal a run over the daily data alone.
    const alone = await project({ intraday: false });
    await alone.input({ 'events_20261102.json': sessions('20261102', 1, 6), 'events_20261103.json': daily });
    await alone.run({ dates: ['2026-11-02', TODAY] });
    for (const table of TABLES) expect(await p.csvText(table, TODAY), table).toBe(await alone.csvText(table, TODAY));
    const final = await p.funnel(TODAY);
    expect(final.sessions).toBe('15');

    // The restatement log's before and after are the two published versions' numbers.
    const funnel = third.restatements.find((r) => r.date === TODAY && r.table === 'cart_funnel_daily')!;
    expect(funnel.previous_run_id).toBe(second.run_id);
    const changed = Object.keys(final).filter((c) => final[c] !== provisionalAgain[c]);
    expect(changed).toContain('sessions');
    expect(funnel.changes).toEqual(changed.map((column) => ({ column, before: provisionalAgain[column], after: final[column] })));

    // The warehouse holds each event once, from the daily file.
    expect(await p.query(`SELECT count(*)::INTEGER AS n FROM stg_events WHERE event_date = DATE '${TODAY}'`)).toEqual([{ n: daily.length }]);
    const state = await p.query(`SELECT status, input FROM run_state WHERE date = DATE '${TODAY}'`);
    expect(state).toEqual([{ status: 'provisional', input: 'daily' }]);
  });

  it('a date whose daily data never comes stays provisional: status says so, freshness does not count it as done, and it stays due', async () => {
    const p = await project();
    await p.input({ 'events_20261102.json': sessions('20261102', 1, 4), 'events_intraday_20261103.json': sessions('20261103', 1, 5) });
    await p.run({ due: true });
    // The last day done is the last daily one: the intraday day is not complete (any clock after it).
    const fresh = JSON.parse((await cli(['status', '--config', p.configFile, '--json'])).stdout) as { days: { date: string; status: string; input: string }[]; freshness: { last_complete_day: string } };
    expect(fresh.freshness.last_complete_day).toBe('2026-11-02');
    expect(fresh.days.find((d) => d.date === TODAY)).toMatchObject({ status: 'provisional', input: 'intraday' });

    // A week later, GA4's daily table for 2026-11-03 never came (an outage); the next days did.
    p.setClock(() => new Date('2026-11-10T12:00:00Z'));
    const later: Record<string, Line[]> = {};
    for (const day of ['04', '05', '06', '07', '08', '09']) later[`events_202611${day}.json`] = sessions(`202611${day}`, 1, 4);
    await p.input(later);
    const run = await p.run({ due: true });
    // Still due (provisional), recomputed from its intraday data, and never final.
    const outage = run.dates.find((d) => d.date === TODAY)!;
    expect(outage).toMatchObject({ status: 'published', provisional: true, source: 'intraday', final: false });
    expect(await p.json('_SUCCESS', `dt=${TODAY}.json`)).toMatchObject({ provisional: true, source: 'intraday' });
    expect(run.dates.find((d) => d.date === '2026-11-05')).toMatchObject({ provisional: false, source: 'daily' });
    const text = await cli(['status', '--config', p.configFile]);
    expect(text.stdout).toMatch(new RegExp(`^${TODAY}  provisional .*from intraday data: provisional until its daily data comes`, 'm'));
    expect(text.stdout).not.toMatch(/^2026-11-05 .*intraday/m);

    // Its daily data finally comes, after the lookback window: a run naming no dates takes it (the date was never final).
    await p.input({ 'events_20261103.json': sessions('20261103', 1, 7) });
    const recovered = await p.run();
    expect(recovered.dates.map((d) => [d.date, d.source])).toContainEqual([TODAY, 'daily']);
    expect((await p.funnel(TODAY)).sessions).toBe('7');
    expect(recovered.restatements.find((r) => r.date === TODAY && r.table === 'cart_funnel_daily')?.changes).toContainEqual({ column: 'sessions', before: '5', after: '7' });
  });

  it("today without intraday data yet (early morning) is due, waits, and is not recorded or alerted as deferred", async () => {
    const p = await project({ at: () => new Date('2026-11-03T06:05:00Z') });
    await p.input({ 'events_20261102.json': sessions('20261102', 1, 4) });
    const report = await p.run({ due: true });
    expect(report.missing_dates).toContain(TODAY);
    expect(report.dates.map((d) => d.date)).toEqual(['2026-11-02']);
    // The days before it that have no input are deferred as always; today is not.
    const states = await p.query(`SELECT strftime(date, '%Y-%m-%d') AS date, status FROM run_state ORDER BY date`);
    expect(states).toContainEqual({ date: '2026-11-02', status: 'provisional' });
    expect(states.map((r) => r.date)).not.toContain(TODAY);
    expect(states.filter((r) => r.status === 'deferred').length).toBeGreaterThan(0);
  });

  it('without source.intraday, intraday files are left out and listed; alone, they are refused naming the key', async () => {
    const p = await project({ intraday: false });
    await p.input({ 'events_20261102.json': sessions('20261102', 1, 4), 'events_intraday_20261103.json': sessions('20261103', 1, 5) });
    const report = await p.run();
    expect(report.dates.map((d) => [d.date, d.source])).toEqual([['2026-11-02', 'daily']]);
    expect(report.ignored_files).toEqual([join(p.dir, 'input', 'events_intraday_20261103.json')]);
    expect(report.files.map((f) => f.path)).toEqual([join(p.dir, 'input', 'events_20261102.json')]);

    const only = await project({ intraday: false });
    await only.input({ 'events_intraday_20261103.json': sessions('20261103', 1, 5) });
    const refused = await cli(['run', '--config', only.configFile]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/the only input files are GA4 intraday files .*source\.intraday is off/);
    expect(refused.stderr).toMatch(/set source\.intraday: true/);
  });
});

describeWithZetaSql('intraday data on BigQuery (the local engine) equals DuckDB on the same rows', () => {
  const PROJECT = 'my-store';
  const DATASET = 'analytics_1';
  let dir: string;
  let gcp: LocalGcp;
  let endpoint: string;
  let dates: string[];
  beforeAll(async () => {
    dir = await tempDir();
    dates = (await generateDemoExport({ ...DEMO_DEFAULTS, outDir: join(dir, 'in'), days: 2, sessionsPerDay: 25, dirtyRate: 0.05 })).map((d) => d.date);
    gcp = await LocalGcp.create({ project: PROJECT, dataset: DATASET, storageDir: join(dir, 'gcs') });
    endpoint = await gcp.listen();
  });
  afterAll(async () => {
    await gcp?.stop();
  });

  const config = (kind: 'bigquery' | 'duckdb', { intraday = true, files = 'files/*.json', exportDir = 'exports' } = {}): LoadedConfig =>
    parseConfig(
      `${kind === 'bigquery' ? `source: { type: ga4-export-bigquery, project: ${PROJECT}, dataset: ${DATASET}, intraday: ${intraday} }
warehouse: { type: bigquery, project: ${PROJECT}, location: southamerica-east1, api_endpoint: "${endpoint}" }
export: { type: gcs, bucket: shop-exports, prefix: exports/, location: southamerica-east1, api_endpoint: "${endpoint}" }` : `source: { type: ga4-export-files, path: "${files}", intraday: ${intraday} }
warehouse: { type: duckdb, path: "state-${exportDir}/warehouse.duckdb", memory_limit: "256MB", threads: 2 }
export: { type: local, dir: "${exportDir}" }
landing: { dir: "state-${exportDir}/landing" }`}
privacy: { user_key_secret: "${SECRET}" }
retention: { staged_days: 36500 }
`,
      join(dir, `${kind}.yaml`),
    );
  /** Loads NDJSON lines as an export table, and writes the table's rows out for DuckDB in BigQuery's input order. */
  const table = async (name: string, lines: string[]) => {
    await mkdir(join(dir, 'tables'), { recursive: true });
    await writeFile(join(dir, 'tables', `${name}.json`), `${lines.join('\n')}\n`);
    await gcp.loadExportFiles(join(dir, 'tables', `${name}.json`));
    await mkdir(join(dir, 'files'), { recursive: true });
    await writeFile(join(dir, 'files', `${name}.json`), await gcp.exportTableLines(name));
  };
  const TABLES = ['cart_funnel_daily', 'abandoned_carts', 'cart_items_daily', 'cart_recoveries'];
  const withoutRuns = (report: RunReport) => report.restatements.map(({ previous_run_id: _, ...r }) => r);
  /** The published files with run ids (report.html's revised mark names the runs) written as RUN: each warehouse has its own runs. */
  const published = async (root: string, on: readonly string[]) => new Map([...(await publishedFiles(root, TABLES, on))].map(([path, text]) => [path, text.replace(/\d{8}T\d{6}Z-[0-9a-f]+/g, 'RUN')]));

  it('publishes a date from its intraday table, provisional, then from its daily table alone once it exists, as DuckDB does', async () => {
    const [first, second] = dates as [string, string];
    const lines = async (date: string) => gunzipSync(await readFile(join(dir, 'in', `events_${dayOf(date)}.json.gz`))).toString('utf8').split('\n').filter((l) => l !== '');
    const firstDay = await lines(first);
    const secondDay = await lines(second);
    await table(`events_${dayOf(first)}`, firstDay);
    // The intraday table has the first 60% of the day so far.
    await table(`events_intraday_${dayOf(second)}`, secondDay.slice(0, Math.floor(secondDay.length * 0.6)));

    const onBigQuery = await runPipeline({ loaded: config('bigquery'), dates });
    const onDuckDb = await runPipeline({ loaded: config('duckdb'), dates });
    for (const report of [onBigQuery, onDuckDb]) {
      expect(report.dates.map((d) => [d.date, d.status, d.provisional, d.source])).toEqual([
        [first, 'published', false, 'daily'],
        [second, 'published', true, 'intraday'],
      ]);
    }
    const root = { bigquery: join(dir, 'gcs', 'shop-exports', 'exports'), duckdb: join(dir, 'exports') };
    expect(await published(root.bigquery, dates)).toEqual(await published(root.duckdb, dates));
    expect(JSON.parse(await readFile(join(root.bigquery, '_SUCCESS', `dt=${second}.json`), 'utf8'))).toMatchObject({ provisional: true, source: 'intraday' });
    const provisionalSessions = (parse(await readFile(join(root.bigquery, 'cart_funnel_daily', `dt=${second}`, `cart_funnel_daily_${dayOf(second)}.csv`), 'utf8'), { columns: true }) as Record<string, string>[])[0]!.sessions;

    // The daily table comes: the whole day, with 5 rows that repeat (identical) and the 40% that came late.
    await table(`events_${dayOf(second)}`, [...secondDay, ...secondDay.slice(0, 5)]);
    const dailyBigQuery = await runPipeline({ loaded: config('bigquery'), dates: [second] });
    const dailyDuckDb = await runPipeline({ loaded: config('duckdb'), dates: [second] });
    for (const report of [dailyBigQuery, dailyDuckDb]) {
      const day = report.dates.find((d) => d.date === second)!;
      expect([day.provisional, day.source]).toEqual([false, 'daily']);
      expect(day.quality!.duplicates).toBe(5);
    }
    // DuckDB still has the intraday file in its folder, and leaves its lines out; BigQuery never reads that table.
    expect(dailyDuckDb.dates[0]!.left_out_lines).toBe(onDuckDb.dates.find((d) => d.date === second)!.quality!.lines);
    expect(dailyBigQuery.files.map((f) => f.path)).toEqual([`events_${dayOf(second)}`]);
    expect(await published(root.bigquery, [second])).toEqual(await published(root.duckdb, [second]));
    // …and both equal a run over the daily data alone.
    const alone = await runPipeline({ loaded: config('duckdb', { intraday: false, files: `files/events_{${dayOf(first)},${dayOf(second)}}.json`, exportDir: 'alone' }), dates });
    expect(alone.ignored_files).toEqual([]);
    const aloneFiles = await publishedFiles(join(dir, 'alone'), TABLES, [second]);
    const bigQueryFiles = await publishedFiles(root.bigquery, TABLES, [second]);
    for (const [path, text] of aloneFiles) if (path.endsWith('.csv')) expect(bigQueryFiles.get(path), path).toBe(text);

    // The same restatement on both, from the provisional numbers to the daily ones.
    expect(withoutRuns(dailyBigQuery)).toEqual(withoutRuns(dailyDuckDb));
    const sessions = dailyBigQuery.restatements.find((r) => r.table === 'cart_funnel_daily')!.changes.find((c) => c.column === 'sessions')!;
    expect(sessions.before).toBe(provisionalSessions);
    expect(Number(sessions.after)).toBeGreaterThan(Number(sessions.before));
    expect(JSON.parse(await readFile(join(root.bigquery, '_SUCCESS', `dt=${second}.json`), 'utf8'))).toMatchObject({ provisional: false, source: 'daily' });
  });
});
