// Reconciliation: one property read from its export (files) and from the Data API (emulator)
// into one warehouse; equal on clean data, and an injected drift beyond tolerance is reported.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemoExport } from '../src/sources/demo/generator.js';
import { DEMO_DEFAULTS } from '../src/config/schema.js';
import { Ga4ApiEmulator } from '../src/sources/ga4-data-api/emulator/ga4-api-emulator.js';
import { cli } from './support/cli.js';
import { tempDir } from './support/pipeline.js';

let emulator: Ga4ApiEmulator;
let dir: string;

beforeAll(async () => {
  dir = await tempDir();
  await generateDemoExport({ ...DEMO_DEFAULTS, outDir: join(dir, 'input'), days: 2, sessionsPerDay: 300, dirtyRate: 0 });
  emulator = await Ga4ApiEmulator.fromExportFiles(join(dir, 'input', 'events_*.json.gz'));
  const endpoint = await emulator.start();
  // The Data API will disagree with the export about add-to-cart units on the 2nd.
  emulator.revise('items', '2026-11-02', (row) => row.map((v, i) => (i === 5 ? Number(v) + 100 : v)));
  const shared = 'warehouse: { type: duckdb, path: state/w.duckdb }\nexport: { type: local, dir: exports }\nlanding: { dir: state/landing }\n';
  await writeFile(join(dir, 'export.yaml'), `source: { type: ga4-export-files, path: "input/*.json.gz" }\n${shared}`);
  await writeFile(join(dir, 'api.yaml'), `source: { type: ga4-data-api, property: properties/9, api_endpoint: "${endpoint}" }\n${shared}`);
  for (const config of ['export.yaml', 'api.yaml']) {
    const run = await cli(['run', '--config', join(dir, config), '--from', '2026-11-01', '--to', '2026-11-02']);
    expect(run.code, run.stderr).toBe(0);
    if (config === 'api.yaml') apiRunStderr = run.stderr;
  }
});
let apiRunStderr = '';
afterAll(() => emulator.stop());

describe('cartlens reconcile', () => {
  it('finds no drift when both reads agree', async () => {
    const result = await cli(['reconcile', '--config', join(dir, 'export.yaml'), '--date', '2026-11-01', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { drifts: { measure: string; drift: number; export: number }[]; warnings: string[] };
    expect(report.drifts.map((d) => d.measure)).toEqual(['add_to_cart_units', 'purchased_units', 'purchases', 'revenue']);
    expect(report.drifts.every((d) => d.drift === 0 && d.export > 0)).toBe(true);
    expect(report.warnings).toEqual([]);
  });

  it('reports an injected drift beyond the tolerance as a warning, kept beside the exports', async () => {
    const result = await cli(['reconcile', '--config', join(dir, 'api.yaml'), '--date', '2026-11-02', '--tolerance', '0.05']);
    expect(result.stdout).toMatch(/add_to_cart_units .* ← beyond tolerance/);
    expect(result.stdout).not.toMatch(/purchases .* ← beyond tolerance/);
    expect(result.stderr).toMatch(/warning: 2026-11-02: add_to_cart_units drifts \d+\.\d% between the export/);
    const kept = JSON.parse(await readFile(join(dir, 'exports', 'run_report', 'dt=2026-11-02', 'reconcile_20261102.json'), 'utf8'));
    expect(kept.warnings).toHaveLength(1);
    // The API run itself reconciled, since the export's tables were already in the warehouse.
    expect(apiRunStderr).toMatch(/warning: 2026-11-02: add_to_cart_units drifts/);
    const runReport = JSON.parse(await readFile(join(dir, 'exports', 'run_report', 'ga4_api_last_run.json'), 'utf8'));
    expect(runReport.dates[1].reconciliation.warnings).toHaveLength(1);
    expect(runReport.dates[0].reconciliation.warnings).toEqual([]);
  });

  it('keeps each source\'s completion markers and reports apart in the shared export folder', async () => {
    const tablesOf = async (marker: string) => (JSON.parse(await readFile(join(dir, 'exports', marker), 'utf8')) as { files: { table: string }[] }).files.map((f) => f.table);
    expect(await tablesOf('_SUCCESS/dt=2026-11-02.json')).toEqual(['cart_funnel_daily', 'abandoned_carts', 'cart_items_daily', 'cart_recoveries']);
    expect(await tablesOf('_SUCCESS/ga4_api/dt=2026-11-02.json')).toEqual(['ga4_api_items_daily', 'ga4_api_funnel_daily']);
    expect(await readFile(join(dir, 'exports', 'report', 'dt=2026-11-02', 'report.html'), 'utf8')).not.toContain('GA4 Data API');
    expect(await readFile(join(dir, 'exports', 'report', 'ga4_api', 'dt=2026-11-02', 'report.html'), 'utf8')).toContain('GA4 Data API');
    expect(JSON.parse(await readFile(join(dir, 'exports', 'run_report', 'last_run.json'), 'utf8')).source).toMatch(/input/);
  });
});
