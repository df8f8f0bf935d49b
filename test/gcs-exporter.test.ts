// The GCS exporter with the real @google-cloud/storage client, pointed at a local fake of the
// JSON API: the retry scenarios of the client's conformance suite, a connection reset mid-upload,
// a CRC32C mismatch and 412s settled by content. After each, a final name holds a whole object or
// nothing.
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { csvContent } from '../src/exports/csv.js';
import { GcsExporter } from '../src/exports/gcs/gcs-exporter.js';
import { openBucket } from '../src/exports/gcs/storage-client.js';
import { PUBLISHED_TABLES } from '../src/contract/tables.js';
import { CartlensError, PublishError } from '../src/util/errors.js';
import { FakeGcs } from './support/fake-gcs.js';
import { ev, item, tempDir, writeInput } from './support/pipeline.js';
import { parseConfig } from '../src/config/load.js';
import { runPipeline } from '../src/pipeline/run.js';

const FUNNEL = PUBLISHED_TABLES[0]!;
const DATE = '2026-11-01';
const FINAL = 'exports/cart_funnel_daily/dt=2026-11-01/cart_funnel_daily_20261101.csv';
const MANIFEST = 'exports/cart_funnel_daily/dt=2026-11-01/manifest.json';
const ROW = ['2026-11-01', '10', '8', '4', '2', '1', '3', '0.7500', '1', '12.50', '99.90'];
const CSV_TEXT = `${FUNNEL.columns.map((c) => c.name).join(',')}\n${ROW.join(',')}\n`;
const UPLOAD = /^\/upload\//;
const REWRITE = /rewriteTo/;

let gcs: FakeGcs;
let endpoint: string;
let exporter: GcsExporter;

async function* rows() {
  yield [ROW];
}

const publish = () => exporter.publish(FUNNEL.name, DATE, csvContent(FUNNEL, rows()));
const finals = () => [...gcs.objects.keys()].filter((name) => !name.includes('_incoming/')).sort();

beforeEach(async () => {
  gcs = new FakeGcs();
  endpoint = await gcs.start();
  exporter = new GcsExporter(openBucket({ bucket: 'test-bucket', apiEndpoint: endpoint, maxRetries: 3, maxRetryDelaySeconds: 1 }), 'exports/');
});

afterEach(() => gcs.stop());

