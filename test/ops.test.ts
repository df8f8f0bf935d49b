// Alerts to a webhook (a local HTTP server), retention, the scheduler across a DST change and
// its clean stop, and the JSON log lines off a terminal.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdir, readFile, utimes, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFailed } from 'vitest';
import { nextFireTimes } from '../src/ops/scheduler.js';
import { parseConfig } from '../src/config/load.js';
import { localDate } from '../src/util/dates.js';
import { cli } from './support/cli.js';
import { ev, queryWarehouse, tempDir, writeConfig, writeInput } from './support/pipeline.js';

const CLI = fileURLToPath(new URL('../bin/cartlens.js', import.meta.url));

/**
 * A child's output as it arrives: `until` resolves when the text so far matches (checked on each
 * chunk, no polling, no time limit), and fails if the process ends first.
 */
function watch(child: ChildProcess, stream: 'stdout' | 'stderr') {
  let text = '';
  const waiters: { pattern: RegExp; resolve: () => void; reject: (e: Error) => void }[] = [];
  const settle = (ended: boolean) => {
    for (const w of [...waiters]) {
      if (w.pattern.test(text)) w.resolve();
      else if (ended) w.reject(new Error(`the process ended before ${w.pattern}:\n${text}`));
      else continue;
      waiters.splice(waiters.indexOf(w), 1);
    }
  };
  child[stream]!.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    settle(false);
  });
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => {
    settle(true);
    resolve(code);
  }));
  return {
    child,
    closed,
    text: () => text,
    until: (pattern: RegExp) => new Promise<void>((resolve, reject) => {
      waiters.push({ pattern, resolve, reject });
      settle(child.exitCode !== null || child.signalCode !== null);
    }),
  };
}

async function webhook(statuses: number[]) {
  const received: { body: Record<string, unknown> }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      received.push({ body: JSON.parse(body) as Record<string, unknown> });
      res.writeHead(statuses.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, received, close: () => server.close() };
}

describe('alerts', () => {
  it('a failed day is posted to the webhook as JSON, retried after a 500, with no secret in it', async () => {
    const hook = await webhook([500, 200]);
    try {
      const dir = await tempDir();
      await writeInput(dir, { 'a.json': [ev('page_view'), ev('page_view', { session: 2 })] });
      const config = await writeConfig(dir, `alerts: { webhook_url: "${hook.url}" }\nassertions:\n  - { model: cart_funnel_daily, kind: row, check: "sessions < 2" }\n`);
      const run = await cli(['run', '--config', config]);
      expect(run.code).toBe(1);
      expect(hook.received).toHaveLength(2);
      const alert = hook.received[1]!.body as { text: string; days: { date: string; status: string; reason: string }[] };
      expect(alert.text).toMatch(/^cartlens: 1 day\(s\) need attention: 2026-11-01 failed \(assertion cart_funnel_daily__row_101 failed\)$/);
      expect(alert.days).toEqual([{ date: '2026-11-01', status: 'failed', reason: 'assertion cart_funnel_daily__row_101 failed' }]);
      expect(JSON.stringify(hook.received)).not.toContain('test-secret-key');
      expect(run.stderr).toContain('alert sent for 1 day(s)');
      expect(run.stderr).not.toContain(hook.url);
    } finally {
      hook.close();
    }
  });
});

