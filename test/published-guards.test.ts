// Dates already published are guarded (issue 19, item 1): a run that names no dates never
// recomputes a final published date — a stray line for it is set aside and counted — and a
// republish that would shrink a date is withheld unless the run accepts it.
import { createServer } from 'node:http';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { runPipeline, type RunRequest } from '../src/pipeline/run.js';
import { cli } from './support/cli.js';
import { ev, item, listFiles, queryWarehouse, tempDir, writeConfig, writeInput, type Line } from './support/pipeline.js';

/** Long after every date below: each is final (GA4 no longer revises it). */
const LATER = () => new Date('2026-11-20T12:00:00Z');

/** A day of `sessions` sessions, each a view and a cart of one item. */
function day(date: string, sessions: number): Line[] {
  return Array.from({ length: sessions }, (_, s) => [
    ev('view_item', { date, session: s + 1, user: `u${s}`, at: s * 10, items: [item('A')] }),
    ev('add_to_cart', { date, session: s + 1, user: `u${s}`, at: s * 10 + 1, items: [item('A')] }),
  ]).flat();
}

async function project(extra = '') {
  const dir = await tempDir();
  const configFile = await writeConfig(dir, extra);
  const run = async (request: Partial<RunRequest> = {}) => runPipeline({ loaded: parseConfig(await readFile(configFile, 'utf8'), configFile), now: LATER, ...request });
  /** Replaces the input folder's files. */
  const input = async (files: Record<string, Line[]>) => {
    await rm(join(dir, 'input'), { recursive: true, force: true });
    await writeInput(dir, files);
  };
  const exported = async () => {
    const files = (await listFiles(join(dir, 'exports'))).filter((f) => !f.startsWith('run_report/'));
    return Object.fromEntries(await Promise.all(files.map(async (f) => [f, await readFile(join(dir, 'exports', f), 'utf8')] as const)));
  };
  const sessions = async (date: string) => (await queryWarehouse(join(dir, 'state', 'warehouse.duckdb'), `SELECT sessions::INTEGER AS n FROM cart_funnel_daily WHERE date = DATE '${date}'`))[0]?.n;
  return { dir, configFile, run, input, exported, sessions };
}

const threeDays = { 'events_20261101.json': day('20261101', 9), 'events_20261102.json': day('20261102', 8), 'events_20261103.json': day('20261103', 7) };

