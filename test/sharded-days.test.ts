// GA4's exports to Cloud Storage come as many files a day. Every pass of the ingest reads all of a
// run's files in one statement (src/warehouse/duckdb/ingest.ts), so a day split into files must
// publish exactly what the day as one file publishes: same bytes, same counts, same quarantine,
// duplicates found across files, and each quarantined line named by its own file and line.
import { readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { runPipeline } from '../src/pipeline/run.js';
import { DEMO_DEFAULTS } from '../src/config/schema.js';
import { generateDemoExport } from '../src/sources/demo/generator.js';
import { SILENT_PROGRESS, type RunProgress } from '../src/pipeline/progress.js';
import { ev, resultFor, tempDir, writeConfig, type RunResult } from './support/pipeline.js';

const DATE = '2026-11-01';
const TABLES = ['cart_funnel_daily', 'abandoned_carts', 'cart_items_daily'];

async function runFiles(files: Record<string, Buffer>, progress?: RunProgress): Promise<RunResult> {
  const dir = await tempDir();
  await mkdir(join(dir, 'input'), { recursive: true });
  for (const [name, body] of Object.entries(files)) await writeFile(join(dir, 'input', name), body);
  const configFile = await writeConfig(dir);
  const report = await runPipeline({ loaded: parseConfig(await readFile(configFile, 'utf8'), configFile), dates: [DATE], ...(progress ? { progress } : {}) });
  return resultFor(dir, report);
}

/** The run's progress lines (what the CLI prints), to see which files needed a scratch copy. */
function progressLines(): { lines: string[]; progress: RunProgress } {
  const lines: string[] = [];
  return { lines, progress: { ...SILENT_PROGRESS, step: (message) => lines.push(message) } };
}

describe('a day written as many files', () => {
  it('publishes the same bytes as the day as one file, with duplicates found across files and bad lines named by file and line', async () => {
    const gen = await tempDir();
    await generateDemoExport({ ...DEMO_DEFAULTS, outDir: gen, days: 1, sessionsPerDay: 400 });
    const lines = gunzipSync(await readFile(join(gen, 'events_20261101.json.gz'))).toString('utf8').split('\n').filter((l) => l !== '');
    await rm(gen, { recursive: true });
    // Dirty lines spread over the day: a cut line, a line that is not JSON, a byte-identical copy
    // far from its original (it lands in another file), and a blank line.
    const dirty = [...lines];
    dirty.splice(150, 0, dirty[10]!.slice(0, 40));
    dirty.splice(700, 0, 'not json at all');
    dirty.splice(1900, 0, dirty[5]!);
    dirty.splice(1200, 0, '');
    const whole = `${dirty.join('\n')}\n`;

    const one = await runFiles({ 'events_20261101.json.gz': gzipSync(whole) });
    // GA4's own naming for a sharded day; one shard is CRLF, one is not gzipped, one is empty.
    const shards: Record<string, Buffer> = {};
    const per = Math.ceil(dirty.length / 7);
    for (let shard = 0; shard < 7; shard++) {
      const part = dirty.slice(shard * per, (shard + 1) * per);
      const text = part.map((l) => `${l}${shard === 2 ? '\r\n' : '\n'}`).join('');
      const name = `events_20261101_${String(shard).padStart(12, '0')}.json${shard === 4 ? '' : '.gz'}`;
      shards[name] = shard === 4 ? Buffer.from(text) : gzipSync(text);
    }
    shards['events_20261101_000000000099.json.gz'] = Buffer.alloc(0);
    const many = await runFiles(shards);

    for (const table of TABLES) expect(await many.csvText(table, DATE), table).toBe(await one.csvText(table, DATE));
    const quality = (r: RunResult) => r.report.dates.find((d) => d.date === DATE)!.quality;
    expect(quality(many)).toEqual(quality(one));
    // Every byte-identical copy after the first, the one placed in another file included.
    const nonBlank = dirty.filter((l) => l.trim() !== '');
    expect(quality(one).duplicates + one.report.undated.duplicates).toBe(nonBlank.length - new Set(nonBlank).size);
    expect(many.report.undated).toEqual(one.report.undated);
    expect(many.report.files).toHaveLength(8);
    expect(many.report.files.reduce((sum, f) => sum + f.lines, 0)).toBe(dirty.length);

    // Each kept bad line is found again at its own file and line, with its exact text.
    const kept = (r: RunResult) =>
      r.query(`SELECT source_file, line_no, raw_line FROM quarantined_events WHERE raw_line IN ('not json at all', ${`'${dirty[150]!.replaceAll("'", "''")}'`}) ORDER BY source_file, line_no`);
    expect((await kept(one)).map((r) => [r.line_no, r.raw_line])).toEqual([['151', dirty[150]], ['701', 'not json at all']]);
    const shardOf = (index: number) => ({ file: Math.floor(index / per), line: (index % per) + 1 });
    expect(await kept(many)).toEqual(
      [150, 700].map((index) => ({
        source_file: expect.stringContaining(`events_20261101_${String(shardOf(index).file).padStart(12, '0')}.json`),
        line_no: String(shardOf(index).line),
        raw_line: dirty[index],
      })),
    );
  });

  it('reads every file as landed but the one with a cut line: a day of 64 files whose only cut line is in the last takes the scratch copy for that file alone', async () => {
    const gen = await tempDir();
    await generateDemoExport({ ...DEMO_DEFAULTS, dirtyRate: 0, outDir: gen, days: 1, sessionsPerDay: 200 });
    const lines = gunzipSync(await readFile(join(gen, 'events_20261101.json.gz'))).toString('utf8').split('\n').filter((l) => l !== '');
    await rm(gen, { recursive: true });
    // The cut line near the end of the day, followed by a valid line that must not be lost.
    const dirty = [...lines];
    const cut = dirty.length - 3;
    dirty.splice(cut, 0, dirty[7]!.slice(0, 60));
    const name = (shard: number) => `events_20261101_${String(shard).padStart(12, '0')}.json.gz`;
    const per = Math.ceil(dirty.length / 64);
    const shards: Record<string, Buffer> = {};
    for (let shard = 0; shard < 64; shard++) shards[name(shard)] = gzipSync(dirty.slice(shard * per, (shard + 1) * per).map((l) => `${l}\n`).join(''));
    const seen = progressLines();
    const many = await runFiles(shards, seen.progress);
    const copied = seen.lines.filter((line) => line.startsWith('read from a scratch copy'));
    expect(copied).toEqual([expect.stringMatching(new RegExp(`^read from a scratch copy, 1 line\\(s\\) blanked out for the JSON reader: \\S+/input/${name(63).replaceAll('.', '\\.')}$`))]);

    // Exactly what the day as one file publishes (that file takes the scratch copy), and the
    // same without the cut line but for its one quarantined line.
    const seenOne = progressLines();
    const one = await runFiles({ 'events_20261101.json.gz': gzipSync(`${dirty.join('\n')}\n`) }, seenOne.progress);
    expect(seenOne.lines.filter((line) => line.startsWith('read from a scratch copy'))).toHaveLength(1);
    for (const table of TABLES) expect(await many.csvText(table, DATE), table).toBe(await one.csvText(table, DATE));
    const clean = await runFiles({ 'events_20261101.json.gz': gzipSync(`${lines.join('\n')}\n`) });
    for (const table of TABLES) expect(await many.csvText(table, DATE), table).toBe(await clean.csvText(table, DATE));
    const quality = (r: RunResult) => r.report.dates.find((d) => d.date === DATE)!.quality;
    expect(quality(many)).toEqual(quality(one));
    expect(quality(many).quarantined_by_reason).toEqual({ invalid_json: 1 });
    expect(await many.query(`SELECT source_file, line_no, raw_line FROM quarantined_events`)).toEqual([
      { source_file: expect.stringMatching(new RegExp(`/input/${name(63).replaceAll('.', '\\.')}$`)), line_no: String(cut - 63 * per + 1), raw_line: dirty[7]!.slice(0, 60) },
    ]);
  });

  it('keeps the exact text of a quarantined line of a file read as landed: CRLF, last line without a line end', async () => {
    const good = JSON.stringify(ev('page_view'));
    const nameless = JSON.stringify(ev('', { at: 5 }));
    const noUser = JSON.stringify(ev('page_view', { at: 7, user: '' }));
    const seen = progressLines();
    const run = await runFiles({ 'events_20261101.json.gz': gzipSync(`${good}\r\n${nameless}\r\n${good.replace('"page_view"', '"scroll"')}\r\n${noUser}`) }, seen.progress);
    expect(seen.lines.filter((line) => line.startsWith('read from a scratch copy'))).toEqual([]);
    expect(await run.query('SELECT line_no, reason, raw_line FROM quarantined_events ORDER BY line_no')).toEqual([
      { line_no: '2', reason: 'missing_event_name', raw_line: nameless },
      { line_no: '4', reason: 'missing_user_pseudo_id', raw_line: noUser },
    ]);
  });
});
