// `cartlens serve` without a browser: read-only beside a running pipeline, and its HTTP edges.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { get as httpGet, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { duckdbSnapshotSource } from '../src/dashboard/copy-from-duckdb.js';
import { dashboardOptions } from '../src/dashboard/options.js';
import { startDashboard, type DashboardOptions, type RunningDashboard } from '../src/dashboard/server.js';
import { addDays } from '../src/util/dates.js';
import { reportPath } from '../src/reports/daily-report.js';
import { runPipeline } from '../src/pipeline/run.js';
import { DEMO_DEFAULTS } from '../src/config/schema.js';
import { generateDemoExport } from '../src/sources/demo/generator.js';
import { cli } from './support/cli.js';
import { ev, item, runOn, tempDir, writeConfig } from './support/pipeline.js';
import { DuckDbWarehouse } from '../src/warehouse/duckdb/duckdb-warehouse.js';
import { dialectFor } from '../src/warehouse/index.js';

const FIRST = DEMO_DEFAULTS.startDate;
const sha256 = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Waits until `condition` holds, however long the machine takes (the test's timeout is the limit). */
async function until(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await sleep(100);
}

interface DashboardJson {
  available: { first: string | null; last: string | null };
  totals: Record<string, string | null>;
  snapshot: { busy: boolean };
}

/**
 * Holds the warehouse in another process (DuckDB's lock is per process): as a writer after one
 * write, like a run; or attached READ_ONLY, like the dashboard taking its copy.
 */
function holdWarehouse(path: string, as: 'writer' | 'reader'): Promise<{ release(): Promise<void> }> {
  const open =
    as === 'writer'
      ? `const db = await DuckDBInstance.create(${JSON.stringify(path)}); const c = await db.connect();
         await c.run('CREATE OR REPLACE TABLE held_by_test AS SELECT 1 AS x; CHECKPOINT');`
      : `const db = await DuckDBInstance.create(':memory:'); const c = await db.connect();
         await c.run(${JSON.stringify(`ATTACH '${path}' AS wh (READ_ONLY)`)});`;
  const script = `
    import { DuckDBInstance } from '@duckdb/node-api';
    ${open}
    process.stdout.write('held\\n');
    process.stdin.resume();
    process.stdin.on('end', () => { c.closeSync(); db.closeSync(); process.exit(0); });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', () =>
      resolve({
        release: () =>
          new Promise<void>((done) => {
            child.once('close', () => done());
            child.stdin.end();
          }),
      }),
    );
  });
}

/** A GET with the path sent as it is, and any Host header. */
function rawGet(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const request = httpGet({ host: url.hostname, port: url.port, path, headers }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body }));
    });
    request.on('error', reject);
  });
}

describe('cartlens serve', () => {
  let dir: string;
  let configFile: string;
  let options: DashboardOptions;
  let dashboard: RunningDashboard;
  let warehousePath: string;
  const json = async (url = dashboard.url) => {
    const response = await fetch(`${url}api/dashboard.json`);
    return { status: response.status, body: response.status === 200 ? ((await response.json()) as DashboardJson) : null };
  };

  beforeAll(async () => {
    dir = await tempDir();
    await generateDemoExport({ ...DEMO_DEFAULTS, outDir: join(dir, 'input'), days: 5, sessionsPerDay: 100 });
    configFile = await writeConfig(dir, 'locale: en\n');
    const loaded = parseConfig(await readFile(configFile, 'utf8'), configFile);
    // Days 1–4 now; the test below publishes day 5 while the dashboard serves.
    await runPipeline({ loaded, dates: [0, 1, 2, 3].map((n) => addDays(FIRST, n)) });
    warehousePath = join(dir, 'state', 'warehouse.duckdb');
    options = dashboardOptions(loaded, { port: 0 });
    dashboard = await startDashboard(options);
  }, 120_000);

  afterAll(() => dashboard?.close());

  it('never writes the warehouse', async () => {
    const before = await sha256(warehousePath);
    for (const query of ['', `?from=${FIRST}&to=${FIRST}`, `?from=${FIRST}&to=${addDays(FIRST, 3)}`]) expect((await fetch(`${dashboard.url}${query}`)).status).toBe(200);
    expect(await sha256(warehousePath)).toBe(before);
  });

  it('keeps serving while a pipeline run writes, and shows the new day once it has committed', async () => {
    expect((await json()).body!.available.last).toBe(addDays(FIRST, 3));
    const run = cli(['run', '--config', configFile]);
    let finished = false;
    void run.finally(() => (finished = true));
    const statuses: number[] = [];
    while (!finished) {
      statuses.push((await json()).status);
      await sleep(50);
    }
    const result = await run;
    // The run was never stopped by the dashboard's copies, and no request failed during it.
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/"level":"(warn|error)"/);
    expect(statuses.length).toBeGreaterThan(0);
    expect(new Set(statuses)).toEqual(new Set([200]));
    // The next look after the commit takes a new copy: wait for it, not for a guessed delay.
    await until(async () => (await json()).body!.available.last === addDays(FIRST, 4));
  }, 120_000);

  it('while a run holds the warehouse, serves the last copy and says so', async () => {
    const before = (await json()).body!;
    const holder = await holdWarehouse(warehousePath, 'writer');
    try {
      await until(async () => (await json()).body!.snapshot.busy);
      const during = await json();
      expect(during.status).toBe(200);
      expect(during.body!.snapshot.busy).toBe(true);
      expect(during.body!.totals).toEqual(before.totals);
      expect(await (await fetch(dashboard.url)).text()).toContain('a run is writing the warehouse');
    } finally {
      await holder.release();
    }
    await until(async () => !(await json()).body!.snapshot.busy);
    expect((await json()).body!.totals).toEqual(before.totals);
  }, 30_000);

  it("a run that starts while the dashboard takes its copy waits it out instead of failing", async () => {
    const copy = await holdWarehouse(warehousePath, 'reader');
    const events: string[] = [];
    // The copy lets go a moment after the run started to open; the run must open only after that.
    const released = sleep(500).then(() => {
      events.push('copy released');
      return copy.release();
    });
    const warehouse = await DuckDbWarehouse.open({ path: warehousePath, memoryLimit: '256MB', lockWaitMs: 60_000 }, dialectFor({ type: 'duckdb' }));
    events.push('run opened');
    await warehouse.close();
    await released;
    expect(events).toEqual(['copy released', 'run opened']);
  }, 30_000);

  it('answers bad requests clearly and serves nothing outside the export folder', async () => {
    const bad = await fetch(`${dashboard.url}?from=2026-02-30&to=2026-11-01`);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/from=2026-02-30 is not a date/);
    expect((await fetch(`${dashboard.url}?from=${addDays(FIRST, 2)}&to=${FIRST}`)).status).toBe(400);
    expect((await fetch(`${dashboard.url}?from=2020-01-01&to=2026-01-01`)).status).toBe(400);
    // Sent as raw paths (fetch would tidy the dots away): an existing .json file outside the export folder.
    await writeFile(join(dir, 'outside.json'), '{"secret": true}');
    for (const path of ['/files/..%2Foutside.json', '/files/%2e%2e%2foutside.json', '/files/../outside.json', '/files/%E0%A4%A', '/files/cart_funnel_daily']) {
      expect((await rawGet(dashboard.url, path)).status, path).toBe(404);
    }
    expect((await rawGet(dashboard.url, '/files/run_report/last_run.json')).status).toBe(200);
    expect((await fetch(dashboard.url, { method: 'POST' })).status).toBe(405);
    const page = await fetch(dashboard.url);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('serves only the files cartlens published: not another file in the export folder, not a CSV its manifest does not name', async () => {
    const exports = join(dir, 'exports');
    const funnel = `cart_funnel_daily/dt=${FIRST}`;
    // As when export.dir was the input folder: raw events beside the published files.
    await writeFile(join(exports, 'events_20261101.json'), '{"user_pseudo_id":"u1"}\n');
    await writeFile(join(exports, funnel, 'extra.csv'), 'user_pseudo_id\nu1\n');
    await mkdir(join(exports, 'notes', `dt=${FIRST}`), { recursive: true });
    await writeFile(join(exports, 'notes', `dt=${FIRST}`, 'notes.json'), '{}');
    for (const path of ['/files/events_20261101.json', `/files/${funnel}/extra.csv`, `/files/notes/dt=${FIRST}/notes.json`, '/files/run_report/other.json', `/files/report/dt=${FIRST}/other.html`]) {
      expect((await rawGet(dashboard.url, path)).status, path).toBe(404);
    }
    const manifest = JSON.parse(await readFile(join(exports, funnel, 'manifest.json'), 'utf8')) as { file: string };
    for (const path of [`/files/${funnel}/${manifest.file}`, `/files/${funnel}/manifest.json`, `/files/report/dt=${FIRST}/report.html`, `/files/run_report/dt=${FIRST}/run_report_${FIRST.replaceAll('-', '')}.json`, '/files/run_report/last_run.json']) {
      expect((await rawGet(dashboard.url, path)).status, path).toBe(200);
    }
  });

  it('without a token, answers only to the names of this machine (no DNS rebinding)', async () => {
    expect((await rawGet(dashboard.url, '/api/dashboard.json', { host: 'evil.example' })).status).toBe(421);
    expect((await rawGet(dashboard.url, '/files/run_report/last_run.json', { host: `evil.example:${new URL(dashboard.url).port}` })).status).toBe(421);
    expect((await rawGet(dashboard.url, '/', { host: `localhost:${new URL(dashboard.url).port}` })).status).toBe(200);
  });

  it('with a token: too short is refused; ?token= becomes a Lax cookie and a same-site redirect', async () => {
    await expect(startDashboard({ ...options, token: 'short' })).rejects.toThrow(/shorter than 16 characters/);
    const token = 'a-long-enough-dashboard-token';
    const server = await startDashboard({ ...options, token });
    try {
      expect((await rawGet(server.url, '/')).status).toBe(401);
      const redirect = await rawGet(server.url, `/a/..//evil.example/x?token=${token}`);
      expect(redirect.status).toBe(303);
      expect(redirect.headers.location).toBe('/evil.example/x');
      expect(redirect.headers['set-cookie']?.[0]).toMatch(/^cartlens_token=[^;]+; HttpOnly; SameSite=Lax; Path=\/$/);
      expect((await rawGet(server.url, '/', { cookie: redirect.headers['set-cookie']![0]!.split(';')[0]! })).status).toBe(200);
      // A cookie that is not one we set, down to a malformed % escape, is no token: 401, not 500.
      for (const cookie of ['cartlens_token=%E0%A4%A', 'cartlens_token=%', 'cartlens_token=wrong-token-of-some-length']) {
        const refused = await rawGet(server.url, '/', { cookie });
        expect([cookie, refused.status, refused.headers['www-authenticate']]).toEqual([cookie, 401, 'Bearer realm="cartlens"']);
      }
    } finally {
      await server.close();
    }
  });

  it('shows a control character in an item name as the CSV file does, in the page and in report.html', async () => {
    const name = 'Caneca\u0000azul\u0007\u001b\u007f';
    const shown = 'Caneca\u2400azul\u2407\u241b\u2421';
    const run = await runOn({ 'day.json': [ev('add_to_cart', { items: [item('MUG', { item_name: name })] })] });
    const date = run.report.dates[0]!.date;
    expect((await run.csv('cart_items_daily', date)).map((row) => row.item_name)).toEqual([shown]);
    const loaded = parseConfig(await readFile(join(run.dir, 'cartlens.yaml'), 'utf8'), join(run.dir, 'cartlens.yaml'));
    const server = await startDashboard(dashboardOptions(loaded, { port: 0 }));
    try {
      const page = await (await fetch(server.url)).text();
      const report = await (await fetch(`${server.url}files/${reportPath(date)}`)).text();
      for (const html of [page, report]) {
        expect(html).toContain(`<td>${shown}</td>`);
        // eslint-disable-next-line no-control-regex -- no control character may be left
        expect(html.match(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g)).toBeNull();
      }
    } finally {
      await server.close();
    }
  });

  it('with no run yet, says so and creates nothing', async () => {
    const empty = await tempDir();
    const server = await startDashboard({ ...options, warehouse: duckdbSnapshotSource(join(empty, 'warehouse.duckdb')) });
    try {
      const page = await fetch(server.url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('No published day yet');
      expect(existsSync(join(empty, 'warehouse.duckdb'))).toBe(false);
    } finally {
      await server.close();
    }
  });

  it('a port in use is a one-line error naming it', async () => {
    const port = Number(new URL(dashboard.url).port);
    await expect(startDashboard({ ...options, port })).rejects.toThrow(`serve: 127.0.0.1:${port} is in use`);
  });

  it('the CLI refuses to bind beyond localhost without a token, naming the key', async () => {
    const result = await cli(['serve', '--config', configFile, '--host', '0.0.0.0', '--port', '0'], { env: { CARTLENS_SERVE_TOKEN: '' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/serve\.host 0\.0\.0\.0 .*no access token.*serve\.token/);
  });
});
