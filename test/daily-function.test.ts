// The HTTP function started locally on 127.0.0.1 and invoked as Cloud Scheduler would.
import { spawn } from 'node:child_process';
import type { Server } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_NAME } from '../src/cloud/function/daily-function.js';
import type { RunReport } from '../src/pipeline/report.js';
import { cli } from './support/cli.js';
import { ev, item, tempDir, writeConfig, writeInput } from './support/pipeline.js';

let server: Server;
let url: string;
let dir: string;

beforeAll(async () => {
  dir = await tempDir();
  await writeInput(dir, { 'a.json': [ev('add_to_cart', { items: [item('A')] }), ev('page_view', { date: '20261102' })] });
  process.env.CARTLENS_CONFIG = await writeConfig(dir);
  server = getTestServer(FUNCTION_NAME);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
});

afterAll(() => {
  delete process.env.CARTLENS_CONFIG;
  server.close();
});

describe('the daily function', () => {
  it('runs the job for the dates asked and answers the run report', async () => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from: '2026-11-01', to: '2026-11-02' }) });
    expect(response.status).toBe(200);
    const report = (await response.json()) as RunReport;
    expect(report.dates.map((d) => [d.date, d.status])).toEqual([['2026-11-01', 'published'], ['2026-11-02', 'published']]);
    expect(report.export_root).toBe(join(dir, 'exports'));
  });

  it('runs one date when the body names it', async () => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ date: '2026-11-02' }) });
    expect(((await response.json()) as RunReport).dates.map((d) => d.date)).toEqual(['2026-11-02']);
  });

  it('answers a date without events with 500 and the report', async () => {
    const response = await fetch(`${url}?date=2026-12-25`, { method: 'POST' });
    expect(response.status).toBe(500);
    expect(((await response.json()) as { error: string }).error).toMatch(/no events for 2026-12-25/);
  });

  it('refuses anything but POST', async () => {
    expect((await fetch(url)).status).toBe(405);
  });

  it('answers 503 when another run holds the warehouse, so that Scheduler retries', async () => {
    // Another process holds the DuckDB file, as a second run would.
    // It holds until killed (its stdin stays open), not for a fixed time. The instance stays
    // referenced (the stdin handler closes it): a collected instance closes its file and lets go
    // of the lock, which made this test answer 500 on some runs. It collects garbage (two passes,
    // each letting the finalizers run) before it says so: a holder that lost its instance would
    // fail here every time, not now and then.
    const holder = spawn(process.execPath, ['--expose-gc', '-e', `import('@duckdb/node-api').then(async (m) => { const db = await m.DuckDBInstance.create(${JSON.stringify(join(dir, 'state', 'warehouse.duckdb'))}); process.stdin.resume(); process.stdin.on('end', () => db.closeSync()); for (let pass = 0; pass < 2; pass++) { globalThis.gc(); await new Promise((r) => setImmediate(r)); } console.log('held'); })`], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
      const response = await fetch(url, { method: 'POST' });
      const body = (await response.json()) as { error: string; transient: boolean };
      expect([response.status, body.error]).toEqual([503, expect.stringMatching(/warehouse .* is in use by another process/)]);
      expect(body.transient).toBe(true);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  describe('deployed (K_SERVICE set, as Cloud Run sets it)', () => {
    const saved = { ...process.env };
    afterEach(() => {
      for (const key of ['K_SERVICE', 'GOOGLE_APPLICATION_CREDENTIALS']) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    });
    const post = () => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ date: '2026-11-01' }) });

    it('refuses to run with GOOGLE_APPLICATION_CREDENTIALS pointing to a service-account key file', async () => {
      const keyFile = join(await tempDir(), 'sa-key.json');
      await writeFile(keyFile, JSON.stringify({ type: 'service_account', client_email: 'x@p.iam.gserviceaccount.com', private_key: 'secret-key-material' }));
      process.env.K_SERVICE = 'cartlens-daily';
      process.env.GOOGLE_APPLICATION_CREDENTIALS = keyFile;
      const response = await post();
      expect(response.status).toBe(500);
      const body = (await response.json()) as { error: string; transient: boolean };
      expect(body.error).toBe(`GOOGLE_APPLICATION_CREDENTIALS points to a service-account key file (${keyFile}) in the deployed function cartlens-daily — remove the variable and the file from the deployment: the function runs as its own service account (deploy/iam.yaml), and the key should be deleted`);
      expect(body.transient).toBe(false);
      expect(JSON.stringify(body)).not.toContain('secret-key-material');
    });

    it('runs with Application Default Credentials, and off Cloud Run a key file is left to the developer', async () => {
      process.env.K_SERVICE = 'cartlens-daily';
      delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
      expect((await post()).status).toBe(200);
      const keyFile = join(await tempDir(), 'sa-key.json');
      await writeFile(keyFile, JSON.stringify({ type: 'service_account', private_key: 'k' }));
      delete process.env.K_SERVICE;
      process.env.GOOGLE_APPLICATION_CREDENTIALS = keyFile;
      expect((await post()).status).toBe(200);
    });
  });

  it('answers what the CLI answers: a date withheld by a blocking assertion is 500 from both, never 200', async () => {
    const withheld = await tempDir();
    await writeInput(withheld, { 'a.json': [ev('add_to_cart', { items: [item('A')] }), ev('page_view', { session: 2 })] });
    const config = await writeConfig(withheld, 'assertions:\n  - { model: cart_funnel_daily, kind: row, check: "sessions < 2" }\n');
    const cliRun = await cli(['run', '--config', config, '--date', '2026-11-01']);
    expect(cliRun.code).toBe(1);
    const previous = process.env.CARTLENS_CONFIG;
    process.env.CARTLENS_CONFIG = config;
    try {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ date: '2026-11-01' }) });
      expect(response.status).toBe(500);
      expect(((await response.json()) as RunReport).dates.map((d) => [d.date, d.status])).toEqual([['2026-11-01', 'failed']]);
    } finally {
      process.env.CARTLENS_CONFIG = previous;
    }
  });
});
