// The GA4 Data API source on both warehouses: the project's emulator serves two dirty demo days
// (the second revised with metric values as GA4 might send them at their oddest) and an empty
// one; one run loads the pages into DuckDB and publishes to a folder, the other lands them in the
// local Cloud Storage, loads them with load jobs into the local BigQuery (ZetaSQL's reference
// engine computing every row) and publishes to the bucket. Every published file of the source is
// byte-identical, its markers and run reports are the same but for the run and where the files
// are, and the raw report tables hold the same rows. Skipped loudly where the engine cannot run,
// never on CI.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { LocalGcp } from '../src/dev/gcp/local-gcp.js';
import type { RunReport } from '../src/pipeline/report.js';
import { runPipeline } from '../src/pipeline/run.js';
import { DEMO_DEFAULTS } from '../src/config/schema.js';
import { generateDemoExport } from '../src/sources/demo/generator.js';
import { Ga4ApiEmulator } from '../src/sources/ga4-data-api/emulator/ga4-api-emulator.js';
import { DEFAULT_REPORTS, rawReportColumns } from '../src/sources/ga4-data-api/reports.js';
import { BigQueryDialect } from '../src/warehouse/bigquery/bigquery-dialect.js';
import { listFiles, queryWarehouse, tempDir } from './support/pipeline.js';
import { describeWithZetaSql } from './support/zetasql/guard.js';

/** Two demo days, and a day GA4 has no data for (an empty report). */
const DATES = ['2026-11-01', '2026-11-02', '2026-11-03'];
const DEMO_DAYS = 2;
/** Long after the dates: both runs mark them final alike. */
const NOW = () => new Date('2026-11-29T12:00:00Z');
/**
 * Metric values GA4 could send, and some it should not: half-cent and half-unit ties, more
 * decimals than NUMERIC keeps, exponents, signs, spaces, blanks, text, and digits grouped with
 * `_`. None of them is a key, so every date still passes its assertions.
 */
const ODD_METRICS = ['10.005', '-0.005', '2.675', '0.1234567895', '1e3', '1.5E-2', ' 7 ', '2.5', '', '(not set)', 'NaN', '1,5', '1_000', '-3', '+4', '.5'];

