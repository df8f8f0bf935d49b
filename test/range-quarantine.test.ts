// The contract's range rules (Cleaning 2, Changes 2026-12-06): no single event stops a run, and no
// impossible date is published. An event_date before 2000 or after the day after the run's UTC
// date, a quantity above 1,000,000 and money of magnitude 10^9 or more are quarantined with their
// reasons; the rest of the day publishes. On DuckDB through the real pipeline, on a fixed clock.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ZetaSQLClient } from '@fivetrandevelopers/zetasql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { runPipeline } from '../src/pipeline/run.js';
import { InputError } from '../src/util/errors.js';
import { readExportSql, stageExportSql } from '../src/warehouse/bigquery/staging-sql.js';
import { MAX_LINE_BYTES } from '../src/warehouse/duckdb/ingest.js';
import { latestEventDate } from '../src/warehouse/warehouse.js';
import { ev, item, listFiles, resultFor, tempDir, writeConfig, writeInput, type Line, type RunResult } from './support/pipeline.js';
import { ZetaSqlAnalyzer } from './support/zetasql/analyzer.js';
import { describeWithZetaSql } from './support/zetasql/guard.js';

const D = '2026-11-01';
/** The run's clock: 01:00 UTC on 3 November, still 2 November in São Paulo (the property's zone). */
const NOW = new Date(Date.UTC(2026, 10, 3, 1, 0, 0));

/** Runs the pipeline in-process on the input files, with the run's clock at `now`. */
async function runAt(files: Record<string, Line[]>, options: { now?: Date; dates?: string[] } = {}): Promise<RunResult> {
  const dir = await tempDir();
  await writeInput(dir, files);
  const configFile = await writeConfig(dir);
  const loaded = parseConfig(await readFile(configFile, 'utf8'), configFile);
  const now = options.now ?? NOW;
  const report = await runPipeline({ loaded, now: () => now, ...(options.dates ? { dates: options.dates } : {}) });
  return resultFor(dir, report);
}

/** The quarantined lines of a run, in line order. */
const quarantined = (run: RunResult) => run.query(`SELECT line_no::INTEGER AS line, reason, event_date FROM quarantined_events ORDER BY line_no::INTEGER`);

/** The date folders published for a table. */
async function publishedDates(run: RunResult, table: string): Promise<string[]> {
  const files = await listFiles(join(run.dir, 'exports', table));
  return [...new Set(files.map((f) => f.split('/')[0]!))].sort();
}

describe('money of magnitude 10^9 or more: value_out_of_range', () => {
  it('quarantines the line with a price of 9e28 and publishes the rest of the day', async () => {
    const run = await runAt({
      'a.json': [
        ev('add_to_cart', { items: [item('A', { price: 20 })] }),
        ev('add_to_cart', { session: 2, items: [item('B', { price: 9e28 })] }),
        ev('add_to_cart', { session: 3, at: 1, items: [item('C', { price: 10, item_revenue: -1e9 })] }),
        ev('add_to_cart', { session: 4, at: 2, items: [item('D', { price: 1e30 })] }),
        // Just under the bound: a real (if large) cart.
        ev('add_to_cart', { session: 5, at: 3, items: [item('E', { price: 999_999_999.99 })] }),
      ],
    });
    expect(run.report.dates.map((d) => [d.date, d.status])).toEqual([[D, 'published']]);
    expect(await quarantined(run)).toEqual([2, 3, 4].map((line) => ({ line, reason: 'value_out_of_range', event_date: D })));
    expect(run.report.dates[0]!.quality.quarantined_by_reason).toEqual({ value_out_of_range: 3 });
    const carts = await run.csv('abandoned_carts', D);
    expect(carts.map((c) => c.cart_value)).toEqual(['999999999.99', '20.00']);
  });

  it('applies to purchase_revenue, as a number or a string of a plain decimal number; other strings count as 0', async () => {
    const buy = (session: number, purchase_revenue: unknown) => ev('purchase', { session, at: session, ecommerce: { transaction_id: `T${session}`, purchase_revenue } });
    const run = await runAt({
      'a.json': [buy(1, 2e9), buy(2, '2000000000.0'), buy(3, '-1000000000'), buy(4, '2e9'), buy(5, 'abc'), buy(6, '31.5'), buy(7, 12.25)],
    });
    expect(await quarantined(run)).toEqual([1, 2, 3].map((line) => ({ line, reason: 'value_out_of_range', event_date: D })));
    // "2e9" is not a plain decimal number and "abc" no number: both count as 0, not quarantined.
    expect((await run.csv('cart_funnel_daily', D))[0]).toMatchObject({ purchases: '4', revenue: '43.75' });
  });
});

