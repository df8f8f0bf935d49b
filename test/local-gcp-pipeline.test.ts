// The Google Cloud path computing its numbers: a demo day loaded by the local BigQuery (ZetaSQL's
// reference engine), cartlens run with ga4-export-bigquery + bigquery + gcs pointed at it, and
// the files it publishes compared byte for byte with a DuckDB run over the same events, fed in
// the contract's input order for export tables (Cleaning 5). Then `cartlens dev gcp` and
// `cartlens run` as a person runs them, with deploy/cartlens.gcp.yaml. Skipped loudly where the
// engine cannot run, never on CI.
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import type { BigQueryWarehouseConfig } from '../src/config/schema.js';
import { bigQuerySnapshotSource } from '../src/dashboard/copy-from-bigquery.js';
import { WarehouseSnapshot } from '../src/dashboard/snapshot.js';
import { LocalGcp } from '../src/dev/gcp/local-gcp.js';
import { runPipeline } from '../src/pipeline/run.js';
import { DEMO_DEFAULTS, generateDemoExport } from '../src/sources/demo/generator.js';
import { cli } from './support/cli.js';
import { listFiles, SECRET, tempDir } from './support/pipeline.js';
import { describeWithZetaSql } from './support/zetasql/guard.js';

const DATE = DEMO_DEFAULTS.startDate;
const DAY = DATE.replaceAll('-', '');
const COMPARED = ['cart_funnel_daily', 'abandoned_carts', 'cart_items_daily', 'remarketing_audience'];

describeWithZetaSql('the Google Cloud path on the local BigQuery', () => {
  let dir: string;
  let gcp: LocalGcp;

  beforeAll(async () => {
    dir = await tempDir();
    // A dirty demo day small enough for one request of the engine: every cleaning rule shows up.
    await generateDemoExport({ ...DEMO_DEFAULTS, outDir: join(dir, 'in'), days: 1, sessionsPerDay: 120, dirtyRate: 0.05 });
    gcp = await LocalGcp.create({ project: 'my-store', dataset: 'analytics_1', storageDir: join(dir, 'gcs') });
    await gcp.loadExportFiles(join(dir, 'in', 'events_*.json.gz'));
  });

  afterAll(async () => {
    await gcp?.stop();
  });

  it('publishes into the storage folder the same bytes as a DuckDB run on the same events', async () => {
    const endpoint = await gcp.listen();
    const bigquery = parseConfig(
      `source: { type: ga4-export-bigquery, project: my-store, dataset: analytics_1 }
warehouse: { type: bigquery, project: my-store, location: southamerica-east1, api_endpoint: "${endpoint}" }
export: { type: gcs, bucket: shop-exports, prefix: exports/, location: southamerica-east1, api_endpoint: "${endpoint}", remarketing_audience: true }
privacy: { user_key_secret: "${SECRET}" }`,
      join(dir, 'gcp.yaml'),
    );
    const onBigQuery = await runPipeline({ loaded: bigquery, dates: [DATE] });
    expect(onBigQuery.dates.map((d) => d.status)).toEqual(['published']);

    // The same rows, written out by the local BigQuery in the contract's order, for DuckDB.
    await mkdir(join(dir, 'files'));
    await writeFile(join(dir, 'files', `events_${DAY}.json`), await gcp.exportTableLines(`events_${DAY}`));
    const duckdb = parseConfig(
      `source: { type: ga4-export-files, path: "files/*.json" }
warehouse: { type: duckdb, path: "state/warehouse.duckdb", memory_limit: "256MB", threads: 2 }
export: { type: local, dir: "exports", remarketing_audience: true }
landing: { dir: "state/landing" }
privacy: { user_key_secret: "${SECRET}" }`,
      join(dir, 'duckdb.yaml'),
    );
    const onDuckDb = await runPipeline({ loaded: duckdb, dates: [DATE] });
    expect(onDuckDb.dates.map((d) => d.status)).toEqual(['published']);

    const published = join(dir, 'gcs', 'shop-exports', 'exports');
    for (const table of COMPARED) {
      const file = join(table, `dt=${DATE}`, `${table}_${DAY}.csv`);
      const fromBigQuery = await readFile(join(published, file), 'utf8');
      expect(fromBigQuery.split('\n').length, `${table} has rows`).toBeGreaterThan(2);
      expect(fromBigQuery, file).toBe(await readFile(join(dir, 'exports', file), 'utf8'));
      // The manifest too: rows, bytes and SHA-256 of the same bytes.
      const manifest = join(table, `dt=${DATE}`, 'manifest.json');
      expect(await readFile(join(published, manifest), 'utf8'), manifest).toBe(await readFile(join(dir, 'exports', manifest), 'utf8'));
    }
    const report = join('report', `dt=${DATE}`, 'report.html');
    expect(await readFile(join(published, report), 'utf8'), report).toBe(await readFile(join(dir, 'exports', report), 'utf8'));
    // Only what would be published is left: no upload of the exporter's under _incoming/.
    expect((await listFiles(join(dir, 'gcs'))).filter((f) => f.includes('_incoming'))).toEqual([]);

    // The dashboard's copy (as of one moment: FOR SYSTEM_TIME AS OF) shows the published day.
    const snapshot = await WarehouseSnapshot.create(bigQuerySnapshotSource(bigquery.config.warehouse as BigQueryWarehouseConfig), 'bigquery');
    try {
      await snapshot.refresh();
      const copied = await snapshot.read((query) => query(`SELECT CAST(date AS VARCHAR) AS date, sessions, CAST(revenue AS VARCHAR) AS revenue FROM cart_funnel_daily`));
      const [header, line] = (await readFile(join(published, 'cart_funnel_daily', `dt=${DATE}`, `cart_funnel_daily_${DAY}.csv`), 'utf8')).split('\n');
      const csv = Object.fromEntries(header!.split(',').map((column, i) => [column, line!.split(',')[i]]));
      expect(copied).toEqual([{ date: DATE, sessions: csv.sessions, revenue: csv.revenue }]);
    } finally {
      await snapshot.close();
    }
  });
});

