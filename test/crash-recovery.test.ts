// kill -9 of a real child process at each stage of a run: the previous state of the date stays
// whole, and the next run completes it to exactly what an uninterrupted run gives, sweeping the
// temporary files the killed run left. A date's completion marker is there only when its files
// are one run's set.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './support/cli.js';
import { ev, item, listFiles, queryWarehouse, tempDir, writeConfig, writeInput } from './support/pipeline.js';

const D = '2026-11-01';
const dayV1 = [ev('add_to_cart', { items: [item('A')] }), ev('page_view', { session: 2 })];
const dayV2 = [...dayV1, ev('add_to_cart', { session: 3, items: [item('B', { price: 7 })] }), ev('purchase', { session: 2, ecommerce: { transaction_id: 'T9', purchase_revenue: 3 } })];

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * The published files but the run's own records (run report, completion marker: they name the
 * run); report.html with its revision section (it names the runs of a republished date) taken out.
 */
async function exportsDigest(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const file of await listFiles(join(dir, 'exports'))) {
    if (file.startsWith('run_report') || file.startsWith('_SUCCESS')) continue;
    const bytes = await readFile(join(dir, 'exports', file));
    out[file] = sha256(file.endsWith('report.html') ? Buffer.from(withoutRevision(bytes.toString('utf8'))) : bytes);
  }
  return out;
}

/** report.html as a date published once draws it: without the revised mark and its section. */
function withoutRevision(html: string): string {
  return html.replace(/ <span class="mark revised"[^>]*>[^<]*<\/span>/, '').replace(/<section class="revision"[\s\S]*?<\/section>\n?/, '').replace(/\n\.mark \{[^\n]*\n\.mark\.revised[^\n]*\n/, '\n');
}

/** The date's completion marker, if any, and whether each file it names has the SHA-256 it says. */
async function marker(dir: string): Promise<{ matches: boolean[] } | undefined> {
  const text = await readFile(join(dir, 'exports', '_SUCCESS', `dt=${D}.json`), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const { files } = JSON.parse(text) as { files: { path: string; sha256: string }[] };
  return { matches: await Promise.all(files.map(async (f) => sha256(await readFile(join(dir, 'exports', f.path))) === f.sha256)) };
}

async function funnel(dir: string) {
  return queryWarehouse(join(dir, 'state', 'warehouse.duckdb'), `SELECT sessions, abandoned_carts, purchases FROM cart_funnel_daily WHERE date = DATE '${D}'`);
}

describe('a run killed with SIGKILL', async () => {
  // What an uninterrupted run on the new input publishes.
  const clean = await tempDir();
  await writeInput(clean, { 'events_20261101.json': dayV2 });
  await writeConfig(clean);
  const cleanRun = await cli(['run', '--config', join(clean, 'cartlens.yaml')]);
  const expected = cleanRun.code === 0 ? await exportsDigest(clean) : {};

  for (const point of ['after-landing', 'after-staging', 'before-commit', 'mid-export', 'before-rename'] as const) {
    const afterCommit = point === 'mid-export' || point === 'before-rename';
    it(`at ${point} leaves the date whole and the next run completes it`, async () => {
      expect(cleanRun.code, cleanRun.stderr).toBe(0);
      const dir = await tempDir();
      await writeConfig(dir);
      await writeInput(dir, { 'events_20261101.json': dayV1 });
      expect((await cli(['run', '--config', join(dir, 'cartlens.yaml')])).code).toBe(0);
      const before = await funnel(dir);
      expect(before).toEqual([{ sessions: '2', abandoned_carts: '1', purchases: '0' }]);

      await writeInput(dir, { 'events_20261101.json': dayV2 });
      // The day is final and published: only a run that names it recomputes it (published-guards.ts).
      const killed = await cli(['run', '--config', join(dir, 'cartlens.yaml'), '--date', D], { env: { CARTLENS_CRASH_AT: point } });
      expect(killed.signal).toBe('SIGKILL');
      // Up to the commit nothing of the new input is visible; after it, all of it is.
      expect(await funnel(dir)).toEqual(afterCommit ? [{ sessions: '3', abandoned_carts: '2', purchases: '1' }] : before);
      // Killed while publishing, the date's set is not whole: its marker is gone, readers wait.
      expect(await marker(dir)).toEqual(afterCommit ? undefined : { matches: [true, true, true, true] });
      if (point === 'before-rename') expect((await listFiles(join(dir, 'exports'))).filter((f) => /\.tmp-\d+$/.test(f))).toHaveLength(1);

      // Killed after its commit, the date is unfinished: a run that names no dates redoes it too.
      const rerun = await cli(['run', '--config', join(dir, 'cartlens.yaml'), ...(afterCommit ? [] : ['--date', D])]);
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(await funnel(dir)).toEqual([{ sessions: '3', abandoned_carts: '2', purchases: '1' }]);
      expect(await exportsDigest(dir)).toEqual(expected);
      // The date was published before with other numbers: its report says it was revised.
      expect(await readFile(join(dir, 'exports', 'report', `dt=${D}`, 'report.html'), 'utf8')).toContain('data-mark="revised"');
      expect((await listFiles(join(dir, 'exports'))).filter((f) => f.includes('.tmp-'))).toEqual([]);
      expect(await marker(dir)).toEqual({ matches: [true, true, true, true] });
      const counts = await queryWarehouse(join(dir, 'state', 'warehouse.duckdb'), `SELECT count(*)::INTEGER AS n FROM stg_events`);
      expect(counts[0]!.n).toBe(dayV2.length);
    });
  }
});
