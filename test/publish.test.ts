// `cartlens publish`: the files of tables built outside the run (Dataform builds them in the
// designed upgrade), with the blocking assertions first, as a full run publishes them.
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { runPipeline } from '../src/pipeline/run.js';
import { cli } from './support/cli.js';
import { ev, item, listFiles, tempDir, writeConfig, writeInput } from './support/pipeline.js';

const D = '2026-11-01';

async function builtProject(extra = '') {
  const dir = await tempDir();
  await writeInput(dir, {
    'a.json': [ev('add_to_cart', { items: [item('A')] }), ev('view_item', { session: 2, items: [item('B')] }), ev('page_view', { date: '20261102' })],
  });
  const file = await writeConfig(dir, extra);
  const loaded = parseConfig(await readFile(file, 'utf8'), file);
  await runPipeline({ loaded });
  return { dir, file, loaded };
}

/** Every published file of a date (CSVs, manifests), path → bytes; the marker and reports name their run. */
async function publishedOf(dir: string, date: string): Promise<Record<string, string>> {
  const files = (await listFiles(join(dir, 'exports'))).filter((f) => f.includes(`dt=${date}/`) && !f.startsWith('report/') && !f.startsWith('run_report/'));
  return Object.fromEntries(await Promise.all(files.map(async (f) => [f, await readFile(join(dir, 'exports', f), 'utf8')] as const)));
}

describe('cartlens publish', () => {
  it('writes the same files as the run that built the tables, from the tables alone', async () => {
    const { dir, loaded } = await builtProject();
    const before = await publishedOf(dir, D);
    expect(Object.keys(before).length).toBe(8);
    await rm(join(dir, 'exports'), { recursive: true });
    // The input is gone too: nothing is read but the warehouse.
    await rm(join(dir, 'input'), { recursive: true });
    const report = await runPipeline({ loaded, dates: [D], mode: 'publish' });
    expect(report.dates.map((d) => [d.date, d.status])).toEqual([[D, 'published']]);
    expect(await publishedOf(dir, D)).toEqual(before);
    expect(existsSync(join(dir, 'exports', '_SUCCESS', `dt=${D}.json`))).toBe(true);
    expect(existsSync(join(dir, 'exports', 'report', `dt=${D}`, 'report.html'))).toBe(true);
    expect(existsSync(join(dir, 'exports', 'cart_funnel_daily', 'dt=2026-11-02'))).toBe(false); // only the date asked for
  });

  it('runs the blocking assertions first and withholds a failing date, exit 1', async () => {
    const { dir, file } = await builtProject('assertions: [{ model: cart_funnel_daily, kind: row, check: "sessions > 5" }]\n');
    await rm(join(dir, 'exports'), { recursive: true });
    const result = await cli(['publish', '--config', file, '--date', D]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`error: ${D}: assertion cart_funnel_daily__row_\\d+ failed on 1 row\\(s\\) — the date's files were withheld`));
    expect(existsSync(join(dir, 'exports', 'cart_funnel_daily', `dt=${D}`))).toBe(false);
  });

  it('says which dates have nothing built, exit 1', async () => {
    const { file } = await builtProject();
    const result = await cli(['publish', '--config', file, '--from', D, '--to', '2026-11-03']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error: nothing built for 2026-11-03 — build those dates first/);
    expect((await cli(['publish', '--config', file])).stderr).toMatch(/publish needs the dates to publish/);
  });
});