describe('a final published date is never recomputed by a run that names no dates', () => {
  it('a stray valid line for it is set aside as late_for_final_date and counted; its files, rows and state stay', async () => {
    const p = await project();
    await p.input(threeDays);
    await p.run();
    const before = await p.exported();
    expect(await p.sessions('2026-11-01')).toBe(9);

    // The old files moved away; the next day arrives with one valid event of a final day.
    await p.input({ 'events_20261104.json': [...day('20261104', 5), ev('page_view', { date: '20261101', user: 'stray', session: 77 })] });
    const report = await p.run();
    expect(report.dates.map((d) => d.date)).toEqual(['2026-11-04']);
    expect(report.set_aside).toEqual([{ date: '2026-11-01', reason: 'late_for_final_date', lines: 1, inputs: [join(p.dir, 'input', 'events_20261104.json')] }]);
    expect(await p.sessions('2026-11-01')).toBe(9);
    const after = await p.exported();
    for (const [file, text] of Object.entries(before)) if (!file.includes('2026-11-04') && !file.includes('_SUCCESS/dt=2026-11-04')) expect(after[file], file).toBe(text);

    // status says the day has a late line waiting; a second run does not count it again.
    const status = await cli(['status', '--config', p.configFile, '--json']);
    expect(JSON.parse(status.stdout).late_lines).toEqual([{ date: '2026-11-01', lines: 1, inputs: [join(p.dir, 'input', 'events_20261104.json')] }]);
    const text = await cli(['status', '--config', p.configFile]);
    expect(text.stdout).toMatch(/^2026-11-01 .*1 late line\(s\) waiting .*run --date 2026-11-01 to recompute$/m);
    expect((await p.run()).set_aside).toEqual([]);
  });

  it('an invalid stray line deletes nothing: the final day keeps its files, completion marker and rows', async () => {
    const p = await project();
    await p.input(threeDays);
    await p.run();
    const before = await p.exported();
    await p.input({ 'events_20261104.json': [...day('20261104', 5), '{"event_date":"20261102","event_name":"page_view"}'] });
    const report = await p.run();
    expect(report.dates.map((d) => d.date)).toEqual(['2026-11-04']);
    expect(report.set_aside.map((s) => [s.date, s.lines])).toEqual([['2026-11-02', 1]]);
    const after = await p.exported();
    expect(Object.keys(after).filter((f) => f.includes('2026-11-02')).sort()).toEqual(Object.keys(before).filter((f) => f.includes('2026-11-02')).sort());
    expect(await p.sessions('2026-11-02')).toBe(8);
  });

  it('the same files read again every day bring nothing late, and a run with only final days is not an error', async () => {
    const p = await project();
    await p.input(threeDays);
    await p.run();
    const before = await p.exported();
    const again = await p.run();
    expect(again.dates).toEqual([]);
    expect(again.set_aside).toEqual([]);
    expect(again.unchanged_final_dates).toEqual(['2026-11-01', '2026-11-02', '2026-11-03']);
    expect(await p.exported()).toEqual(before);
  });

  it('a date never published is computed as usual, final or not', async () => {
    const p = await project();
    await p.input(threeDays);
    await p.run();
    await p.input({ ...threeDays, 'events_20261030.json': day('20261030', 4) });
    const report = await p.run();
    expect(report.dates.map((d) => [d.date, d.status])).toEqual([['2026-10-30', 'published']]);
  });

  it('--date recomputes it with the late lines, and they stop waiting', async () => {
    const p = await project();
    await p.input(threeDays);
    await p.run();
    await p.input({ ...threeDays, 'late.json': [ev('page_view', { date: '20261101', user: 'late', session: 78 })] });
    expect((await p.run()).set_aside.map((s) => s.date)).toEqual(['2026-11-01']);
    const named = await p.run({ dates: ['2026-11-01'] });
    expect(named.dates.map((d) => [d.date, d.status])).toEqual([['2026-11-01', 'published']]);
    expect(await p.sessions('2026-11-01')).toBe(10);
    expect(await queryWarehouse(join(p.dir, 'state', 'warehouse.duckdb'), 'SELECT count(*)::INTEGER AS n FROM late_lines')).toEqual([{ n: 0 }]);
  });
});

describe('a republish that would shrink a date is withheld', () => {
  it('named with --date: withheld as a blocking failure naming the numbers; files, rows and staged events stay; --accept-shrink publishes it', async () => {
    const p = await project();
    await p.input(threeDays);
    await p.run();
    const before = await p.exported();
    await p.input({ 'stray.json': [ev('page_view', { date: '20261101', user: 'stray', session: 77 })] });
    const withheld = await p.run({ dates: ['2026-11-01'] });
    expect(withheld.dates.map((d) => [d.date, d.status])).toEqual([['2026-11-01', 'failed']]);
    expect(withheld.dates[0]!.assertion_failures).toEqual([
      expect.objectContaining({ assertion: 'sessions_shrink', blocking: true, sample: [{ date: '2026-11-01', published_sessions: 9, sessions: 1, change: '-88.9%', max_shrink_share: 0.2 }] }),
    ]);
    expect(await p.exported()).toEqual(before);
    expect(await p.sessions('2026-11-01')).toBe(9);
    const staged = await queryWarehouse(join(p.dir, 'state', 'warehouse.duckdb'), `SELECT count(*)::INTEGER AS n FROM stg_events WHERE event_date = DATE '2026-11-01'`);
    expect(staged).toEqual([{ n: 18 }]);
    const status = JSON.parse((await cli(['status', '--config', p.configFile, '--json'])).stdout) as { days: { date: string; status: string; last_error: string }[] };
    const state = status.days.find((d) => d.date === '2026-11-01');
    expect(state?.status).toBe('failed');
    expect(state?.last_error).toMatch(/^cart_funnel_daily\.sessions would fall from 9 to 1 \(-88\.9%\), more than guards\.max_shrink_share \(0\.2\): withheld; .*--accept-shrink$/);

    const accepted = await p.run({ dates: ['2026-11-01'], acceptShrink: true });
    expect(accepted.dates.map((d) => [d.date, d.status])).toEqual([['2026-11-01', 'published']]);
    expect(await p.sessions('2026-11-01')).toBe(1);
  });

  it('a run of several dates withholds only the shrunk one, and publishes the rest', async () => {
    const p = await project();
    await p.input(threeDays);
    await p.run();
    await p.input({ ...threeDays, 'events_20261102.json': day('20261102', 6) }); // 8 → 6: −25%
    const report = await p.run({ dates: ['2026-11-01', '2026-11-02', '2026-11-03'] });
    expect(report.dates.map((d) => [d.date, d.status])).toEqual([['2026-11-01', 'published'], ['2026-11-02', 'failed'], ['2026-11-03', 'published']]);
    expect(await p.sessions('2026-11-02')).toBe(8);
  });

  it('a provisional day that loses a file is withheld too, within the configured share', async () => {
    const p = await project('guards: { max_shrink_share: 0.5 }\n');
    const provisional = () => new Date('2026-11-02T12:00:00Z');
    await p.input({ 'a.json': day('20261101', 6), 'b.json': day('20261101', 4).map((l) => ({ ...(l as Record<string, unknown>), user_pseudo_id: `b${String((l as Record<string, unknown>).user_pseudo_id)}` })) });
    expect((await p.run({ now: provisional })).dates.map((d) => [d.date, d.status, d.final])).toEqual([['2026-11-01', 'published', false]]);
    await p.input({ 'b.json': day('20261101', 4) }); // a.json lost: 10 → 4 sessions, −60%
    const report = await p.run({ now: provisional });
    expect(report.dates.map((d) => [d.date, d.status])).toEqual([['2026-11-01', 'failed']]);
    expect(await p.sessions('2026-11-01')).toBe(10);
    await p.input({ 'a.json': day('20261101', 6) }); // 10 → 6: −40%, within 50%
    expect((await p.run({ now: provisional })).dates.map((d) => [d.date, d.status])).toEqual([['2026-11-01', 'published']]);
  });
});

