// A corrupt date already in the warehouse (issue 11, item 4): `run --due`, `status` and the
// dashboard stay up; undated quarantined lines are purged with their run (item 7); run history
// survives an edit of source.path.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig, type LoadedConfig } from '../src/config/load.js';
import { dashboardOptions } from '../src/dashboard/options.js';
import { startDashboard } from '../src/dashboard/server.js';
import { readDays } from '../src/pipeline/run-state.js';
import { runPipeline } from '../src/pipeline/run.js';
import { createSource } from '../src/sources/index.js';
import { runStateKeys } from '../src/sources/source.js';
import { dialectFor, openWarehouse } from '../src/warehouse/index.js';
import { cli } from './support/cli.js';
import { ev, executeOnWarehouse, queryWarehouse, tempDir, writeConfig, writeInput } from './support/pipeline.js';

const at = (iso: string) => () => new Date(iso);

async function project(extra = ''): Promise<{ dir: string; config: string; loaded: LoadedConfig; warehouse: string }> {
  const dir = await tempDir();
  await writeInput(dir, { 'a.json': [ev('page_view'), ev('add_to_cart', { at: 10 })] });
  const config = await writeConfig(dir, extra);
  return { dir, config, loaded: parseConfig(await readFile(config, 'utf8'), config), warehouse: join(dir, 'state', 'warehouse.duckdb') };
}


describe('a corrupt date in the warehouse (9999-12-31)', () => {
  it('run --due, status and the dashboard stay up, and say what is real', async () => {
    const { config, loaded, warehouse } = await project('freshness: { warn_days_behind: 1, error_days_behind: 100000 }\n');
    await runPipeline({ loaded, dates: ['2026-11-01'], now: at('2026-11-02T09:00:00Z') });
    // As an unchecked event_date once published it: a day in run_state and in the published tables.
    await executeOnWarehouse(
      warehouse,
      `INSERT INTO run_state SELECT * REPLACE (DATE '9999-12-31' AS date) FROM run_state WHERE date = DATE '2026-11-01';
       INSERT INTO cart_funnel_daily BY NAME SELECT * REPLACE (DATE '9999-12-31' AS date) FROM cart_funnel_daily WHERE date = DATE '2026-11-01';`,
    );

    // Due on the 3rd (06:00 in São Paulo): the lookback, as if 9999-12-31 were not there.
    const due = await runPipeline({ loaded, due: true, now: at('2026-11-03T09:00:00Z') });
    expect(due.dates.map((d) => d.date)).toEqual(['2026-11-01']);
    expect(due.missing_dates).toEqual(['2026-10-31', '2026-11-02']);

    // status: the last real day, behind the machine's yesterday; the corrupt day named, not counted.
    const status = await cli(['status', '--config', config, '--json']);
    const state = JSON.parse(status.stdout) as { freshness: { last_complete_day: string; days_late: number; level: string; days_after_yesterday: string[] } };
    expect(state.freshness.last_complete_day).toBe('2026-11-01');
    expect(state.freshness.days_after_yesterday).toEqual(['9999-12-31']);
    expect(state.freshness.days_late).toBeGreaterThan(1);
    expect(state.freshness.level).toBe('warn');
    expect(status.code).toBe(3);
    const text = await cli(['status', '--config', config]);
    expect(text.stdout).toMatch(/warning: 1 day\(s\) recorded after yesterday \(9999-12-31\)/);
    expect(text.stdout).toMatch(/last day done: 2026-11-01 \(\d+ day\(s\) behind yesterday, .*\) — warning: more than 1 day\(s\) behind \(freshness\.warn_days_behind\)/);

    const dashboard = await startDashboard(dashboardOptions(loaded, { port: 0 }));
    try {
      const page = await fetch(`${dashboard.url}api/dashboard.json`);
      expect(page.status).toBe(200);
      expect(((await page.json()) as { available: { last: string } }).available.last).toBe('2026-11-01');
      for (const query of ['?to=9999-12-31', '?from=0000-01-01', '?from=0000-01-01&to=0000-01-07', '?from=9999-12-25&to=9999-12-31']) {
        const bad = await fetch(`${dashboard.url}${query}`);
        expect(bad.status, query).toBe(400);
        expect(await bad.text(), query).toMatch(/^400: (from|to)=\d{4}-\d{2}-\d{2} is outside 2000-01-01 … 2099-12-31 — choose a date in that window/);
      }
      // The earliest day handled, as the end of a default week: the week is cut at its start.
      expect((await fetch(`${dashboard.url}?to=2000-01-03`)).status).toBe(200);
    } finally {
      await dashboard.close();
    }
  }, 60_000);

  it('status exits 4 past freshness.error_days_behind, and with no day done', async () => {
    const { config, loaded } = await project();
    const empty = await cli(['status', '--config', config]);
    expect(empty.code).toBe(4);
    expect(empty.stdout).toContain('no day done yet — error');
    await runPipeline({ loaded, dates: ['2026-11-01'], now: at('2026-11-02T09:00:00Z') });
    const stale = await cli(['status', '--config', config, '--json']);
    expect(stale.code).toBe(4);
    expect(JSON.parse(stale.stdout)).toMatchObject({ freshness: { level: 'error', warn_days_behind: 1, error_days_behind: 3 } });
  }, 60_000);
});