describe('a quantity above 1,000,000: quantity_out_of_range', () => {
  it('quarantines 1,000,001 and keeps 1,000,000', async () => {
    const run = await runAt({
      'a.json': [
        ev('add_to_cart', { items: [item('A', { quantity: 1_000_000, price: 1 })] }),
        ev('add_to_cart', { session: 2, items: [item('B', { quantity: 1_000_001 })] }),
        ev('add_to_cart', { session: 3, items: [item('C', { quantity: '5000000' })] }),
      ],
    });
    expect(await quarantined(run)).toEqual([2, 3].map((line) => ({ line, reason: 'quantity_out_of_range', event_date: D })));
    expect((await run.csv('cart_items_daily', D)).map((r) => [r.item_id, r.add_to_cart_units])).toEqual([['A', '1000000']]);
  });
});

describe('an event_date before 2000-01-01 or after the day after the run: date_out_of_range', () => {
  it('quarantines 19700101, 19991231 and 99991231 with timestamps that agree, as undated lines, and publishes no such date', async () => {
    const run = await runAt({ 'a.json': [ev('page_view'), ev('page_view', { date: '19700101' }), ev('page_view', { date: '19991231' }), ev('page_view', { date: '99991231' })] });
    expect(await quarantined(run)).toEqual([2, 3, 4].map((line) => ({ line, reason: 'date_out_of_range', event_date: null })));
    expect(run.report.undated.quarantined_by_reason).toEqual({ date_out_of_range: 3 });
    expect(run.report.dates.map((d) => [d.date, d.status])).toEqual([[D, 'published']]);
    for (const table of ['cart_funnel_daily', 'abandoned_carts', 'cart_items_daily']) expect(await publishedDates(run, table)).toEqual([`dt=${D}`]);
    expect(existsSync(join(run.dir, 'exports', '_SUCCESS', 'dt=1970-01-01.json'))).toBe(false);
  });

  it("accepts the day after the run's UTC date and quarantines the day after that", async () => {
    // NOW is 3 November in UTC: 4 November is accepted (a property east of UTC is there already)
    // even though it is still 2 November at the property; 5 November cannot have happened yet.
    const run = await runAt({ 'a.json': [ev('page_view'), ev('page_view', { date: '20261104' }), ev('page_view', { date: '20261105' })] });
    expect(await quarantined(run)).toEqual([{ line: 3, reason: 'date_out_of_range', event_date: null }]);
    expect(run.report.dates.map((d) => [d.date, d.quality.included_events])).toEqual([[D, 1], ['2026-11-04', 1]]);
    expect(run.report.undated.quarantined_by_reason).toEqual({ date_out_of_range: 1 });
  });

  it('never makes a run for --date refuse, and keeps and counts the line', async () => {
    const run = await runAt({ 'a.json': [ev('page_view'), ev('page_view', { date: '99991231' }), ev('page_view', { date: '20261105' })] }, { dates: [D] });
    expect(run.report.dates.map((d) => [d.date, d.status])).toEqual([[D, 'published']]);
    expect(run.report.undated.quarantined_by_reason).toEqual({ date_out_of_range: 2 });
    expect((await run.query(`SELECT raw_line FROM quarantined_events ORDER BY line_no`)).map((r) => JSON.parse(String(r.raw_line)).event_date)).toEqual(['99991231', '20261105']);
  });

  it('leaves a line quarantined for another reason undated when its date is out of range', async () => {
    const run = await runAt({ 'a.json': [ev('page_view'), ev('page_view', { date: '20261105', user_pseudo_id: '' }), ev('page_view', { date: '19700101', items: 'oops' })] });
    expect(await quarantined(run)).toEqual([
      { line: 2, reason: 'missing_user_pseudo_id', event_date: null },
      { line: 3, reason: 'date_out_of_range', event_date: null },
    ]);
    expect(run.report.dates.map((d) => d.date)).toEqual([D]);
  });
});