describe('GCS exporter', () => {
  it('publishes the file and then its manifest at their final names, leaving no upload behind', async () => {
    const published = await publish();
    expect(finals()).toEqual([FINAL, MANIFEST]);
    expect(gcs.text(FINAL)).toBe(`${FUNNEL.columns.map((c) => c.name).join(',')}\n${ROW.join(',')}\n`);
    expect(JSON.parse(gcs.text(MANIFEST)!)).toMatchObject({ rows: 1, sha256: published.sha256, file: 'cart_funnel_daily_20261101.csv' });
    expect(gcs.objects.size).toBe(2);
    expect(published.location).toBe(`gs://test-bucket/${FINAL}`);
    // Every upload and copy carried a precondition.
    expect(gcs.requests.filter((r) => r.method === 'POST').every((r) => r.query.has('ifGenerationMatch'))).toBe(true);
  });

  it('replaces an existing file under a generation precondition', async () => {
    await publish();
    const before = gcs.objects.get(FINAL)!.generation;
    await publish();
    const copies = gcs.requests.filter((r) => REWRITE.test(r.path) && r.path.endsWith('.csv'));
    expect(copies.map((r) => r.query.get('ifGenerationMatch'))).toEqual(['0', String(before)]);
    expect(finals()).toEqual([FINAL, MANIFEST]);
  });

  it('503 twice then success: retried, published once', async () => {
    gcs.inject({ method: 'POST', path: UPLOAD }, { kind: 'status', status: 503 }, 2);
    await publish();
    expect(gcs.count('POST', UPLOAD)).toBe(2 + 2); // the csv's 3 attempts, the manifest's 1
    expect(finals()).toEqual([FINAL, MANIFEST]);
  });

  it('precondition present: the copy is retried after a 503', async () => {
    gcs.inject({ method: 'POST', path: REWRITE }, { kind: 'status', status: 503 }, 1);
    await publish();
    expect(gcs.count('POST', REWRITE)).toBe(2 + 1);
    expect(finals()).toEqual([FINAL, MANIFEST]);
  });

  it('precondition absent: the delete of an upload is not retried, and the publish still succeeds', async () => {
    gcs.inject({ method: 'DELETE', path: /_incoming/ }, { kind: 'status', status: 503 }, 1);
    await publish();
    expect(gcs.count('DELETE', /_incoming\//)).toBe(2); // one failed (not retried) + the manifest's upload
    expect(finals()).toEqual([FINAL, MANIFEST]);
  });

  for (const status of [400, 401]) {
    it(`${status} is never retried, and nothing reaches a final name`, async () => {
      gcs.inject({ method: 'POST', path: UPLOAD }, { kind: 'status', status }, 5);
      const error = await publish().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CartlensError);
      expect((error as CartlensError).transient).toBe(false);
      expect(gcs.count('POST', UPLOAD)).toBe(1);
      expect(finals()).toEqual([]);
    });
  }

  it('503 then 400: fails at the 400, nothing at a final name', async () => {
    gcs.inject({ method: 'POST', path: UPLOAD }, { kind: 'status', status: 503 }, 1);
    gcs.inject({ method: 'POST', path: UPLOAD }, { kind: 'status', status: 400 }, 1);
    await expect(publish()).rejects.toThrow(/\(400\)/);
    expect(gcs.count('POST', UPLOAD)).toBe(2);
    expect(finals()).toEqual([]);
  });

  it('a connection reset mid-upload is retried; the final object is whole', async () => {
    gcs.inject({ method: 'POST', path: UPLOAD }, { kind: 'reset' }, 1);
    await publish();
    expect(gcs.text(FINAL)).toContain(ROW.join(','));
    expect(finals()).toEqual([FINAL, MANIFEST]);
  });

  it('resets on every attempt: fails, nothing at a final name', async () => {
    gcs.inject({ method: 'POST', path: UPLOAD }, { kind: 'reset' }, 10);
    const error = await publish().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CartlensError);
    expect(finals()).toEqual([]);
  });

  it('a CRC32C mismatch: the client drops the upload, it is sent again, the final object is right', async () => {
    gcs.inject({ method: 'POST', path: UPLOAD }, { kind: 'bad-crc' }, 1);
    await publish();
    expect(gcs.count('POST', UPLOAD)).toBe(2 + 1);
    expect(gcs.text(FINAL)).toContain(ROW.join(','));
    expect(finals()).toEqual([FINAL, MANIFEST]);
  });

  it('a CRC32C mismatch every time: fails, nothing at a final name', async () => {
    gcs.inject({ method: 'POST', path: UPLOAD }, { kind: 'bad-crc' }, 10);
    await expect(publish()).rejects.toThrow(/did not match/);
    expect(finals()).toEqual([]);
  });

  it('a copy whose response was lost is retried into a 412; the object holds these bytes, so it is published', async () => {
    gcs.inject({ method: 'POST', path: /rewriteTo.*\.csv$/ }, { kind: 'lost-response', status: 503 }, 1);
    const published = await publish();
    const copies = gcs.requests.filter((r) => REWRITE.test(r.path) && r.path.endsWith('.csv')).map((r) => r.status);
    expect(copies).toEqual([503, 412]);
    expect(finals()).toEqual([FINAL, MANIFEST]);
    expect(createHash('sha256').update(gcs.objects.get(FINAL)!.data).digest('hex')).toBe(published.sha256);
    expect(gcs.objects.get(FINAL)!.metadata).toEqual({ sha256: published.sha256 });
  });

  it('an upload whose response was lost is retried into a 412 and settled the same way', async () => {
    gcs.inject({ method: 'POST', path: UPLOAD }, { kind: 'lost-response', status: 503 }, 1);
    await publish();
    expect(gcs.requests.filter((r) => UPLOAD.test(r.path)).map((r) => r.status)).toEqual([503, 412, 200]);
    expect(gcs.text(FINAL)).toBe(CSV_TEXT);
    expect(finals()).toEqual([FINAL, MANIFEST]);
  });

  it('a 412 over the same bytes (an object without our SHA-256: its MD5 decides) is already published', async () => {
    gcs.put(FINAL, CSV_TEXT);
    gcs.inject({ method: 'POST', path: /rewriteTo.*\.csv$/ }, { kind: 'status', status: 412 }, 1);
    await publish();
    expect(gcs.text(FINAL)).toBe(CSV_TEXT);
    expect(finals()).toEqual([FINAL, MANIFEST]);
  });

  it('a 412 over other content fails the publish and leaves the other object alone', async () => {
    gcs.put(FINAL, 'another writer\n', { sha256: 'f'.repeat(64) });
    gcs.inject({ method: 'POST', path: /rewriteTo.*\.csv$/ }, { kind: 'status', status: 412 }, 1);
    const error = await publish().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as PublishError).oneLine).toBe(`copy to gs://test-bucket/${FINAL}: another object is there, changed while publishing (412) — another writer publishes to the same prefix: give each environment its own prefix`);
    expect(gcs.text(FINAL)).toBe('another writer\n');
    expect(finals()).toEqual([FINAL]);
  });

  it('uploads with a HOME that cannot be written (the client writes no config)', async () => {
    const home = join(await tempDir(), 'home');
    await writeFile(home, 'a file: nothing can be created under it\n');
    const saved = process.env.HOME;
    process.env.HOME = home;
    try {
      exporter = new GcsExporter(openBucket({ bucket: 'test-bucket', apiEndpoint: endpoint, maxRetries: 3, maxRetryDelaySeconds: 1 }), 'exports/');
      await publish();
    } finally {
      process.env.HOME = saved;
    }
    expect(gcs.text(FINAL)).toBe(CSV_TEXT);
    expect(finals()).toEqual([FINAL, MANIFEST]);
  });

  it('replacing a date deletes the old manifest before the file changes: a failed manifest upload leaves no manifest of another file', async () => {
    await publish();
    const oldManifest = gcs.text(MANIFEST)!;
    // The new manifest's upload is refused: the new CSV is in place, and no manifest names the old one.
    gcs.inject({ method: 'POST', path: /manifest\.json/ }, { kind: 'status', status: 403 }, 5);
    const changed = async function* () {
      yield [['2026-11-01', '11', '8', '4', '2', '1', '3', '0.7500', '1', '12.50', '99.90']];
    };
    await expect(exporter.publish(FUNNEL.name, DATE, csvContent(FUNNEL, changed()))).rejects.toBeInstanceOf(CartlensError);
    expect(gcs.text(FINAL)).toContain(',11,');
    expect(gcs.text(MANIFEST)).toBeUndefined();
    expect(oldManifest).toContain('"rows": 1');
  });

  it('removes a date: the manifest first, then the file', async () => {
    await publish();
    const before = gcs.requests.length;
    await exporter.remove(FUNNEL.name, DATE);
    expect(finals()).toEqual([]);
    const deletes = gcs.requests.slice(before).filter((r) => r.method === 'DELETE' && !r.path.includes('_incoming/')).map((r) => r.path.split('/').pop());
    expect(deletes).toEqual(['manifest.json', 'cart_funnel_daily_20261101.csv']);
  });
});

