// alerts.on_restatement_above_pct (issue 23): a run that restates a date whose headline funnel
// metric moved by more than that share of the value the date was FIRST published with alerts the
// date as `revised`, naming the metrics; within the share, or without the key, nothing is sent.
import { createServer } from 'node:http';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import type { Alert } from '../src/ops/alerts.js';
import { runPipeline } from '../src/pipeline/run.js';
import { ConfigError } from '../src/util/errors.js';
import { ev, item, tempDir, writeConfig, writeInput, type Line } from './support/pipeline.js';

const DAY = '2026-11-03';
/** Each run an hour after the one before: run ids begin with their start, so they sort as the runs ran. */
const at = (hour: number) => () => new Date(`2026-11-20T${String(hour).padStart(2, '0')}:00:00Z`);

/** `sessions` sessions, each a cart of one item worth 10.00; the first `buyers` buy it. */
function day(sessions: number, buyers = 0): Line[] {
  const date = DAY.replaceAll('-', '');
  return Array.from({ length: sessions }, (_, s) => [
    ev('add_to_cart', { date, session: s + 1, user: `u${s}`, at: s * 10, items: [item('A')] }),
    ...(s < buyers ? [ev('purchase', { date, session: s + 1, user: `u${s}`, at: s * 10 + 1, items: [item('A')], ecommerce: { transaction_id: `T${s}`, purchase_revenue: 10 } })] : []),
  ]).flat();
}

/** A webhook that keeps every alert it receives (the run awaits the delivery: no waiting here). */
async function webhook() {
  const received: Alert[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk));
    req.on('end', () => {
      received.push(JSON.parse(body) as Alert);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, received, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('alerts.on_restatement_above_pct', () => {
  let hook: Awaited<ReturnType<typeof webhook>>;
  beforeAll(async () => {
    hook = await webhook();
  });
  afterAll(() => hook.close());

  async function project(alerts: string) {
    const dir = await tempDir();
    const configFile = await writeConfig(dir, `alerts: { webhook_url: "${hook.url}", on: [failed]${alerts} }\n`);
    const loaded = parseConfig(await readFile(configFile, 'utf8'), configFile);
    return async (hour: number, sessions: number, buyers = 0) => {
      await rm(join(dir, 'input'), { recursive: true, force: true });
      await writeInput(dir, { [`events_${DAY.replaceAll('-', '')}.json`]: day(sessions, buyers) });
      const before = hook.received.length;
      const report = await runPipeline({ loaded, now: at(hour), dates: [DAY] });
      return { report, alerts: hook.received.slice(before) };
    };
  }

  it('alerts a date whose headline metrics moved beyond the share since it was first published, not since the run before', async () => {
    const run = await project(', on_restatement_above_pct: 5');
    expect((await run(10, 20)).alerts).toEqual([]);
    // +5.0% exactly: not beyond. Restated, but nothing is sent.
    const within = await run(11, 21);
    expect(within.report.restatements.map((r) => r.table)).toContain('cart_funnel_daily');
    expect(within.alerts).toEqual([]);
    // 21 → 22 is +4.8% against the run before, but +10.0% against the 20 first published.
    const beyond = await run(12, 22);
    const funnel = beyond.report.restatements.find((r) => r.table === 'cart_funnel_daily')!;
    expect(funnel.changes.find((c) => c.column === 'sessions')).toEqual({ column: 'sessions', before: '21', after: '22' });
    const reason = 'sessions 20 → 22 (+10.0%), sessions_with_add_to_cart 20 → 22 (+10.0%), abandoned_carts 20 → 22 (+10.0%), abandoned_value 200.00 → 220.00 (+10.0%) since first published';
    expect(beyond.alerts).toEqual([{ text: `cartlens: 1 day(s) need attention: ${DAY} revised (${reason})`, days: [{ date: DAY, status: 'revised', reason }] }]);
    // The run report keeps its shape: no alert field in it.
    expect(Object.keys(beyond.report)).toEqual(Object.keys(within.report));

    // Purchases and revenue from 0: any change is beyond (no share of 0); abandoned carts and value,
    // now 21 and 210.00, are +5.0% from what was first published: not beyond; the rate is not watched.
    const bought = await run(13, 22, 1);
    expect(bought.report.restatements.find((r) => r.table === 'cart_funnel_daily')!.changes.map((c) => c.column)).toEqual(expect.arrayContaining(['abandoned_carts', 'cart_abandonment_rate', 'abandoned_value']));
    expect(bought.alerts.map((a) => a.days)).toEqual([[{ date: DAY, status: 'revised', reason: 'purchases 0 → 1, revenue 0.00 → 10.00 since first published' }]]);
    // The same files again: nothing restated, nothing sent.
    expect((await run(14, 22, 1)).alerts).toEqual([]);
  });

  it('without the key, a restatement sends nothing', async () => {
    const run = await project('');
    await run(10, 20);
    const restated = await run(11, 40);
    expect(restated.report.restatements).not.toEqual([]);
    expect(restated.alerts).toEqual([]);
  });

  it('the key must be a number above 0; an error names it', () => {
    const parse = (value: string) => () => parseConfig(`source: { type: ga4-export-files, path: "in/*.json" }\nalerts: { webhook_url: "https://hooks.example/x", on_restatement_above_pct: ${value} }\n`, '/tmp/cartlens.yaml');
    for (const bad of ['0', '-5', '"5%"']) {
      expect(parse(bad), bad).toThrow(ConfigError);
      expect(parse(bad), bad).toThrow(/alerts\.on_restatement_above_pct/);
    }
    expect(parse('0.5')().config.alerts?.on_restatement_above_pct).toBe(0.5);
  });
});