describe('precedence: the first rule broken, in the contract’s order', () => {
  it('puts date_out_of_range after event_date_mismatch and the item rules in the order the contract lists them', async () => {
    const run = await runAt({
      'a.json': [
        ev('page_view'),
        // 99991231 with a 2026 timestamp: the timestamp contradicts it first.
        ev('page_view', { date: '20261101', event_date: '99991231' }),
        ev('add_to_cart', { date: '19700101', items: [item('A', { quantity: 0 })] }),
        ev('add_to_cart', { items: [item('A', { quantity: 2_000_000 }), item('B', { quantity: 0 })] }),
        ev('add_to_cart', { items: [item('A', { quantity: 2_000_000, price: 'x' })] }),
        ev('add_to_cart', { items: [item('A', { price: 9e28 }), item('B', { price: '10' })] }),
        ev('purchase', { items: [item('A', { item_revenue: 'free' })], ecommerce: { transaction_id: 'T', purchase_revenue: 5e9 } }),
        ev('purchase', { items: [item('A', { price: 10 })], ecommerce: { transaction_id: 'T', purchase_revenue: 5e9 } }),
      ],
    });
    expect((await quarantined(run)).map((r) => r.reason)).toEqual([
      'event_date_mismatch', 'date_out_of_range', 'invalid_item_quantity', 'quantity_out_of_range', 'invalid_item_price', 'invalid_item_revenue', 'value_out_of_range',
    ]);
  });
});