describe('retention', () => {
  it('deletes landed files, quarantined events and staged events past their retention', async () => {
    const dir = await tempDir();
    await writeInput(dir, { 'a.json': [ev('page_view'), 'not json {"event_date":"20261101"'] });
    const config = await writeConfig(dir, 'retention: { landed_days: 10, quarantine_days: 20, staged_days: 20 }\n');
    await mkdir(join(dir, 'state', 'landing', 'objects'), { recursive: true });
    const stale = join(dir, 'state', 'landing', 'objects', 'old.json.gz');
    await writeFile(stale, 'x');
    await utimes(stale, new Date('2020-01-01'), new Date('2020-01-01'));
    expect((await cli(['run', '--config', config])).code).toBe(0);
    expect(await readdir(join(dir, 'state', 'landing', 'objects'))).not.toContain('old.json.gz');
    expect((await readdir(join(dir, 'state', 'landing', 'objects'))).length).toBe(1); // this run's input stays
    const quarantined = () => queryWarehouse(join(dir, 'state', 'warehouse.duckdb'), `SELECT count(*)::INTEGER AS n FROM quarantined_events WHERE event_date = DATE '2026-11-01'`);
    expect(await quarantined()).toEqual([{ n: 1 }]);
    const staged = () => queryWarehouse(join(dir, 'state', 'warehouse.duckdb'), `SELECT count(*)::INTEGER AS n FROM stg_events WHERE event_date = DATE '2026-11-01'`);
    expect(await staged()).toEqual([{ n: 1 }]);
    // A later run over other days: the 1st is past 20 days (today is later), so its quarantined
    // line and its staged event (user_pseudo_id) go; its published rows stay.
    await writeInput(dir, { 'a.json': [ev('page_view', { date: '20261102' })] });
    expect((await cli(['run', '--config', config])).code).toBe(0);
    expect(await quarantined()).toEqual([{ n: 0 }]);
    expect(await staged()).toEqual([{ n: 0 }]);
    expect(await queryWarehouse(join(dir, 'state', 'warehouse.duckdb'), `SELECT count(*)::INTEGER AS n FROM cart_funnel_daily WHERE date = DATE '2026-11-01'`)).toEqual([{ n: 1 }]);
  });
});

describe('the scheduler', () => {
  it('fires at the configured local time across a daylight-saving change', () => {
    const fires = nextFireTimes('06:30', 'America/New_York', new Date('2026-10-30T12:00:00Z'), 4).map((d) => d.toISOString());
    // 06:30 EDT is 10:30 UTC; after the 1 November change, 06:30 EST is 11:30 UTC.
    expect(fires).toEqual(['2026-10-31T10:30:00.000Z', '2026-11-01T11:30:00.000Z', '2026-11-02T11:30:00.000Z', '2026-11-03T11:30:00.000Z']);
    expect(nextFireTimes('06:30', 'America/Sao_Paulo', new Date('2026-10-30T12:00:00Z'), 1)[0]!.toISOString()).toBe('2026-10-31T09:30:00.000Z');
  });

  it('fires at each of several times a day (intraday data: each run refreshes today), in order', () => {
    const fires = nextFireTimes(['18:00', '06:30', '12:15'], 'America/Sao_Paulo', new Date('2026-10-30T12:00:00Z'), 4).map((d) => d.toISOString());
    // São Paulo is UTC−3: 12:00 UTC is 09:00 there, so 12:15 is next.
    expect(fires).toEqual(['2026-10-30T15:15:00.000Z', '2026-10-30T21:00:00.000Z', '2026-10-31T09:30:00.000Z', '2026-10-31T15:15:00.000Z']);
    expect(parseConfig('source: { type: demo }\nschedule: { at: ["06:30", "12:15"] }\n', 'x.yaml').config.schedule.at).toEqual(['06:30', '12:15']);
    expect(() => parseConfig('source: { type: demo }\nschedule: { at: ["06:30", "25:00"] }\n', 'x.yaml')).toThrow(/schedule\.at/);
  });

  it('logs its next run as JSON and stops cleanly on SIGTERM', async () => {
    const dir = await tempDir();
    const config = await writeConfig(dir, 'schedule: { at: "03:15" }\n');
    const scheduler = watch(spawn(process.execPath, [CLI, 'schedule', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] }), 'stderr');
    await scheduler.until(/next run.*\n/);
    const first = JSON.parse(scheduler.text().split('\n')[0]!) as { message: string };
    expect(first.message).toMatch(/^scheduled daily at 03:15 America\/Sao_Paulo; next run \d{4}-\d{2}-\d{2}T06:15:00\.000Z$/);
    scheduler.child.kill('SIGTERM');
    expect(await scheduler.closed).toBe(0);
    expect(scheduler.text()).toContain('"message":"stopped"');
  });
});

