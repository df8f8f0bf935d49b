// The plan is what runs (issue 21): `planRun` lists a run's typed steps, `runPipeline` executes
// exactly those, in order, and records each in its report (`steps`); `cartlens plan` prints them.
// One test per mode and way of choosing dates; extract mode's are in extract.test.ts (BigQuery).
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type LoadedConfig } from '../src/config/load.js';
import { planRun, type RunAsk } from '../src/pipeline/plan.js';
import { runPipeline, type RunRequest } from '../src/pipeline/run.js';
import { cli } from './support/cli.js';
import { expectRanAsPlanned } from './support/plan.js';
import { ev, item, tempDir, writeConfig, writeInput } from './support/pipeline.js';

const D1 = '2026-11-01';
const D2 = '2026-11-02';
let webhook: Server;
let webhookUrl: string;
const alerts: unknown[] = [];

beforeAll(async () => {
  webhook = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      alerts.push(JSON.parse(body));
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(webhook.address() as { port: number }).port}/hook`;
});

afterAll(() => new Promise<void>((resolve) => webhook.close(() => resolve())));

async function project(extra = ''): Promise<{ dir: string; file: string; loaded: LoadedConfig }> {
  const dir = await tempDir();
  await writeInput(dir, {
    'a.json': [ev('add_to_cart', { items: [item('A')] }), ev('view_item', { session: 2, items: [item('B')] }), ev('page_view', { date: '20261102' })],
  });
  const file = await writeConfig(dir, extra);
  return { dir, file, loaded: parseConfig(await readFile(file, 'utf8'), file) };
}

/** Plans and runs the same request, and holds the executed steps to the plan's. */
async function planAndRun(request: RunRequest, skipped: Record<string, RegExp> = {}) {
  const ask: RunAsk = { mode: request.mode ?? 'run', dates: request.dates, due: request.due };
  const plan = await planRun(request.loaded, ask);
  const report = await runPipeline(request);
  expectRanAsPlanned(plan, report, skipped);
  return { plan, report };
}

describe('the plan is what runs', () => {
  it('run, every date found: extract, land, stage, load, each model and assertion, commit, publish, anomalies, record, report', async () => {
    const { loaded } = await project();
    const { plan, report } = await planAndRun({ loaded }, { republish: /no published date is reached/ });
    const kinds = [...new Set(plan.steps.map((s) => s.kind))];
    expect(kinds).toEqual(['open', 'retention', 'extract', 'land', 'stage', 'user-key', 'load', 'model', 'assert', 'commit', 'publish', 'republish', 'anomalies', 'record', 'report']);
    expect(plan.steps.filter((s) => s.kind === 'model').length).toBe(plan.models.length);
    expect(plan.steps.filter((s) => s.kind === 'assert').length).toBe(plan.assertions.length);
    expect(report.dates.map((d) => d.date)).toEqual([D1, D2]);
    // Every step took its time in the run's order, none more than the run itself.
    const wall = (Date.parse(report.finished_at) - Date.parse(report.started_at)) / 1000;
    expect(report.steps.reduce((sum, s) => sum + s.seconds, 0)).toBeLessThanOrEqual(wall + 0.01);
  });

  it('run, named dates: one publish step per date; a date without input is skipped, saying why', async () => {
    const { loaded } = await project();
    const { report } = await planAndRun({ loaded, dates: [D1, '2026-11-03'] }, { 'publish 2026-11-03': /deferred: no events in the input yet/, republish: /no published date is reached/ });
    expect(report.steps.filter((s) => s.kind === 'publish').map((s) => [s.name, s.status])).toEqual([
      [`publish ${D1}`, 'done'],
      ['publish 2026-11-03', 'skipped'],
    ]);
  });

  it('run --due, with alerts: the due dates are found when the run state is read, and the alert step sends', async () => {
    const { loaded } = await project(`alerts: { webhook_url: "${webhookUrl}", on: [deferred], retries: 0 }\nproperty: { time_zone: UTC, lookback_days: 3 }\n`);
    alerts.length = 0;
    // "Today" is 2026-11-04: due 2026-11-01 … 03; the input has no 2026-11-03, which is deferred.
    const { plan, report } = await planAndRun({ loaded, due: true, now: () => new Date('2026-11-04T12:00:00Z') }, { republish: /no published date is reached/ });
    expect(plan.steps.map((s) => s.kind)).toContain('alert');
    expect(report.deferred_dates.length + report.missing_dates.length).toBe(1);
    expect(alerts.length).toBe(1);
  });

  it('publish: no extract, load or model; the assertions, then the files', async () => {
    const { loaded } = await project();
    await runPipeline({ loaded });
    const { plan } = await planAndRun({ loaded, dates: [D1], mode: 'publish' });
    expect(plan.steps.map((s) => s.kind).filter((k) => ['extract', 'land', 'load', 'model', 'user-key'].includes(k))).toEqual([]);
  });

  it('`cartlens plan` prints the steps the run executes, in order', async () => {
    const { file, loaded } = await project();
    const printed = await cli(['plan', '-c', file, '--date', D1]);
    expect(printed.code, printed.stderr).toBe(0);
    const names = printed.stdout.split('\n').slice(1).filter(Boolean).map((line) => line.replace(/^\s*\d+\.\s+/, '').split(/\s{2,}/)[0]);
    const report = await runPipeline({ loaded, dates: [D1] });
    expect(names).toEqual(report.steps.map((s) => s.name));
    const published = join(loaded.baseDir, 'exports', '_SUCCESS', `dt=${D1}.json`);
    expect(JSON.parse(await readFile(published, 'utf8')).run_id).toBe(report.run_id);
  });
});
