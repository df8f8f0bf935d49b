// A bad line is never fatal (the contract, Cleaning 2): lines cut short, spread over several lines
// or not UTF-8 are quarantined as invalid_json, kept verbatim, and change no other line's numbers.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isUtf8 } from 'node:buffer';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { NormalizeLineEnds, decodeScratchLine } from '../src/util/line-ends.js';
import { ev, item, listFiles, runOn, tempDir, type RunResult } from './support/pipeline.js';

const D = '2026-11-01';
const SAMPLE = join(process.env.CARTLENS_SHARED_DIR ?? join(process.cwd(), '..', 'shared'), 'external-data', 'ga4-obfuscated-sample-spider2', 'ga4_obfuscated_sample_rows.ndjson');

/** Every published CSV of a run (path → text). */
async function published(run: RunResult): Promise<Record<string, string>> {
  const files = (await listFiles(join(run.dir, 'exports'))).filter((f) => f.endsWith('.csv') && !f.startsWith('report'));
  return Object.fromEntries(await Promise.all(files.map(async (f) => [f, await readFile(join(run.dir, 'exports', f), 'utf8')] as const)));
}

/** A quarantined invalid_json line must be invalid on its own: not JSON, or not an object. */
function invalidOnItsOwn(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return value === null || typeof value !== 'object' || Array.isArray(value);
  } catch {
    return true;
  }
}

async function expectSameNumbers(dirty: RunResult, clean: RunResult): Promise<void> {
  expect(dirty.report.dates.filter((d) => d.status !== 'published' && d.status !== 'no_events')).toEqual([]);
  const cleanFiles = await published(clean);
  expect(Object.keys(cleanFiles).length).toBeGreaterThan(0);
  expect(await published(dirty)).toEqual(cleanFiles);
}

