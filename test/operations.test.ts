// Operations: due dates after an outage (injected clock), the run state, a backfill killed with
// SIGKILL and resumed, each day processed once.
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { runPipeline } from '../src/pipeline/run.js';
import { generateDemoExport } from '../src/sources/demo/generator.js';
import { DEMO_DEFAULTS } from '../src/config/schema.js';
import { cli } from './support/cli.js';
import { queryWarehouse, tempDir, writeConfig } from './support/pipeline.js';

let input: string;
beforeAll(async () => {
  input = join(await tempDir(), 'input');
  await generateDemoExport({ ...DEMO_DEFAULTS, outDir: input, days: 16, sessionsPerDay: 60 });
});

async function project() {
  const dir = await tempDir();
  const { symlink } = await import('node:fs/promises');
  await symlink(input, join(dir, 'input'));
  const config = await writeConfig(dir);
  return { dir, config, loaded: parseConfig(await readFile(config, 'utf8'), config) };
}

describe('due dates and run state', () => {
  it('after a 5-day outage a due run computes exactly the 5 missed days plus the provisional lookback', async () => {
    const { dir, loaded } = await project();
    const at = (iso: string) => () => new Date(iso);
    const first = await runPipeline({ loaded, due: true, now: at('2026-11-11T09:00:00Z') }); // 06:00 in São Paulo
    expect(first.dates.map((d) => d.date)).toEqual(['2026-11-08', '2026-11-09', '2026-11-10']);
    const afterOutage = await runPipeline({ loaded, due: true, now: at('2026-11-16T09:00:00Z') });
    expect(afterOutage.dates.map((d) => d.date)).toEqual(['2026-11-08', '2026-11-09', '2026-11-10', '2026-11-11', '2026-11-12', '2026-11-13', '2026-11-14', '2026-11-15']);
    const later = await runPipeline({ loaded, due: true, now: at('2026-11-16T20:00:00Z') });
    expect(later.dates.map((d) => d.date)).toEqual(['2026-11-13', '2026-11-14', '2026-11-15']);

    const status = await cli(['status', '--config', join(dir, 'cartlens.yaml'), '--json']);
    const state = JSON.parse(status.stdout) as { freshness: { last_complete_day: string }; days: { date: string; status: string; final: boolean }[] };
    expect(state.freshness.last_complete_day).toBe('2026-11-15');
    expect(state.days.map((d) => [d.date, d.status])).toEqual([
      ['2026-11-08', 'complete'], ['2026-11-09', 'complete'], ['2026-11-10', 'complete'], ['2026-11-11', 'complete'], ['2026-11-12', 'complete'],
      ['2026-11-13', 'provisional'], ['2026-11-14', 'provisional'], ['2026-11-15', 'provisional'],
    ]);
  });

  it('a day whose input is not there yet is deferred, not failed', async () => {
    const { dir, loaded } = await project();
    await expect(runPipeline({ loaded, due: true, now: () => new Date('2026-12-20T09:00:00Z') })).rejects.toThrow(/no events for/);
    const state = await queryWarehouse(join(dir, 'state', 'warehouse.duckdb'), `SELECT DISTINCT status FROM run_state`);
    expect(state).toEqual([{ status: 'deferred' }]);
  });
});

describe('backfill', () => {
  it('killed with SIGKILL on its 3rd day, a second call completes the range, each day processed once', async () => {
    const { dir, config } = await project();
    const range = ['--from', '2026-11-01', '--to', '2026-11-04'];
    const killed = await cli(['backfill', '--config', config, ...range], { env: { CARTLENS_CRASH_AT: 'before-commit:3' } });
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.stdout).toBe('2026-11-01  published\n2026-11-02  published\n');
    const resumed = await cli(['backfill', '--config', config, ...range]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('backfill: 2 day(s) to compute, 2 already complete');
    expect(resumed.stdout).toBe('2026-11-03  published\n2026-11-04  published\n');
    const runs = await queryWarehouse(join(dir, 'state', 'warehouse.duckdb'), `SELECT dates, count(*)::INTEGER AS n FROM runs GROUP BY dates ORDER BY dates`);
    expect(runs).toEqual(['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04'].map((dates) => ({ dates, n: 1 })));
    const again = await cli(['backfill', '--config', config, ...range]);
    expect(again.stderr).toContain('backfill: 0 day(s) to compute, 4 already complete');
    const forced = await cli(['backfill', '--config', config, '--from', '2026-11-01', '--to', '2026-11-01', '--force', '--parallel', '4']);
    expect(forced.stdout).toBe('2026-11-01  published\n');
    expect(forced.stderr).toContain('one at a time (duckdb has one writer)');
  });
});
