import { readFile, readdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { landFiles } from '../src/pipeline/landing.js';
import { LONE_CR_STANDIN, NormalizeLineEnds } from '../src/util/line-ends.js';
import { tempDir } from './support/pipeline.js';

async function throughCrlf(chunks: string[], encoding: BufferEncoding = 'utf8'): Promise<string> {
  const out: Buffer[] = [];
  for await (const chunk of Readable.from(chunks.map((c) => Buffer.from(c, encoding))).pipe(new NormalizeLineEnds())) out.push(chunk as Buffer);
  return Buffer.concat(out).toString(encoding);
}

describe('landing', () => {
  it('turns CRLF into LF, also across chunk boundaries, and a lone CR into its stand-in', async () => {
    expect(await throughCrlf(['a\r\nb\r', '\nc\r', 'd\r'])).toBe(`a\nb\nc${LONE_CR_STANDIN}d${LONE_CR_STANDIN}`);
  });

  it('lands each file unchanged, content-addressed, and writes the run manifest', async () => {
    const dir = await tempDir();
    // A cut line: the file is decompressed into a scratch copy (a file without one is read as landed).
    const body = '{"a":1}\r\n{"b":2}\n{"c":\r\n';
    await writeFile(join(dir, 'x.json.gz'), gzipSync(body));
    await writeFile(join(dir, 'y.json.gz'), gzipSync(body));
    const files = [join(dir, 'x.json.gz'), join(dir, 'y.json.gz')].map((path) => ({ path, bytes: 0 }));
    let bytes = 0;
    const landed = await landFiles(files, join(dir, 'landing'), join(dir, 'scratch'), 'run1', (n) => (bytes += n));
    expect(landed[0]!.sha256).toBe(landed[1]!.sha256);
    expect(await readdir(join(dir, 'landing', 'objects'))).toEqual([`${landed[0]!.sha256}.json.gz`]);
    expect(await readFile(landed[0]!.landedPath)).toEqual(await readFile(join(dir, 'x.json.gz')));
    expect(landed[0]!.readPath).toBe(landed[0]!.plainPath);
    expect(await readFile(landed[0]!.plainPath, 'utf8')).toBe('{"a":1}\n{"b":2}\n{"c":\n');
    expect(bytes).toBe(2 * (await readFile(join(dir, 'x.json.gz'))).length);
    const manifest = JSON.parse(await readFile(join(dir, 'landing', 'runs', 'run1.json'), 'utf8'));
    expect(manifest.files.map((f: { sourcePath: string }) => f.sourcePath)).toEqual(files.map((f) => f.path));
  });

  it('writes the scratch copy of a file with a suspect line byte for byte, the lines before it read again, whatever the chunks', async () => {
    const dir = await tempDir();
    // About 3 MiB (several chunks), CRLF throughout, the first suspect line (a lone CR) past the
    // first MiB, a cut line and bytes that are not UTF-8 after it.
    const line = (i: number) => `{"i":${i},"pad":"${'é'.repeat(200)}"}`;
    const lines = Array.from({ length: 7000 }, (_, i) => line(i));
    lines[2600] = '{"a":"x\ry"}';
    // The copy starts at one of these lines (after the chunk holding the first suspect line): a
    // byte-order mark there is not the file's, and stays.
    for (let i = 2601; i < 6000; i++) lines[i] = `\ufeff${line(i)}`;
    lines[6500] = '{"cut":"ab';
    const body = Buffer.concat([Buffer.from(lines.join('\r\n')), Buffer.from([0xff, 0x0a, 0x0d])]);
    for (const [name, bytes] of [['x.json.gz', gzipSync(body)], ['y.json', body]] as const) {
      await writeFile(join(dir, name), bytes);
      const [landed] = await landFiles([{ path: join(dir, name), bytes: 0 }], join(dir, 'landing'), join(dir, `scratch-${name}`), 'run1', () => undefined);
      expect(landed!.readPath).toBe(landed!.plainPath);
      const whole = Buffer.from(await throughCrlf([body.toString('latin1')], 'latin1'), 'latin1');
      expect((await readFile(landed!.plainPath)).equals(whole), name).toBe(true);
    }
  });

  it('reads a file without a suspect line as landed: no scratch copy, only its line index', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'x.json.gz'), gzipSync('{"a":1}\r\n\n{"b":2}'));
    const [landed] = await landFiles([{ path: join(dir, 'x.json.gz'), bytes: 0 }], join(dir, 'landing'), join(dir, 'scratch'), 'run1', () => undefined);
    expect(landed!.readPath).toBe(landed!.landedPath);
    expect(await readdir(join(dir, 'scratch'))).toEqual([basename(landed!.lineIndexPath)]);
    // line_no, hash, length, flags: the CRLF line's bytes exclude the CR; the empty line is blank.
    const rows = (await readFile(landed!.lineIndexPath, 'utf8')).split('\n').filter(Boolean).map((row) => row.split(','));
    expect(rows.map(([no, , length, flags]) => [no, length, flags])).toEqual([['1', '7', '0'], ['2', '0', '1'], ['3', '7', '0']]);
  });

});