describe('retention of undated quarantined lines', () => {
  it('purges them with the run that landed them, once that run is older than quarantine_days', async () => {
    const { dir, loaded, warehouse } = await project('retention: { landed_days: 30, quarantine_days: 20, staged_days: 90 }\n');
    await writeInput(dir, { 'a.json': [ev('page_view'), 'not json, and no date'] });
    const first = await runPipeline({ loaded, now: at('2026-11-02T09:00:00Z') });
    const undated = () => queryWarehouse(warehouse, `SELECT run_id FROM quarantined_events WHERE event_date IS NULL ORDER BY run_id`);
    expect(await undated()).toEqual([{ run_id: first.run_id }]);

    // 10 days later: within quarantine_days, it stays.
    // Other files (a file's undated lines are replaced whenever the file is read again).
    await rm(join(dir, 'input'), { recursive: true });
    await writeInput(dir, { 'b.json': [ev('page_view', { date: '20261111' }), 'another line without a date'] });
    const second = await runPipeline({ loaded, now: at('2026-11-12T09:00:00Z') });
    expect((await undated()).map((r) => r.run_id)).toEqual([first.run_id, second.run_id].sort());

    // 25 days after the first run: its undated line goes, the second run's stays.
    await rm(join(dir, 'input'), { recursive: true });
    await writeInput(dir, { 'c.json': [ev('page_view', { date: '20261126' })] });
    await runPipeline({ loaded, now: at('2026-11-27T09:00:00Z') });
    expect(await undated()).toEqual([{ run_id: second.run_id }]);
  }, 60_000);
});

describe('run history', () => {
  it('is keyed on the input folder, not the glob text: editing source.path keeps status and --due', async () => {
    const { config, loaded } = await project();
    await runPipeline({ loaded, dates: ['2026-11-01'], now: at('2026-11-10T09:00:00Z') });
    await writeFile(config, (await readFile(config, 'utf8')).replace('path: "input/*.json*"', 'path: "./input/a.json"'));
    const edited = parseConfig(await readFile(config, 'utf8'), config);
    const days = await daysOf(edited);
    expect(days.map((d) => [d.date, d.status])).toEqual([['2026-11-01', 'complete']]);
    expect(days[0]!.source).toBe('ga4-export-files:input');
  }, 60_000);

  it('reads rows recorded under the old key (the glob text), and moves a day to the new key when it is recorded again', async () => {
    const { loaded, warehouse } = await project();
    await runPipeline({ loaded, dates: ['2026-11-01'], now: at('2026-11-10T09:00:00Z') });
    const source = createSource(loaded.config.source, loaded.baseDir);
    // As an earlier release recorded it.
    await executeOnWarehouse(warehouse, `UPDATE run_state SET source = 'GA4 export files input/*.json*'`);
    expect(source.description).toBe('GA4 export files input/*.json*');
    expect((await daysOf(loaded)).map((d) => [d.date, d.status, d.source])).toEqual([['2026-11-01', 'complete', 'GA4 export files input/*.json*']]);
    await runPipeline({ loaded, dates: ['2026-11-01'], now: at('2026-11-10T09:00:00Z') });
    expect(await queryWarehouse(warehouse, `SELECT source, strftime(date, '%Y-%m-%d') AS date FROM run_state ORDER BY ALL`)).toEqual([{ source: 'ga4-export-files:input', date: '2026-11-01' }]);
  }, 60_000);
});

async function daysOf(loaded: LoadedConfig) {
  const warehouse = await openWarehouse(loaded.config.warehouse, dialectFor(loaded.config.warehouse));
  try {
    await warehouse.prepareSchema();
    return await readDays(warehouse, runStateKeys(createSource(loaded.config.source, loaded.baseDir)));
  } finally {
    await warehouse.close();
  }
}
