import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { landFiles } from '../src/pipeline/landing.js';
import { LONE_CR_STANDIN, NormalizeLineEnds } from '../src/util/line-ends.js';
import { tempDir } from './support/pipeline.js';

async function throughCrlf(chunks: string[]): Promise<string> {
  const out: Buffer[] = [];
  for await (const chunk of Readable.from(chunks.map((c) => Buffer.from(c))).pipe(new NormalizeLineEnds())) out.push(chunk as Buffer);
  return Buffer.concat(out).toString();
}

describe('landing', () => {
  it('turns CRLF into LF, also across chunk boundaries, and a lone CR into its stand-in', async () => {
    expect(await throughCrlf(['a\r\nb\r', '\nc\r', 'd\r'])).toBe(`a\nb\nc${LONE_CR_STANDIN}d${LONE_CR_STANDIN}`);
  });

  it('lands each file unchanged, content-addressed, and writes the run manifest', async () => {
    const dir = await tempDir();
    const body = '{"a":1}\r\n{"b":2}\n';
    await writeFile(join(dir, 'x.json.gz'), gzipSync(body));
    await writeFile(join(dir, 'y.json.gz'), gzipSync(body));
    const files = [join(dir, 'x.json.gz'), join(dir, 'y.json.gz')].map((path) => ({ path, bytes: 0 }));
    let bytes = 0;
    const landed = await landFiles(files, join(dir, 'landing'), join(dir, 'scratch'), 'run1', (n) => (bytes += n));
    expect(landed[0]!.sha256).toBe(landed[1]!.sha256);
    expect(await readdir(join(dir, 'landing', 'objects'))).toEqual([`${landed[0]!.sha256}.json.gz`]);
    expect(await readFile(landed[0]!.landedPath)).toEqual(await readFile(join(dir, 'x.json.gz')));
    expect(await readFile(landed[0]!.plainPath, 'utf8')).toBe('{"a":1}\n{"b":2}\n');
    expect(bytes).toBe(2 * (await readFile(join(dir, 'x.json.gz'))).length);
    const manifest = JSON.parse(await readFile(join(dir, 'landing', 'runs', 'run1.json'), 'utf8'));
    expect(manifest.files.map((f: { sourcePath: string }) => f.sourcePath)).toEqual(files.map((f) => f.path));
  });

});