describe('logs', () => {
  it('are one JSON object per line when not on a terminal', async () => {
    const dir = await tempDir();
    await writeInput(dir, { 'a.json': [ev('page_view')] });
    const run = await cli(['run', '--config', await writeConfig(dir)]);
    const lines = run.stderr.trim().split('\n');
    const events = lines.map((l) => JSON.parse(l) as { time: string; level: string; message: string; elapsed_s: number });
    expect(events.length).toBeGreaterThan(5);
    expect(events.some((e) => /^model cart_funnel_daily$/.test(e.message))).toBe(true);
    expect(events.every((e) => typeof e.time === 'string' && typeof e.elapsed_s === 'number')).toBe(true);
    const exported = events.find((e) => e.message === '2026-11-01: published') as unknown as { run_id: string; step: string; date: string; rows: Record<string, number> };
    expect(exported).toMatchObject({ step: 'export', date: '2026-11-01', rows: { cart_funnel_daily: 1, abandoned_carts: 0, cart_items_daily: 0 } });
    expect(exported.run_id).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/);
  });
});

describe('two schedulers on one warehouse', () => {
  it('never run at once: the second waits for the first, then runs', async () => {
    const dir = await tempDir();
    // An event of yesterday (São Paulo), so that the due run has a day to compute.
    const yesterday = localDate(new Date(Date.now() - 86_400_000), 'America/Sao_Paulo').replaceAll('-', '');
    await writeInput(dir, { 'a.json': [ev('page_view', { date: yesterday })] });
    // Retries enough that the one that loses the race after the holder lets go outlasts the
    // other's whole run however slow the machine is (0.2 s doubling ten times: minutes).
    const config = await writeConfig(dir, 'schedule: { at: "03:15", retries: 10, retry_wait_seconds: 0.2 }\n');
    // No lock wait in open: the scheduler's own retry of a busy warehouse is what is tested here.
    await writeFile(config, (await readFile(config, 'utf8')).replace('threads: 2 }', 'threads: 2, lock_wait_seconds: 0 }'));
    // A third process holds the warehouse, as a long run would, until told to let go: not for a
    // fixed time, so both schedulers surely meet it however long they take to start.
    await mkdir(join(dir, 'state'), { recursive: true });
    const holderScript = `import('@duckdb/node-api').then(async (m) => { const db = await m.DuckDBInstance.create(${JSON.stringify(join(dir, 'state', 'warehouse.duckdb'))}); console.log('held'); process.stdin.once('data', () => { db.closeSync(); process.exit(0); }); })`;
    const holder = watch(spawn(process.execPath, ['-e', holderScript], { stdio: ['pipe', 'pipe', 'inherit'] }), 'stdout');
    const schedulers = [1, 2].map(() => watch(spawn(process.execPath, [CLI, 'schedule', '--config', config, '--run-now'], { stdio: ['ignore', 'pipe', 'pipe'] }), 'stderr'));
    onTestFailed(() => console.error(schedulers.map((s, i) => `scheduler ${i + 1}:\n${s.text()}`).join('\n')));
    try {
      await holder.until(/held/);
      // Both met the lock and will try again...
      await Promise.all(schedulers.map((s) => s.until(/in use by another process[\s\S]*trying again|trying again[\s\S]*in use by another process/)));
      holder.child.stdin!.end('release\n');
      // ...and then both run to the end, one after the other.
      await Promise.all(schedulers.map((s) => s.until(/"message":"run \S+ done|"message":"run failed: /)));
      for (const s of schedulers) expect(s.text()).toMatch(/"message":"run \S+ done: \d{4}-\d{2}-\d{2} published/);
    } finally {
      for (const p of [holder, ...schedulers]) p.child.kill('SIGTERM');
      await Promise.all([holder, ...schedulers].map((p) => p.closed));
    }
  });
});

describe('the backfill pool', () => {
  it('never has more than its bound in flight, and keeps the results in order', async () => {
    const { inPool } = await import('../src/util/pool.js');
    let inFlight = 0;
    let most = 0;
    const results = await inPool([5, 1, 4, 2, 3], 2, async (n) => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, n * 5));
      inFlight--;
      return n * 10;
    });
    expect(most).toBe(2);
    expect(results).toEqual([50, 10, 40, 20, 30]);
  });
});