describe('a date asked for without input', () => {
  it('a complete day re-run with --date and no input keeps its state and says why', async () => {
    const p = await project();
    await p.input(threeDays);
    await p.run();
    const files = await p.exported();
    await p.input({ 'events_20261104.json': day('20261104', 2) });
    const run = await cli(['run', '--config', p.configFile, '--date', '2026-11-01']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no events for 2026-11-01 in .*; 2026-11-01 keeps what was published/);
    const status = JSON.parse((await cli(['status', '--config', p.configFile, '--json'])).stdout) as { days: { date: string; status: string }[] };
    expect(status.days.find((d) => d.date === '2026-11-01')?.status).toBe('complete');
    expect(await p.exported()).toEqual(files);
  });

  it('an input with no readable date says so, with no empty date list', async () => {
    const p = await project();
    await p.input({ 'a.json': ['not json at all'] });
    await expect(p.run()).rejects.toThrow(/^no events in .* \(the input has no readable event\)$/);
  });
});

describe('alerts are sent after the warehouse is released', () => {
  it('a webhook that never answers neither holds the warehouse nor the run past its bound', async () => {
    // A webhook that takes the request and answers only when the test says so.
    let answer: () => void = () => undefined;
    let asked: () => void = () => undefined;
    const requested = new Promise<void>((resolve) => (asked = resolve));
    const server = createServer((_req, res) => {
      answer = () => res.writeHead(200).end();
      asked();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
    const p = await project(`alerts: { webhook_url: "${url}", retries: 0 }\nassertions:\n  - { model: cart_funnel_daily, kind: row, check: "sessions < 2" }\n`);
    await p.input(threeDays);
    try {
      const running = p.run({ dates: ['2026-11-01'] });
      await requested;
      // The run is waiting on the webhook: the warehouse is already free for another process.
      const instance = await DuckDBInstance.create(join(p.dir, 'state', 'warehouse.duckdb'));
      instance.closeSync();
      answer();
      expect((await running).dates.map((d) => d.status)).toEqual(['failed']);
    } finally {
      server.close();
    }
  });
});

describe('an alert is sent within a bounded time', () => {
  it('gives up on a webhook that never answers once totalMs is spent, whatever the retries', async () => {
    const { sendAlert } = await import('../src/ops/alerts.js');
    let requests = 0;
    const server = createServer(() => {
      requests += 1; // never answered
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
      const waits: number[] = [];
      const delivered = await sendAlert(url, { text: 't', days: [] }, { retries: 10, timeoutMs: 100, totalMs: 400, sleep: async (ms) => void waits.push(ms) });
      expect(delivered).toBe(false);
      // 10 retries at 100 ms each would take over a second: the bound stopped it first.
      expect(requests).toBeLessThan(11);
      expect(waits.reduce((a, b) => a + b, 0)).toBeLessThan(400);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
