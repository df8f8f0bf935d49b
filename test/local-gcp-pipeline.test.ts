// The Google Cloud path computing its numbers: a demo day loaded by the local BigQuery (ZetaSQL's
// reference engine), cartlens run with ga4-export-bigquery + bigquery + gcs pointed at it, and
// the files it publishes (and the run reports' quality figures) compared byte for byte with a
// DuckDB run over the same events, fed in the contract's input order for export tables (Cleaning
// 5; the harness is test/support/two-warehouses.ts, which test/conformance.test.ts runs over
// several days). Then `cartlens dev gcp` and
// `cartlens run` as a person runs them, with deploy/cartlens.gcp.yaml. Skipped loudly where the
// engine cannot run, never on CI.
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { BigQueryWarehouseConfig } from '../src/config/schema.js';
import { bigQuerySnapshotSource } from '../src/dashboard/copy-from-bigquery.js';
import { WarehouseSnapshot } from '../src/dashboard/snapshot.js';
import { DEMO_DEFAULTS } from '../src/config/schema.js';
import { generateDemoExport } from '../src/sources/demo/generator.js';
import { cli } from './support/cli.js';
import { listFiles, SECRET, tempDir } from './support/pipeline.js';
import { qualityFigures, twoWarehouses, type TwoWarehouses } from './support/two-warehouses.js';
import { describeWithZetaSql } from './support/zetasql/guard.js';

const DATE = DEMO_DEFAULTS.startDate;
const DAY = DATE.replaceAll('-', '');
const COMPARED = ['cart_funnel_daily', 'abandoned_carts', 'cart_items_daily', 'remarketing_audience'];

describeWithZetaSql('the Google Cloud path on the local BigQuery', () => {
  let both: TwoWarehouses;

  beforeAll(async () => {
    // A dirty demo day small enough for one request of the engine: every cleaning rule shows up.
    both = await twoWarehouses({ days: 1, sessionsPerDay: 120, dirtyRate: 0.05 });
  });

  afterAll(async () => {
    await both?.stop();
  });

  it('publishes into the storage folder the same bytes as a DuckDB run on the same events', async () => {
    const bigquery = both.bigQueryConfig();
    const onBigQuery = await both.run(bigquery, [DATE]);
    expect(onBigQuery.dates.map((d) => d.status)).toEqual(['published']);
    // The same rows, written out by the local BigQuery in the contract's order, for DuckDB.
    const onDuckDb = await both.run(both.duckDbConfig(), [DATE]);
    expect(onDuckDb.dates.map((d) => d.status)).toEqual(['published']);
    expect(qualityFigures(onBigQuery)).toEqual(qualityFigures(onDuckDb));

    const published = both.bigQueryRoot();
    for (const table of COMPARED) {
      const file = join(table, `dt=${DATE}`, `${table}_${DAY}.csv`);
      const fromBigQuery = await readFile(join(published, file), 'utf8');
      expect(fromBigQuery.split('\n').length, `${table} has rows`).toBeGreaterThan(2);
      expect(fromBigQuery, file).toBe(await readFile(join(both.duckDbRoot(), file), 'utf8'));
      // The manifest too: rows, bytes and SHA-256 of the same bytes.
      const manifest = join(table, `dt=${DATE}`, 'manifest.json');
      expect(await readFile(join(published, manifest), 'utf8'), manifest).toBe(await readFile(join(both.duckDbRoot(), manifest), 'utf8'));
    }
    const report = join('report', `dt=${DATE}`, 'report.html');
    expect(await readFile(join(published, report), 'utf8'), report).toBe(await readFile(join(both.duckDbRoot(), report), 'utf8'));
    // Only what would be published is left: no upload of the exporter's under _incoming/.
    expect((await listFiles(join(both.dir, 'gcs'))).filter((f) => f.includes('_incoming'))).toEqual([]);

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
    const server = spawn(process.execPath, [fileURLToPath(new URL('../bin/cartlens.js', import.meta.url)), 'dev', 'gcp', '--data', 'in/events_*.json*', '--storage-dir', 'gcs', '--ordered-out', 'ordered', '--port', '0'], {
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

      // The rows it wrote out in the contract's order, run on DuckDB: the same published bytes.
      await writeFile(join(dir, 'duckdb.yaml'), `source: { type: ga4-export-files, path: "ordered/*.json" }\nwarehouse: { type: duckdb, path: "duck/warehouse.duckdb" }\nexport: { type: local, dir: "duck/exports" }\nlanding: { dir: "duck/landing" }\nprivacy: { user_key_secret: "${SECRET}" }\n`);
      const onDuckDb = await cli(['run', '--config', 'duckdb.yaml', '--date', DATE], { cwd: dir });
      expect(onDuckDb.code, onDuckDb.stderr).toBe(0);
      for (const table of ['cart_funnel_daily', 'abandoned_carts', 'cart_items_daily']) {
        const path = `${table}/dt=${DATE}/${table}_${DAY}.csv`;
        expect(await readFile(join(dir, 'gcs', 'my-store-cartlens-exports', 'exports', path), 'utf8'), path).toBe(await readFile(join(dir, 'duck', 'exports', path), 'utf8'));
      }
    } finally {
      server.kill('SIGINT');
      expect(await exited).toBe(0);
    }
  });
});