describeWithZetaSql('cartlens dev gcp, as a person runs it', () => {
  it('loads the export files, says what it skipped and why, and serves deploy/cartlens.gcp.yaml with only its api_endpoints changed', async () => {
    const dir = await tempDir();
    await generateDemoExport({ ...DEMO_DEFAULTS, outDir: join(dir, 'in'), days: 1, sessionsPerDay: 20, dirtyRate: 0 });
    // One line no BigQuery table can hold, besides the demo's.
    await writeFile(join(dir, 'in', 'events_20261102.json'), `${JSON.stringify({ event_date: '20261102', event_timestamp: 'soon', event_name: 'page_view' })}\nnot json\n`);
    const server = spawn(process.execPath, [fileURLToPath(new URL('../bin/cartlens.js', import.meta.url)), 'dev', 'gcp', '--data', 'in/events_*.json*', '--storage-dir', 'gcs', '--port', '0'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
    try {
      let output = '';
      const endpoint = await new Promise<string>((resolve, reject) => {
        server.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const found = /Local Google Cloud on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
          if (found) resolve(found[1]!);
        });
        server.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        void exited.then((code) => reject(new Error(`dev gcp exited (${code}):\n${output}`)));
      });
      expect(output).toMatch(/events_20261101 ← in\/events_20261101\.json\.gz: \d+ rows\n/);
      expect(output).toContain('events_20261102 ← in/events_20261102.json: 0 rows; 2 lines skipped, no BigQuery table can hold them: 1 event_timestamp is not an INT64 (line 1); 1 invalid JSON (line 2)');
      expect(output).toMatch(/A run stages all its days in one statement of at most 4 MiB .*: about [\d,]+ rows like these/);

      const config = (await readFile(fileURLToPath(new URL('../deploy/cartlens.gcp.yaml', import.meta.url)), 'utf8'))
        .replace(/^( {2}type: bigquery\n)/m, `$1  api_endpoint: "${endpoint}"\n`)
        .replace(/^( {2}type: gcs\n)/m, `$1  api_endpoint: "${endpoint}"\n`);
      expect(config.match(/api_endpoint/g)).toHaveLength(2);
      await writeFile(join(dir, 'cartlens.gcp.yaml'), config);
      const run = await cli(['run', '--config', 'cartlens.gcp.yaml', '--date', DATE], { cwd: dir, env: { CARTLENS_USER_KEY_SECRET: SECRET } });
      expect(run.code, run.stderr).toBe(0);
      const files = await listFiles(join(dir, 'gcs', 'my-store-cartlens-exports'));
      expect(files).toEqual(expect.arrayContaining([`exports/cart_funnel_daily/dt=${DATE}/cart_funnel_daily_${DAY}.csv`, `exports/cart_funnel_daily/dt=${DATE}/manifest.json`]));
    } finally {
      server.kill('SIGINT');
      expect(await exited).toBe(0);
    }
  });
});
