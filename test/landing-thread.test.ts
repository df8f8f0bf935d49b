import { execFile } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { landFiles } from '../src/pipeline/landing.js';
import { landFilesOnThread } from '../src/pipeline/landing-thread.js';
import { DiskError, InputError } from '../src/util/errors.js';
import { fromThreadError, toThreadError } from '../src/util/threads.js';
import { tempDir } from './support/pipeline.js';

/** A clean file, one with a cut line (it gets a scratch copy) and a plain one. */
async function threeFiles(dir: string): Promise<{ path: string; bytes: number }[]> {
  const lines = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ event_name: 'page_view', i, pad: 'x'.repeat(i % 97) }));
  await writeFile(join(dir, 'a.json.gz'), gzipSync(lines.join('\n')));
  await writeFile(join(dir, 'b.json.gz'), gzipSync([...lines.slice(0, 1500), '{"event_name":"cu', ...lines.slice(1500)].join('\r\n')));
  await writeFile(join(dir, 'c.json'), lines.slice(0, 10).join('\n'));
  return ['a.json.gz', 'b.json.gz', 'c.json'].map((name) => ({ path: join(dir, name), bytes: 0 }));
}

/** A landed file's outputs, by what they hold rather than where the run put them. */
async function contents(landed: Awaited<ReturnType<typeof landFiles>>) {
  return Promise.all(
    landed.map(async (f) => ({
      index: f.index,
      sha256: f.sha256,
      named: f.named,
      asLanded: f.readPath === f.landedPath,
      lineIndex: await readFile(f.lineIndexPath, 'utf8'),
      read: (await readFile(f.readPath)).length,
    })),
  );
}

describe('landing on a thread of its own', () => {
  it('lands what landFiles lands on this thread, with the same progress', async () => {
    const dir = await tempDir();
    const files = await threeFiles(dir);
    let here = 0;
    let there = 0;
    const onThisThread = await landFiles(files, join(dir, 'landing-1'), join(dir, 'scratch-1'), 'run1', (n) => (here += n));
    const onTheThread = await landFilesOnThread(files, join(dir, 'landing-2'), join(dir, 'scratch-2'), 'run1', (n) => (there += n));
    expect(onTheThread.map((f) => f.landedPath)).toEqual(onThisThread.map((f) => f.landedPath.replace('landing-1', 'landing-2')));
    expect(await contents(onTheThread)).toEqual(await contents(onThisThread));
    // One file with a cut line has its scratch copy; the others are read as landed.
    expect(onTheThread.map((f) => f.readPath === f.landedPath)).toEqual([true, false, true]);
    expect(there).toBe(here);
    expect(there).toBeGreaterThan(0);
    expect(await readdir(join(dir, 'landing-2', 'runs'))).toEqual(['run1.json']);
  });

  it('fails as landFiles fails: the same class, one line and hint', async () => {
    const dir = await tempDir();
    const path = join(dir, 'bad.json.gz');
    const whole = gzipSync('{"a":1}\n'.repeat(10_000));
    await writeFile(path, whole.subarray(0, whole.length >> 1));
    const files = [{ path, bytes: 0 }];
    const here = await landFiles(files, join(dir, 'landing-1'), join(dir, 'scratch-1'), 'run1', () => undefined).catch((e: unknown) => e);
    const there = await landFilesOnThread(files, join(dir, 'landing-2'), join(dir, 'scratch-2'), 'run1', () => undefined).catch((e: unknown) => e);
    expect(there).toBeInstanceOf(InputError);
    expect((there as InputError).oneLine).toBe((here as InputError).oneLine);
    expect((there as InputError).transient).toBe(false);
    // A landing after a failed one works: each has a thread of its own.
    await writeFile(join(dir, 'ok.json'), '{"a":1}\n');
    const [landed] = await landFilesOnThread([{ path: join(dir, 'ok.json'), bytes: 0 }], join(dir, 'landing-3'), join(dir, 'scratch-3'), 'run1', () => undefined);
    expect(landed!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('carries a disk error across with its cause, and a bug as a plain error with its stack', () => {
    const cause = Object.assign(new Error('ENOSPC: write'), { code: 'ENOSPC', syscall: 'write' });
    const disk = fromThreadError(toThreadError(new DiskError('cannot land x', 'free space on that disk', false, { cause })));
    expect(disk).toBeInstanceOf(DiskError);
    expect((disk as DiskError).oneLine).toBe('cannot land x — free space on that disk');
    expect(disk.cause).toMatchObject({ message: 'ENOSPC: write', code: 'ENOSPC', syscall: 'write' });
    const bug = new TypeError('x is undefined');
    const rebuilt = fromThreadError(toThreadError(bug));
    expect(rebuilt).not.toBeInstanceOf(DiskError);
    expect(rebuilt.message).toBe('x is undefined');
    expect(rebuilt.stack).toBe(bug.stack);
  });

  it('does not keep a process alive once its landing is done', async () => {
    const dir = await tempDir();
    const files = await threeFiles(dir);
    // A process that lands through the thread and then has nothing left to do must end by itself.
    const script = join(dir, 'land.mts');
    await writeFile(
      script,
      `import { landFilesOnThread } from ${JSON.stringify(new URL('../src/pipeline/landing-thread.ts', import.meta.url).href)};
      const landed = await landFilesOnThread(${JSON.stringify(files)}, ${JSON.stringify(join(dir, 'landing'))}, ${JSON.stringify(join(dir, 'scratch'))}, 'run1', () => {});
      console.log(landed.length);`,
    );
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], {
      cwd: join(import.meta.dirname, '..'),
      // Not a time limit on the landing: a process still alive after a minute is the failure this test looks for.
      timeout: 60_000,
    });
    expect(stdout.trim()).toBe('3');
  });
});