describe('a line cut short', () => {
  it('right after a colon does not swallow the valid line after it', async () => {
    const views = [ev('view_item', { items: [item('A')] }), ev('view_item', { at: 1, session: 2, items: [item('A')] })];
    const cut = '{"event_date":"20261101","event_name":';
    const dirty = await runOn({ 'a.json': [views[0]!, cut, views[1]!, `${cut} `, ev('page_view', { at: 2 })] });
    const clean = await runOn({ 'a.json': [views[0]!, views[1]!, ev('page_view', { at: 2 })] });
    expect((await dirty.csv('cart_items_daily', D))[0]!.views).toBe('2');
    expect(await dirty.query(`SELECT line_no, reason, raw_line FROM quarantined_events ORDER BY line_no`)).toEqual([
      { line_no: '2', reason: 'invalid_json', raw_line: cut },
      { line_no: '4', reason: 'invalid_json', raw_line: `${cut} ` },
    ]);
    await expectSameNumbers(dirty, clean);
  });

  it('at every byte offset of real event lines, keeps the run publishing and every other line counted (fuzz)', async () => {
    // Real lines from the obfuscated GA4 sample when it is there, and one with multi-byte characters,
    // so that cuts fall inside characters too.
    const real = existsSync(SAMPLE) ? (await readFile(SAMPLE, 'utf8')).split('\n').filter(Boolean) : [];
    const accented = JSON.stringify(ev('add_to_cart', { items: [item('Ç1', { item_name: 'Camiseta açaí 日本 🛒' })] }));
    const sources = [...real.slice(0, 40), accented];
    const toCut = [accented, ...(real.length > 0 ? [real.reduce((a, b) => (Buffer.byteLength(b) > Buffer.byteLength(a) ? b : a))] : [])];
    // Each cut line is followed by a valid line of its own (a distinct timestamp), so that a lost
    // valid line changes the numbers.
    let serial = 0;
    const valid = () => {
      const line = sources[serial % sources.length]!;
      serial++;
      return line.replace(/"event_timestamp":"?(\d+)"?/, (_m, ts: string) => `"event_timestamp":"${BigInt(ts) + BigInt(serial)}"`);
    };
    const dirtyLines: Buffer[] = [];
    const cleanLines: Buffer[] = [];
    const cuts: Buffer[] = [];
    for (const line of toCut) {
      const bytes = Buffer.from(line);
      for (let at = 1; at < bytes.length; at++) {
        const next = Buffer.from(valid());
        cuts.push(bytes.subarray(0, at));
        dirtyLines.push(bytes.subarray(0, at), next);
        cleanLines.push(next);
      }
    }
    const dir = await tempDir();
    const write = async (sub: string, lines: Buffer[]) => {
      await mkdir(join(dir, sub, 'input'), { recursive: true });
      await writeFile(join(dir, sub, 'input', 'events.json'), Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
    };
    await write('dirty', dirtyLines);
    await write('clean', cleanLines);
    const dirty = await runOn({}, { dir: join(dir, 'dirty') });
    const clean = await runOn({}, { dir: join(dir, 'clean') });
    await expectSameNumbers(dirty, clean);
    const kept = await dirty.query(`SELECT reason, raw_line, hex(raw_bytes) AS raw_hex, line_no FROM quarantined_events ORDER BY line_no::BIGINT`);
    // Cuts of the two lines within their common start are byte-identical: the first copy is kept.
    const firstCopies = new Map<string, number>();
    cuts.forEach((cut, i) => { if (!firstCopies.has(cut.toString('hex'))) firstCopies.set(cut.toString('hex'), 2 * i + 1); });
    expect(kept.map((row) => row.line_no)).toEqual([...firstCopies.values()].map(String));
    expect(kept.every((row) => row.reason === 'invalid_json' && invalidOnItsOwn(String(row.raw_line)))).toBe(true);
    // Verbatim: as text when the cut is UTF-8, and as its exact bytes when the cut fell inside a character.
    const cutAt = (row: Record<string, unknown>) => cuts[(Number(row.line_no) - 1) / 2]!;
    expect(kept.filter((row) => row.raw_line !== cutAt(row).toString('utf8'))).toEqual([]);
    expect(kept.filter((row) => row.raw_hex !== null && row.raw_hex !== cutAt(row).toString('hex').toUpperCase())).toEqual([]);
    expect(kept.filter((row) => row.raw_hex !== null).length).toBeGreaterThan(0);
  }, 60_000);
});

describe('a pretty-printed object', () => {
  it('is quarantined line by line (each physical line is a line), and the run publishes', async () => {
    const pretty = JSON.stringify(ev('add_to_cart', { at: 5, session: 9, items: [item('B')] }), null, 2).split('\n');
    const others = [ev('add_to_cart', { items: [item('A')] }), ev('page_view', { at: 1 })];
    const dirty = await runOn({ 'a.json': [others[0]!, ...pretty, others[1]!] });
    const clean = await runOn({ 'a.json': others });
    await expectSameNumbers(dirty, clean);
    const kept = await dirty.query(`SELECT reason, raw_line FROM quarantined_events ORDER BY line_no`);
    // Physical lines that repeat (`    }`) are byte-identical: the first copy is kept.
    expect(kept.map((row) => row.raw_line)).toEqual([...new Set(pretty)]);
    expect(kept.every((row) => row.reason === 'invalid_json' && invalidOnItsOwn(String(row.raw_line)))).toBe(true);
  });
});

describe('bytes that are not UTF-8', () => {
  it('quarantine their line, which keeps its exact bytes, and the run publishes', async () => {
    const good = [ev('add_to_cart', { items: [item('A')] }), ev('page_view', { at: 1 })].map((e) => JSON.stringify(e));
    const latin1 = Buffer.from(JSON.stringify(ev('view_item', { at: 2, items: [item('C', { item_name: 'Maçã' })] })), 'latin1');
    // Control bytes 0x01 and 0x02 have a meaning in the scratch copy: they too must come back as they were.
    const controls = Buffer.from('{"event_name":"view_item\x01\x02\r",\x01 "x":1}');
    const dir = await tempDir();
    await mkdir(join(dir, 'input'), { recursive: true });
    await writeFile(join(dir, 'input', 'a.json'), Buffer.concat([Buffer.from(`${good[0]}\n`), latin1, Buffer.from('\n'), controls, Buffer.from(`\n${good[1]}\n`)]));
    const dirty = await runOn({}, { dir });
    const clean = await runOn({ 'a.json': good });
    await expectSameNumbers(dirty, clean);
    const kept = await dirty.query(`SELECT line_no, reason, raw_line, hex(raw_bytes) AS raw_hex FROM quarantined_events ORDER BY line_no`);
    expect(kept).toEqual([
      { line_no: '2', reason: 'invalid_json', raw_line: latin1.toString('utf8'), raw_hex: latin1.toString('hex').toUpperCase() },
      { line_no: '3', reason: 'invalid_json', raw_line: controls.toString('utf8'), raw_hex: null },
    ]);
  });
});

describe('the start and the emptiness of a file', () => {
  it('does not take a byte-order mark for part of the first line', async () => {
    const line = JSON.stringify(ev('add_to_cart', { items: [item('A')] }));
    const dir = await tempDir();
    await mkdir(join(dir, 'input'), { recursive: true });
    await writeFile(join(dir, 'input', 'a.json'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${line}\n`)]));
    await writeFile(join(dir, 'input', 'b.json.gz'), gzipSync(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${line}\n`)])));
    await writeFile(join(dir, 'input', 'c.json'), `${line}\n`);
    const run = await runOn({}, { dir });
    // The three lines are byte-identical once the marks are not part of them.
    expect(run.report.dates[0]!.quality).toMatchObject({ lines: 3, duplicates: 2, quarantined: 0, included_events: 1 });
  });

  it('reads an empty .json.gz (zero bytes, or a gzip of nothing) as an empty file', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'input'), { recursive: true });
    await writeFile(join(dir, 'input', 'a.json.gz'), Buffer.alloc(0));
    await writeFile(join(dir, 'input', 'b.json.gz'), gzipSync(Buffer.alloc(0)));
    await writeFile(join(dir, 'input', 'c.json'), '');
    const run = await runOn({ 'd.json': [ev('page_view')] }, { dir });
    expect(run.report.dates.map((d) => d.status)).toEqual(['published']);
    expect(run.report.files.map((f) => f.lines)).toEqual([0, 0, 0, 1]);
  });

  it('fails the run naming the file, in one line, when a .gz is not gzip or is cut short', async () => {
    for (const [name, bytes] of [['bad.json.gz', Buffer.from('not gzip at all')], ['cut.json.gz', gzipSync(Buffer.from(`${JSON.stringify(ev('page_view'))}\n`.repeat(50))).subarray(0, 40)]] as const) {
      const dir = await tempDir();
      await mkdir(join(dir, 'input'), { recursive: true });
      await writeFile(join(dir, 'input', name), bytes);
      const failure = await runOn({}, { dir }).then(() => undefined, (error: unknown) => error as Error);
      expect(failure?.message).toContain(join(dir, 'input', name));
      expect(failure?.message).not.toContain('\n');
    }
  });
});