describe('a run exporting to Cloud Storage', () => {
  it('publishes every table, manifest, daily report and run report into the bucket', async () => {
    const dir = await tempDir();
    await writeInput(dir, { 'a.json': [ev('add_to_cart', { items: [item('A')] })] });
    const config = parseConfig(
      `source: { type: ga4-export-files, path: "input/*.json" }
warehouse: { type: duckdb, path: "state/w.duckdb" }
landing: { dir: "state/landing" }
export: { type: gcs, bucket: test-bucket, prefix: exports, api_endpoint: "${endpoint}", max_retry_delay_seconds: 1 }`,
      `${dir}/cartlens.yaml`,
    );
    const report = await runPipeline({ loaded: config });
    expect(report.export_root).toBe('gs://test-bucket/exports/');
    expect(finals()).toEqual([
      'exports/_SUCCESS/dt=2026-11-01.json',
      'exports/abandoned_carts/dt=2026-11-01/abandoned_carts_20261101.csv',
      'exports/abandoned_carts/dt=2026-11-01/manifest.json',
      'exports/cart_funnel_daily/dt=2026-11-01/cart_funnel_daily_20261101.csv',
      'exports/cart_funnel_daily/dt=2026-11-01/manifest.json',
      'exports/cart_items_daily/dt=2026-11-01/cart_items_daily_20261101.csv',
      'exports/cart_items_daily/dt=2026-11-01/manifest.json',
      'exports/cart_recoveries/dt=2026-11-01/cart_recoveries_20261101.csv',
      'exports/cart_recoveries/dt=2026-11-01/manifest.json',
      'exports/report/dt=2026-11-01/report.html',
      'exports/run_report/dt=2026-11-01/run_report_20261101.json',
      'exports/run_report/last_run.json',
    ]);
    // Served as a page, not a download, when a dashboard links to it.
    expect(gcs.objects.get('exports/report/dt=2026-11-01/report.html')!.contentType).toBe('text/html; charset=utf-8');
    expect(gcs.text('exports/report/dt=2026-11-01/report.html')).toContain('data-tile="sessions_with_add_to_cart" data-value="1"');
    // The completion marker: deleted before the date's first upload, copied into place after its last file.
    const finalWrites = gcs.requests.filter((r) => r.method === 'DELETE' || REWRITE.test(r.path)).map((r) => `${r.method} ${r.path.split('/o/').pop()}`).filter((r) => !r.includes('_incoming/'));
    expect(finalWrites[0]).toBe('DELETE exports/_SUCCESS/dt=2026-11-01.json');
    expect(finalWrites.lastIndexOf('POST exports/_SUCCESS/dt=2026-11-01.json')).toBeGreaterThan(finalWrites.findIndex((w) => w.endsWith('report.html')));
    const marker = JSON.parse(gcs.text('exports/_SUCCESS/dt=2026-11-01.json')!) as { run_id: string; files: { path: string; sha256: string }[] };
    expect(marker.run_id).toBe(report.run_id);
    expect(marker.files.map((f) => [f.path, f.sha256])).toEqual(
      marker.files.map((f) => [f.path, createHash('sha256').update(gcs.objects.get(`exports/${f.path}`)!.data).digest('hex')]),
    );
    expect(marker.files).toHaveLength(4);
  });
});
