// cart_recoveries reads other dates, so the order of runs must not matter (issue 22): one run over
// every date, one date at a time oldest first, newest first, and a late file for an old date with
// the dates after it re-run — each gives the same files, byte for byte. A re-run reaches forward:
// the published dates that can recover its carts get their files again.
import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { DEMO_DEFAULTS } from '../src/config/schema.js';
import { runPipeline } from '../src/pipeline/run.js';
import { generateDemoExport } from '../src/sources/demo/generator.js';
import { listFiles, tempDir, writeConfig } from './support/pipeline.js';

const DAYS = 5;
const DATES = Array.from({ length: DAYS }, (_, i) => `2026-11-0${i + 1}`);
const LATE_DATE = DATES[1]!;

/** A project over the same demo input (a late day split in two files, as the late file scenario ends). */
async function project(): Promise<{ dir: string; run: (dates?: string[]) => Promise<void> }> {
  const dir = await tempDir('cartlens-recovery-');
  await generateDemoExport({ ...DEMO_DEFAULTS, outDir: join(dir, 'input'), days: DAYS, sessionsPerDay: 300, dirtyRate: 0.01 });
  await splitLateFile(dir);
  // Staged events outlive the fixed November 2026 days on any clock (the suite runs under faketime too).
  const file = await writeConfig(dir, 'retention: { staged_days: 36500 }\n');
  const loaded = parseConfig(await readFile(file, 'utf8'), file);
  return { dir, run: async (dates) => void (await runPipeline({ loaded, ...(dates ? { dates } : {}) })) };
}

/** The last third of LATE_DATE's lines move to a file of their own, sorted after it (the late file). */
async function splitLateFile(dir: string): Promise<void> {
  const path = join(dir, 'input', `events_${LATE_DATE.replaceAll('-', '')}.json.gz`);
  const lines = gunzipSync(await readFile(path)).toString('utf8').split('\n').filter(Boolean);
  const cut = Math.floor((lines.length * 2) / 3);
  await writeFile(path, gzipSync(`${lines.slice(0, cut).join('\n')}\n`));
  await writeFile(`${path.replace('.json.gz', '')}_late.json.gz`, gzipSync(`${lines.slice(cut).join('\n')}\n`));
}

/** Every published CSV, path → SHA-256. */
async function csvs(dir: string): Promise<Record<string, string>> {
  const root = join(dir, 'exports');
  const files = (await listFiles(root)).filter((f) => f.endsWith('.csv'));
  return Object.fromEntries(await Promise.all(files.map(async (f) => [f, createHash('sha256').update(await readFile(join(root, f))).digest('hex')] as const)));
}

let baseline: Record<string, string>;
/** Rows of the one-run files whose cart is of an earlier date than its purchase. */
let crossDayRows = 0;

beforeAll(async () => {
  const all = await project();
  await all.run();
  baseline = await csvs(all.dir);
  for (const date of DATES) {
    const text = await readFile(join(all.dir, 'exports', 'cart_recoveries', `dt=${date}`, `cart_recoveries_${date.replaceAll('-', '')}.csv`), 'utf8');
    crossDayRows += text.split('\n').slice(1).filter((line) => line && line.split(',')[1]! < date).length;
  }
});

describe('cart_recoveries: any order of runs gives the same files', () => {
  it('the one-run files recover carts of earlier dates, and every date has its file', async () => {
    expect(Object.keys(baseline).filter((f) => f.startsWith('cart_recoveries/'))).toHaveLength(DAYS);
    expect(crossDayRows).toBeGreaterThanOrEqual(3);
  });

  it('one date at a time, oldest first', async () => {
    const { dir, run } = await project();
    for (const date of DATES) await run([date]);
    expect(await csvs(dir)).toEqual(baseline);
  });

  it('one date at a time, newest first', async () => {
    const { dir, run } = await project();
    for (const date of [...DATES].reverse()) await run([date]);
    expect(await csvs(dir)).toEqual(baseline);
  });

  it('a late file for an old date, then that date and the ones after it re-run (the lookback)', async () => {
    const { dir, run } = await project();
    const late = join(dir, 'input', `events_${LATE_DATE.replaceAll('-', '')}_late.json.gz`);
    await rename(late, `${late}.waiting`);
    await run();
    const before = await csvs(dir);
    await rename(`${late}.waiting`, late);
    await run(DATES.slice(1));
    const after = await csvs(dir);
    expect(after).toEqual(baseline);
    // The late lines changed the late date's carts, and so the recoveries of later dates.
    const changed = Object.keys(after).filter((f) => f.startsWith('cart_recoveries/') && after[f] !== before[f]);
    expect(changed.some((f) => f > `cart_recoveries/dt=${LATE_DATE}`)).toBe(true);
  });
});
