// The line index landing makes of every file (src/util/line-index.ts): a line it does not flag as
// suspect must be one DuckDB's json_valid takes as it is (so reading the landed .gz directly reads
// what the blanked scratch copy would), and its lines and lengths must be the scratch copy's.
import { Readable } from 'node:stream';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { NormalizeLineEnds } from '../src/util/line-ends.js';
import { LINE_BLANK, LINE_SUSPECT, LineIndexer, isPlainJson, lineHasher } from '../src/util/line-index.js';

const EVENT = JSON.stringify({
  event_date: '20261101',
  event_timestamp: '1793491200000000',
  event_name: 'add_to_cart',
  event_params: [{ key: 'ga_session_id', value: { int_value: 17, string_value: null } }],
  items: [{ item_id: 'Ç1', item_name: 'Camiseta açaí 日本 🛒 "x" \\ /', price: 1.5e2, quantity: -0, item_revenue: 0.25 }],
  flags: [true, false, null, [], {}, [[1]], ''],
});

const HANDMADE = [
  '{}', '[]', '0', '-0.5e+3', '"s"', 'true', ' {"a":1} ', '\t[1]\t', '{"a":"\\u00e9\\n\\t\\"\\\\\\/\\b\\f\\r"}',
  '{"a":1,}', '[1,]', '{"a":NaN}', '{"a":Infinity}', '{"a":01}', '{"a":1.}', '{"a":.5}', '{"a":+1}', '{"a":-}', '{"a":1e}',
  '{"a":1} {"b":2}', '{"a":1}}', '{"a":"x\ty"}', '{"a":"\\x"}', '{"a":"\\ud83d\\ude00"}', '{"a":"\\ud800"}', "{'a':1}",
  '{"a" 1}', '{"a":1 "b":2}', '{,}', '{"a":tru}', '{"a":nul}', '{"a":[1,2}', '{"a":{]}', '', ' ', '{"a":"\u0001"}', '{"a":1}\r',
];

describe('isPlainJson', () => {
  it('takes only what JSON.parse and DuckDB json_valid both take: every cut of an event line, and hand-made cases', async () => {
    const bytes = Buffer.from(EVENT);
    const cases = [...HANDMADE, EVENT];
    // Every cut, and every one-byte change to a byte JSON's grammar turns on.
    for (let at = 0; at < bytes.length; at++) {
      cases.push(bytes.subarray(0, at).toString('latin1'));
      for (const byte of '"{}[],:\\ \t1e.-+nu') cases.push(Buffer.concat([bytes.subarray(0, at), Buffer.from(byte), bytes.subarray(at + 1)]).toString('latin1'));
    }
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      await connection.run('CREATE TABLE c (i INTEGER, line VARCHAR)');
      const appender = await connection.createAppender('c');
      cases.forEach((line, i) => {
        appender.appendInteger(i);
        appender.appendVarchar(Buffer.from(line, i < HANDMADE.length + 1 ? 'utf8' : 'latin1').toString('utf8'));
        appender.endRow();
      });
      appender.closeSync();
      const valid = new Map(((await connection.runAndReadAll('SELECT i, json_valid(line) AS v FROM c')).getRowObjectsJson() as { i: number; v: boolean }[]).map((r) => [r.i, r.v]));
      let plain = 0;
      cases.forEach((line, i) => {
        const buffer = Buffer.from(line, i < HANDMADE.length + 1 ? 'utf8' : 'latin1');
        if (!isPlainJson(buffer)) return;
        plain++;
        expect(valid.get(i), line).toBe(true);
        expect(() => JSON.parse(buffer.toString('utf8')), line).not.toThrow();
      });
      // Not vacuous: the whole line, the plain hand-made cases and the changes that keep it valid.
      expect(plain).toBeGreaterThan(100);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
    expect(isPlainJson(Buffer.from(EVENT))).toBe(true);
    for (const line of ['{"a":1,}', '{"a":NaN}', '{"a":1} {"b":2}', '{"a":"x\ty"}', '{"a":"\\ud800"}', '{"a":1}\r', '']) expect(isPlainJson(Buffer.from(line)), line).toBe(false);
  });
});