describe('the scratch copy (NormalizeLineEnds)', () => {
  it('is UTF-8 and gives back every line\'s bytes, however the input is cut into chunks', async () => {
    const lines = [
      Buffer.from('{"a":"açaí 日本 🛒"}'),
      Buffer.from([0x7b, 0xff, 0xc3, 0x28, 0xe2, 0x82, 0x7d]), // lone and broken sequences
      Buffer.from('x\x01y\x02z\r\x0241'), // the scratch copy's own control bytes, and a lone CR
      Buffer.from([0xf0, 0x9f, 0x9b]), // a character cut short at the end of a line
      Buffer.from([0xed, 0xa0, 0x80, 0xc0, 0xaf]), // a UTF-16 surrogate and an overlong form
    ];
    const input = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), ...lines.flatMap((l, i) => [l, Buffer.from(i % 2 ? '\r\n' : '\n')])]);
    for (let size = 1; size <= 7; size++) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < input.length; at += size) chunks.push(input.subarray(at, at + size));
      const out: Buffer[] = [];
      for await (const chunk of Readable.from(chunks).pipe(new NormalizeLineEnds())) out.push(chunk as Buffer);
      const scratch = Buffer.concat(out);
      expect(isUtf8(scratch)).toBe(true);
      const scratchLines: Buffer[] = [];
      for (let from = 0, end = scratch.indexOf(0x0a); end !== -1; from = end + 1, end = scratch.indexOf(0x0a, from)) scratchLines.push(scratch.subarray(from, end));
      expect(scratchLines.map((l) => decodeScratchLine(l).toString('hex'))).toEqual(lines.map((l) => l.toString('hex')));
      // Valid characters pass unchanged, split across chunks or not.
      expect(scratchLines[0]!.equals(lines[0]!)).toBe(true);
    }
  });
});