describeWithZetaSql('the GA4 Data API source on BigQuery and on DuckDB', () => {
  let dir: string;
  let emulator: Ga4ApiEmulator;
  let gcp: LocalGcp;
  let ga4: string;
  let endpoint: string;

  // Small pages, so that a report lands as several objects and one load job takes them all.
  const source = () => `source: { type: ga4-data-api, property: properties/123456, api_endpoint: "${ga4}", page_size: 40 }`;
  /** The source on the local BigQuery (a project of its own), publishing to a bucket of the local Cloud Storage. */
  const onBigQuery = (project: string, bucket: string) =>
    parseConfig(
      `${source()}
warehouse: { type: bigquery, project: ${project}, location: southamerica-east1, api_endpoint: "${endpoint}" }
export: { type: gcs, bucket: ${bucket}, prefix: exports/, location: southamerica-east1, api_endpoint: "${endpoint}" }`,
      join(dir, `${project}.yaml`),
    );
  const onDuckDb = () =>
    parseConfig(
      `${source()}
warehouse: { type: duckdb, path: state/w.duckdb }
export: { type: local, dir: exports }
landing: { dir: state/landing }`,
      join(dir, 'duckdb.yaml'),
    );
  const published = () => join(dir, 'gcs', 'shop-exports', 'exports');
  const exported = () => join(dir, 'exports');
  const csvOf = (root: string, table: string, date: string) => join(root, table, `dt=${date}`, `${table}_${date.replaceAll('-', '')}.csv`);

  /** Runs the dates on both warehouses, each run published. */
  async function runBoth(dates: string[], now: () => Date): Promise<{ bigQuery: RunReport; duckDb: RunReport }> {
    const bigQuery = await runPipeline({ loaded: onBigQuery('my-store', 'shop-exports'), dates, now });
    expect(bigQuery.dates.map((d) => [d.date, d.status])).toEqual(dates.map((d) => [d, 'published']));
    const duckDb = await runPipeline({ loaded: onDuckDb(), dates, now });
    expect(duckDb.dates.map((d) => [d.date, d.status])).toEqual(dates.map((d) => [d, 'published']));
    return { bigQuery, duckDb };
  }

  /** The source's files of the dates (its tables' CSVs and manifests, its report.html) are the same bytes; its markers and run reports differ only in the run and where the files are. */
  async function expectSameFiles(dates: string[], runs: { bigQuery: RunReport; duckDb: RunReport }): Promise<void> {
    const ofDates = (files: string[]) => files.filter((f) => (f.startsWith('ga4_api_') || f.startsWith('report/ga4_api/')) && dates.some((d) => f.includes(`/dt=${d}/`))).sort();
    const files = ofDates(await listFiles(exported()));
    expect(ofDates(await listFiles(published()))).toEqual(files);
    expect(new Set(files.map((f) => f.split('/')[0]))).toEqual(new Set(['ga4_api_items_daily', 'ga4_api_funnel_daily', 'report']));
    expect(files).toHaveLength(5 * dates.length);
    for (const file of files) expect(await readFile(join(published(), file), 'utf8'), file).toBe(await readFile(join(exported(), file), 'utf8'));
    const comparable = async (root: string, file: string, runId: string, location: string) =>
      (await readFile(join(root, file), 'utf8')).replaceAll(runId, '<run>').replaceAll(`"${location}/`, '"<root>/');
    for (const date of dates) {
      for (const file of [`_SUCCESS/ga4_api/dt=${date}.json`, `run_report/ga4_api/dt=${date}/run_report_${date.replaceAll('-', '')}.json`]) {
        expect(await comparable(published(), file, runs.bigQuery.run_id, 'gs://shop-exports/exports'), file).toBe(await comparable(exported(), file, runs.duckDb.run_id, exported()));
      }
    }
  }

  /** The raw report tables hold the same rows, every column but the run; numbers as decimals (DuckDB prints 9 places, NUMERIC no trailing zeros). */
  async function expectSameRawRows(): Promise<void> {
    for (const report of DEFAULT_REPORTS) {
      const columns = rawReportColumns(report).filter((c) => c.name !== 'run_id');
      const decimal = (text: unknown) => (text === null ? null : String(text).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, ''));
      const rowsOf = (rows: unknown[][]) => rows.map((row) => JSON.stringify(row.map((v, i) => (columns[i]!.kind === 'decimal' ? decimal(v) : v)))).sort();
      const text = columns.map((c) => `CAST(${c.name} AS VARCHAR) AS ${c.name}`).join(', ');
      const onDuck = await queryWarehouse(join(dir, 'state', 'w.duckdb'), `SELECT ${text} FROM raw_ga4_api_${report.name}`);
      const onBig = await gcp.bigquery.runScript(`SELECT ${text.replaceAll('VARCHAR', 'STRING')} FROM \`my-store.cartlens_staging.raw_ga4_api_${report.name}\``, { project: 'my-store', parameters: [] });
      const duckRows = rowsOf(onDuck.map((row) => columns.map((c) => row[c.name] ?? null)));
      expect(duckRows.length).toBeGreaterThan(ODD_METRICS.length);
      expect(rowsOf(onBig.rows.map((row) => row.map((v) => v.stringValue ?? null))), `raw_ga4_api_${report.name}`).toEqual(duckRows);
    }
  }

  beforeAll(async () => {
    dir = await tempDir();
    await generateDemoExport({ ...DEMO_DEFAULTS, outDir: join(dir, 'in'), days: DEMO_DAYS, sessionsPerDay: 150, dirtyRate: 0.05 });
    emulator = await Ga4ApiEmulator.fromExportFiles(join(dir, 'in', 'events_*.json.gz'));
    // Each odd value once in every metric column of the second day's first rows (rows are dimensions, then metrics).
    for (const report of DEFAULT_REPORTS) {
      let row = 0;
      emulator.revise(report.name, DATES[1]!, (values) => {
        const odd = row++;
        if (odd >= ODD_METRICS.length) return values;
        return values.map((value, i) => (i < report.dimensions.length ? value : ODD_METRICS[(odd + i) % ODD_METRICS.length]!));
      });
    }
    gcp = await LocalGcp.create({ project: 'my-store', dataset: 'analytics_1', storageDir: join(dir, 'gcs') });
    [ga4, endpoint] = await Promise.all([emulator.start(), gcp.listen()]);
  });

  afterAll(async () => {
    await Promise.all([emulator?.stop(), gcp?.stop()]);
  });

  it('publishes the same bytes from both warehouses, every table, manifest and report of the source', async () => {
    const runs = await runBoth(DATES, NOW);
    expect((await listFiles(join(dir, 'gcs', 'shop-exports', '_raw'))).filter((f) => f.includes(`/${DATES[0]}/items/`)).length, 'pages of a report').toBeGreaterThan(1);
    for (const date of DATES.slice(0, DEMO_DAYS)) {
      for (const table of ['ga4_api_items_daily', 'ga4_api_funnel_daily']) {
        expect((await readFile(csvOf(published(), table, date), 'utf8')).split('\n').length, `${table} ${date} has rows`).toBeGreaterThan(ODD_METRICS.length);
      }
    }
    // The empty day is published empty, with GA4's reason in its manifest.
    expect((await readFile(csvOf(published(), 'ga4_api_items_daily', DATES[2]!), 'utf8')).trim().split('\n')).toHaveLength(1);
    const emptyManifest = JSON.parse(await readFile(join(published(), 'ga4_api_items_daily', `dt=${DATES[2]}`, 'manifest.json'), 'utf8'));
    expect(emptyManifest).toMatchObject({ rows: 0, quality: { items: { emptyReason: expect.any(String) } } });

    await expectSameFiles(DATES, runs);
    await expectSameRawRows();
  });

  it('replaces a day GA4 revised alike on both, when the lookback window fetches it again', async () => {
    const date = DATES[0]!;
    emulator.revise('items', date, (values) => values.map((value, i) => (i === 2 ? `${value} (revisto)` : value)));
    // The next morning: the date is in the lookback window again, and not final yet.
    const runs = await runBoth([date], () => new Date('2026-11-02T12:00:00Z'));
    expect(await readFile(csvOf(published(), 'ga4_api_items_daily', date), 'utf8')).toContain(' (revisto),');
    await expectSameFiles([date], runs);
    // Each raw table holds the rows of the latest run only, alike.
    await expectSameRawRows();
  });

  it('tells them apart when one expression of one BigQuery model changes (the negative control)', async () => {
    const date = DATES[1]!;
    const table = 'ga4_api_items_daily';
    const duckDbCsv = await readFile(csvOf(exported(), table, date), 'utf8');
    expect(duckDbCsv.split('\n').length, 'the DuckDB run of the first test').toBeGreaterThan(3);
    // Money rounded to 1 place instead of 2, on BigQuery only: item_revenue of ga4_api_items_daily.
    const money = BigQueryDialect.prototype.money;
    const changed = vi.spyOn(BigQueryDialect.prototype, 'money').mockImplementation(function (this: BigQueryDialect, expression: string) {
      return `ROUND(${money.call(this, expression)}, 1)`;
    });
    try {
      const run = await runPipeline({ loaded: onBigQuery('changed-store', 'changed-exports'), dates: [date], now: NOW });
      expect(run.dates.map((d) => d.status)).toEqual(['published']);
    } finally {
      changed.mockRestore();
    }
    const changedCsv = await readFile(csvOf(join(dir, 'gcs', 'changed-exports', 'exports'), table, date), 'utf8');
    expect(changedCsv).not.toBe(duckDbCsv);
    // Only the changed column differs.
    const without = (csv: string) => (parse(csv, { columns: true }) as Record<string, string>[]).map(({ item_revenue: _, ...rest }) => rest);
    expect(without(changedCsv)).toEqual(without(duckDbCsv));
  });
});