describe('a line longer than MAX_LINE_BYTES', () => {
  /** A valid event line of exactly `bytes` bytes. */
  const lineOf = (bytes: number) => {
    const line = JSON.stringify(ev('page_view', { at: 9, padding: '' }));
    return line.replace('"padding":""', `"padding":"${'x'.repeat(bytes - line.length)}"`);
  };
  // Up to twice the limit, DuckDB's parallel line reader names the line itself; beyond its buffer
  // it skipped the line without a word, or failed with a message naming no line.
  const other = JSON.stringify(ev('page_view', { at: 2 }));
  it.each([
    ['just over the limit, after a line', MAX_LINE_BYTES + 1, 'after'],
    ["over the line reader's buffer, after a line", 2 * MAX_LINE_BYTES + 1, 'after'],
    ["over the line reader's buffer, alone in its file", 2 * MAX_LINE_BYTES + 1, 'alone'],
    ['far over it, before a line', 3 * MAX_LINE_BYTES, 'before'],
  ] as const)('fails the run with the documented one-line message naming the file and line: %s', async (_case, bytes, place) => {
    const long = lineOf(bytes);
    expect(Buffer.byteLength(long)).toBe(bytes);
    const dir = await tempDir();
    await writeInput(dir, { 'a.json': [ev('page_view'), ev('page_view', { at: 1 })] });
    const lines = { after: [other, long], alone: [long], before: [long, other] }[place];
    const lineNo = lines.indexOf(long) + 1;
    await writeFile(join(dir, 'input', 'b.json'), `${lines.join('\n')}\n`);
    const configFile = await writeConfig(dir);
    const loaded = parseConfig(await readFile(configFile, 'utf8'), configFile);
    const error = await runPipeline({ loaded, now: () => NOW }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toBe(`${join(dir, 'input', 'b.json')}:${lineNo}: a line is longer than ${MAX_LINE_BYTES} bytes`);
  });
});

describe('latestEventDate', () => {
  it("is the day after the run's UTC date, across a month's and a year's end", () => {
    expect(latestEventDate(NOW)).toBe('2026-11-04');
    expect(latestEventDate(new Date(Date.UTC(2026, 11, 31, 23, 59, 59)))).toBe('2027-01-01');
    expect(latestEventDate(new Date(Date.UTC(2028, 1, 28, 0, 0, 0)))).toBe('2028-02-29');
  });
});

// BigQuery's staging SQL, evaluated by ZetaSQL's reference engine (the analyzer's local_service):
// read-export.sql and stage-export.sql as sent, over rows given in place of the export's table.
describeWithZetaSql('the same rules in BigQuery\'s staging SQL (ZetaSQL evaluates it)', () => {
  let analyzer: ZetaSqlAnalyzer;
  beforeAll(async () => {
    analyzer = await ZetaSqlAnalyzer.start();
  });
  afterAll(async () => {
    await analyzer?.stop();
  });

  /** Microseconds since the epoch of 03:00 UTC on a date (calendar arithmetic). */
  const micros = (year: number, month: number, day: number) => BigInt(Date.UTC(year, month - 1, day, 3)) * 1000n;
  interface ExportRow { date: string; timestamp: bigint; price?: string; quantity?: number; itemRevenue?: string; revenue?: string }
  const float = (value: string | undefined) => (value === undefined ? 'CAST(NULL AS FLOAT64)' : `CAST('${value}' AS FLOAT64)`);
  // The fields of GA4's export that read-export.sql reads, typed as in the export.
  const EXPORT_ROW = `STRUCT<_TABLE_SUFFIX STRING, event_date STRING, event_timestamp INT64, event_name STRING, user_pseudo_id STRING,
    event_params ARRAY<STRUCT<key STRING, value STRUCT<string_value STRING, int_value INT64>>>, device STRUCT<category STRING>,
    geo STRUCT<country STRING>, traffic_source STRUCT<source STRING, medium STRING>, ecommerce STRUCT<transaction_id STRING, purchase_revenue FLOAT64>,
    privacy_info STRUCT<ads_storage STRING>,
    items ARRAY<STRUCT<item_id STRING, item_name STRING, item_category STRING, price FLOAT64, quantity INT64, item_revenue FLOAT64>>>`;
  const rowSql = (row: ExportRow, n: number) =>
    `('0261101', '${row.date}', ${row.timestamp}, 'purchase', 'u${n}', [STRUCT('ga_session_id', STRUCT(CAST(NULL AS STRING), ${n}))], STRUCT('mobile'), STRUCT('Brazil'),
      STRUCT('google', 'organic'), STRUCT('T${n}', ${float(row.revenue)}), STRUCT('Yes'), [STRUCT('A', 'Item A', 'Cat', ${float(row.price)}, ${row.quantity ?? 1}, ${float(row.itemRevenue)})])`;

  /** Each row's reason and date, as `_run_settled` gets them from events_20261101, in the order given. */
  async function settle(rows: ExportRow[], latest?: string): Promise<[string | null, string | null][]> {
    const table = '`my-project.analytics_123.events_2*` AS e';
    const read = readExportSql('my-project.analytics_123', { daily: ['20261101'], intraday: [] });
    expect(read).toContain(table);
    const [createRaw, settled] = stageExportSql(read, latest).split(/;\s*\n(?=(?:--[^\n]*\n)*CREATE TEMP TABLE _run_settled AS)/);
    expect(createRaw).toContain('CREATE TEMP TABLE _run_raw AS');
    const inPlace = read.replace(table, () => `UNNEST(ARRAY<${EXPORT_ROW}>[${rows.map(rowSql).join(',\n')}]) AS e`);
    const select = settled!.replace(/^[\s\S]*?CREATE TEMP TABLE _run_settled AS\s*WITH /, () => `WITH _run_raw AS (${inPlace}),\n`).replace(/;\s*$/, '');
    const api = (ZetaSQLClient as unknown as { API: { evaluateQuery(request: unknown, done: (error: Error | null, response: EvaluateResponse) => void): void } }).API;
    const response = await new Promise<EvaluateResponse>((resolve, reject) =>
      api.evaluateQuery(
        { sql: `SELECT user_pseudo_id, reason, event_date FROM (${select})`, simpleCatalog: analyzer.catalog.proto(), options: { languageOptions: analyzer.catalog.languageOptions, defaultTimezone: 'UTC' } },
        (error, result) => (error ? reject(error) : resolve(result)),
      ),
    );
    const byUser = new Map(
      response.content.tableData.row.map(({ cell: [user, reason, date] }) => [
        user!.stringValue,
        [reason?.value === 'stringValue' ? reason.stringValue! : null, date?.value === 'dateValue' ? new Date(date.dateValue! * 86_400_000).toISOString().slice(0, 10) : null] as [string | null, string | null],
      ]),
    );
    return rows.map((_row, n) => byUser.get(`u${n}`)!);
  }
  interface EvaluateResponse { content: { tableData: { row: { cell: { value?: string; stringValue?: string; dateValue?: number }[] }[] } } }

  it('quarantines money of magnitude 10^9 or more, a quantity above 1,000,000 and a date out of range, and keeps the rest', async () => {
    const day = micros(2026, 11, 1);
    const rows: ExportRow[] = [
      { date: '20261101', timestamp: day, price: '10', revenue: '10' },
      { date: '20261101', timestamp: day + 1n, price: '9e28' },
      { date: '20261101', timestamp: day + 2n, price: '10', revenue: '2e9' },
      { date: '20261101', timestamp: day + 3n, price: '10', itemRevenue: '-1e9' },
      { date: '20261101', timestamp: day + 4n, price: '999999999.99', revenue: 'NaN' },
      { date: '20261101', timestamp: day + 5n, quantity: 1_000_001 },
      { date: '20261101', timestamp: day + 6n, quantity: 1_000_000 },
      { date: '19700101', timestamp: micros(1970, 1, 1) },
      { date: '20261104', timestamp: micros(2026, 11, 4) },
      { date: '20261105', timestamp: micros(2026, 11, 5) },
      // The rules before them still come first.
      { date: '99991231', timestamp: day + 7n },
      { date: '20261101', timestamp: day + 8n, price: 'inf' },
      { date: '20261101', timestamp: day + 9n, price: '9e28', quantity: 0 },
    ];
    expect(await settle(rows, '2026-11-04')).toEqual([
      [null, '2026-11-01'],
      ['value_out_of_range', '2026-11-01'],
      ['value_out_of_range', '2026-11-01'],
      ['value_out_of_range', '2026-11-01'],
      [null, '2026-11-01'],
      ['quantity_out_of_range', '2026-11-01'],
      [null, '2026-11-01'],
      // A quarantined row whose own date is not trusted belongs to no date, as a line on DuckDB.
      ['date_out_of_range', null],
      [null, '2026-11-04'],
      ['date_out_of_range', null],
      ['event_date_mismatch', null],
      ['invalid_item_price', '2026-11-01'],
      ['invalid_item_quantity', '2026-11-01'],
    ]);
  });

  it("bounds dates by the day after the statement's own UTC date when no run date is given (Dataform)", async () => {
    const rows: ExportRow[] = [
      { date: '20261101', timestamp: micros(2026, 11, 1) },
      { date: '99991231', timestamp: micros(9999, 12, 31) },
    ];
    expect(await settle(rows)).toEqual([[null, '2026-11-01'], ['date_out_of_range', null]]);
  });
});