describe('LineIndexer', () => {
  async function index(chunks: Buffer[]) {
    const indexer = new LineIndexer(await lineHasher());
    const written: Buffer[] = [];
    for (const chunk of chunks) written.push(indexer.push(chunk) ?? Buffer.alloc(0));
    written.push(indexer.flush());
    const text = Buffer.concat(written).toString('latin1');
    return { rows: text.split('\n').filter(Boolean).map((row) => row.split(',')), summary: indexer.summary };
  }

  async function scratchOf(input: Buffer): Promise<Buffer> {
    const out: Buffer[] = [];
    for await (const chunk of Readable.from([input]).pipe(new NormalizeLineEnds())) out.push(chunk as Buffer);
    return Buffer.concat(out);
  }

  it("finds the scratch copy's lines, lengths and blank lines, whatever the chunks; same bytes, same hash", async () => {
    const input = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(`${EVENT}\r\n\n   \r\n${EVENT}\n{"a":"x\ry"}\n{"cut":"ab\n`),
      Buffer.from([0x7b, 0xff, 0x01, 0x02, 0x7d, 0x0a]),
      Buffer.from(`\f\n${EVENT}`),
    ]);
    const whole = await index([input]);
    const bytewise = await index([...input].map((byte) => Buffer.from([byte])));
    expect(bytewise).toEqual(whole);
    const scratch = await scratchOf(input);
    const scratchLines = scratch.toString('latin1').split('\n');
    if (scratchLines.at(-1) === '') scratchLines.pop();
    expect(whole.rows.map((r) => Number(r[2]))).toEqual(scratchLines.map((l) => l.length));
    expect(whole.rows.map((r) => Number(r[0]))).toEqual(scratchLines.map((_, i) => i + 1));
    // Where each line starts in the scratch copy, and which parsed event it is (blank lines give none).
    expect(whole.rows.map((r) => Number(r[4]))).toEqual(scratchLines.map((_, i) => scratchLines.slice(0, i).reduce((sum, l) => sum + l.length + 1, 0)));
    expect(whole.rows.map((r) => Number(r[5]))).toEqual([1, 0, 0, 2, 3, 4, 5, 0, 6]);
    const flags = whole.rows.map((r) => Number(r[3]));
    // Event after a BOM; empty; blank (CRLF); event; lone CR; cut; bytes not UTF-8; form feed; event without line end.
    expect(flags).toEqual([LINE_SUSPECT, LINE_BLANK, LINE_BLANK, 0, LINE_SUSPECT, LINE_SUSPECT, LINE_SUSPECT, LINE_BLANK | LINE_SUSPECT, 0]);
    expect(whole.summary).toEqual({ lines: 9, suspect: 5 });
    // The event lines are the same bytes, CRLF or not, first line (after its BOM) or last: one hash.
    const hashes = whole.rows.filter((r) => r[2] === String(Buffer.byteLength(EVENT))).map((r) => r[1]);
    expect(hashes).toHaveLength(3);
    expect(new Set(hashes).size).toBe(1);
  });

  it('gives every row of a chunk holding many MiB of rows (short lines), none cut or overwritten', async () => {
    const lines = 200_000;
    const { rows, summary } = await index([Buffer.from('{}\n'.repeat(lines))]);
    expect(summary).toEqual({ lines, suspect: 0 });
    expect(rows).toHaveLength(lines);
    expect(rows.every((row, i) => row.length === 6 && row[0] === String(i + 1) && row[1] === rows[0]![1] && row[2] === '2' && row[3] === '0' && row[4] === String(3 * i) && row[5] === String(i + 1))).toBe(true);
  });
});
