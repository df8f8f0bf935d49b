// Issue 19, item 3: input, disk and resources. Links out of the input folder and special files are
// refused by name, never read; a full landing or scratch disk fails in one line naming the folder
// and its disk, leaves nothing partial, and is not retried; a gzip bomb is refused, its landed copy
// kept, while the other files run. Disk faults come through landing's write seam; the CLI's own
// behaviour on a full disk is checked on a real small tmpfs where this machine lets root mount one.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { landFiles, type LandingOptions } from '../src/pipeline/landing.js';
import { runPipeline } from '../src/pipeline/run.js';
import { Ga4ExportFilesSource } from '../src/sources/ga4-export-files/files-source.js';
import { CartlensError, DiskError, InputError } from '../src/util/errors.js';
import { cli } from './support/cli.js';
import { ev, item, listFiles, tempDir, writeConfig, writeInput } from './support/pipeline.js';

const errno = (code: string, syscall: string) => Object.assign(new Error(`${code}: ${syscall}`), { code, syscall });

/**
 * A disk with `free` bytes left for the files whose path `onDisk` accepts: a write stores what
 * fits, then fails with ENOSPC, as tmpfs does. `written` counts what reached each file.
 */
function diskWith(free: number, onDisk: (path: string) => boolean): { createWriteStream: LandingOptions['createWriteStream']; written: Map<string, number> } {
  const written = new Map<string, number>();
  return {
    written,
    createWriteStream: (path, at) => {
      const real = createWriteStream(path, at ?? {});
      const stored = (bytes: number) => written.set(path, (written.get(path) ?? 0) + bytes);
      const disk = new Writable({
        write(chunk: Buffer, _encoding, done) {
          const fits = onDisk(path) ? Math.min(chunk.length, free) : chunk.length;
          if (onDisk(path)) free -= fits;
          const rest = () => (fits < chunk.length ? done(errno('ENOSPC', 'write')) : done());
          if (fits === 0) return rest();
          stored(fits);
          real.write(chunk.subarray(0, fits), (error) => (error ? done(error) : rest()));
        },
        final: (done) => real.end(() => done()),
        destroy: (error, done) => {
          if (real.closed) return done(error);
          real.once('close', () => done(error));
          real.destroy();
        },
      });
      // A write still in flight when the file is destroyed fails late: it is the file's error.
      real.on('error', (error) => disk.destroy(error));
      return disk;
    },
  };
}

/** Lines of events that hardly compress: `n` page views, each with 1 KB of random hex. */
function incompressibleLines(n: number): string {
  return Array.from({ length: n }, (_, i) => JSON.stringify(ev('page_view', { at: i, user: `u${i}`, padding: randomBytes(512).toString('hex') }))).join('\n') + '\n';
}

async function landingLeftovers(dir: string): Promise<string[]> {
  return (await listFiles(dir)).filter((f) => f.endsWith('.tmp') || f.endsWith('.ndjson'));
}

describe('files behind links, and files that are not regular files', () => {
  it('refuses, by name, a file linked from outside the input folder, a link to a folder outside it, a named pipe and a dangling link; nothing is read or landed', async () => {
    const dir = await tempDir();
    await writeInput(dir, { 'a.json': [ev('page_view')] });
    await mkdir(join(dir, 'elsewhere'));
    await writeFile(join(dir, 'elsewhere', 'secret.json'), '{"not":"an export"}\n');
    await symlink('/etc/passwd', join(dir, 'input', 'passwd.json'));
    await symlink(join(dir, 'elsewhere'), join(dir, 'input', 'linked-folder'));
    await symlink(join(dir, 'nowhere.json'), join(dir, 'input', 'dangling.json'));
    execFileSync('mkfifo', [join(dir, 'input', 'pipe.json')]);
    const config = await writeConfig(dir);
    await writeFile(config, (await readFile(config, 'utf8')).replace('input/*.json*', 'input/**/*.json*'));
    const error = await runPipeline({ loaded: parseConfig(await readFile(config, 'utf8'), config) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    const line = (error as InputError).oneLine;
    expect(line).not.toContain('\n');
    expect(line).toMatch(/^4 input file\(s\) refused: cartlens reads only regular files inside the input folder .*\/input: /);
    expect(line).toContain(`${join(dir, 'input', 'linked-folder')} (a symbolic link to the folder ${join(dir, 'elsewhere')}, outside it)`);
    expect(line).toContain(`${join(dir, 'input', 'passwd.json')} (a symbolic link to /etc/passwd, outside it)`);
    expect(line).toContain(`${join(dir, 'input', 'dangling.json')} (a symbolic link to ${join(dir, 'nowhere.json')}, which does not exist)`);
    expect(line).toContain(`${join(dir, 'input', 'pipe.json')} (a named pipe, not a regular file)`);
    // Refused before landing: not a byte of /etc/passwd was copied.
    expect(await listFiles(join(dir, 'state', 'landing')).catch(() => [])).toEqual([]);
  });

  it('reads a link to a file inside the input folder, and never enters a link to a folder (nor walks /)', async () => {
    const dir = await tempDir();
    await writeInput(dir, { 'a.json': [ev('page_view')] });
    await mkdir(join(dir, 'input', 'day'));
    await writeFile(join(dir, 'input', 'day', 'b.json'), `${JSON.stringify(ev('page_view', { user: 'u2' }))}\n`);
    await symlink(join(dir, 'input', 'day', 'b.json'), join(dir, 'input', 'latest.json'));
    await symlink(join(dir, 'input', 'day'), join(dir, 'input', 'day-again'));
    const files = await new Ga4ExportFilesSource('input/**/*.json', dir).listFiles();
    // The link to the folder inside is not entered: day/b.json is read once, by its own path.
    expect(files.map((f) => f.path.slice(dir.length + 1))).toEqual(['input/a.json', 'input/day/b.json', 'input/latest.json']);
    expect(files[2]!.bytes).toBe(files[1]!.bytes);
    // An input folder reached through a link is the folder it links to: its files are inside it.
    await symlink(join(dir, 'input'), join(dir, 'linked-input'));
    expect((await new Ga4ExportFilesSource('linked-input/*.json', dir).listFiles()).map((f) => f.path.slice(dir.length + 1))).toEqual(['linked-input/a.json', 'linked-input/latest.json']);
    // A link to / under `**` is refused by its name at once: the crawler never goes in.
    await symlink('/', join(dir, 'input', 'root'));
    await expect(new Ga4ExportFilesSource('input/**/*.json', dir).listFiles()).rejects.toThrow(/^1 input file\(s\) refused: .*\/input\/root \(a symbolic link to the folder \/, outside it\)$/);
  });
});

describe('a full disk while landing', () => {
  // Each ends with a cut line: only a file with one is decompressed into the scratch folder.
  async function threeFiles() {
    const dir = await tempDir();
    const paths = ['a', 'b', 'c'].map((name) => join(dir, 'input', `${name}.json.gz`));
    await mkdir(join(dir, 'input'));
    for (const path of paths) await writeFile(path, gzipSync(`${incompressibleLines(100)}{"event_name":"cut\n`));
    return { dir, files: paths.map((path) => ({ path, bytes: 0 })), landing: join(dir, 'landing'), scratch: join(dir, 'scratch', 'run') };
  }

  it('landing.dir full: one line naming the folder, its disk and that it is full; no partial file left; terminal', async () => {
    const { dir, files, landing, scratch } = await threeFiles();
    const disk = diskWith(150_000, (path) => path.startsWith(landing));
    const error = await landFiles(files, landing, scratch, 'run1', () => undefined, { createWriteStream: disk.createWriteStream }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiskError);
    expect((error as DiskError).oneLine).toMatch(
      new RegExp(`^cannot land ${dir}/input/[abc]\\.json\\.gz in landing\\.dir ${landing}: no space left on device: the disk is full \\(ENOSPC\\) on the disk mounted at /\\S* — free space on that disk`),
    );
    // Not retried by the scheduler (schedule.ts retries only a CartlensError marked transient).
    expect(error).toBeInstanceOf(CartlensError);
    expect((error as DiskError).transient).toBe(false);
    // The files landed whole before the disk filled stay (content-addressed); nothing partial does.
    expect(await landingLeftovers(dir)).toEqual([]);
    expect((await readdir(join(landing, 'objects'))).every((name) => /^[0-9a-f]{64}\.json\.gz$/.test(name))).toBe(true);
    expect(await readdir(join(landing, 'runs'))).toEqual([]);
  });

  it('landing.scratch_dir full: names the scratch folder and its disk, never the input or gzip', async () => {
    const { dir, files, landing, scratch } = await threeFiles();
    const disk = diskWith(200_000, (path) => path.startsWith(scratch));
    const error = await landFiles(files, landing, scratch, 'run1', () => undefined, { createWriteStream: disk.createWriteStream }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiskError);
    const line = (error as DiskError).oneLine;
    expect(line).toMatch(new RegExp(`^cannot decompress ${dir}/input/[abc]\\.json\\.gz into landing\\.scratch_dir ${scratch}: no space left on device: the disk is full \\(ENOSPC\\) on the disk mounted at /`));
    expect(line).toContain('— free space on that disk (a run needs about 1.6 GB per million events there), or set landing.scratch_dir to a folder on another disk, then run again');
    expect(line).not.toMatch(/gzip|source\.path/);
    expect(await landingLeftovers(dir)).toEqual([]);
  });

  it('a quota or an I/O error on the scratch disk says so', async () => {
    const { files, landing, scratch } = await threeFiles();
    for (const code of ['EDQUOT', 'EIO']) {
      const failing = (path: string) =>
        path.startsWith(scratch) ? new Writable({ write: (_chunk, _encoding, done) => done(errno(code, 'write')) }) : createWriteStream(path);
      const error = await landFiles(files, landing, scratch, `run-${code}`, () => undefined, { createWriteStream: failing }).catch((e: unknown) => e);
      expect((error as DiskError).oneLine).toMatch(code === 'EDQUOT' ? /: disk quota exceeded \(EDQUOT\) on the disk mounted at / : /: I\/O error: the disk failed a write \(EIO\) on the disk mounted at /);
    }
  });

  it('a corrupt gzip still says gzip, naming the file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'bad.json.gz');
    const whole = gzipSync(incompressibleLines(10));
    await writeFile(path, whole.subarray(0, whole.length >> 1));
    const error = await landFiles([{ path, bytes: 0 }], join(dir, 'landing'), join(dir, 'scratch'), 'run1', () => undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).oneLine).toMatch(new RegExp(`^${path}: cannot read: unexpected end of file — the file is not valid gzip`));
    expect(await landingLeftovers(dir)).toEqual([]);
  });
});

describe('a gzip bomb', () => {
  it('is refused once it passes max_expansion_ratio × its size and the floor: decompression stops there, its landed copy is kept, the other files land', async () => {
    const dir = await tempDir();
    const good = join(dir, 'a.json.gz');
    const bomb = join(dir, 'b.json.gz');
    const alsoGood = join(dir, 'c.json');
    const goodText = `${JSON.stringify(ev('page_view'))}\n`;
    await writeFile(good, gzipSync(goodText));
    await writeFile(bomb, gzipSync(Buffer.alloc(4 << 20)));
    await writeFile(alsoGood, goodText);
    const bombBytes = (await readFile(bomb)).length;
    const landing = join(dir, 'landing');
    const disk = diskWith(Infinity, () => true);
    // 4 MiB of zeros in about 4 KiB: past 10 × its size, and past a floor lowered to 2.5 MiB.
    const floor = 2.5 * (1 << 20);
    expect(10 * bombBytes).toBeLessThan(floor);
    const landed = await landFiles([good, bomb, alsoGood].map((path) => ({ path, bytes: 0 })), landing, join(dir, 'scratch'), 'run1', () => undefined, {
      maxExpansionRatio: 10,
      expansionFloorBytes: floor,
      createWriteStream: disk.createWriteStream,
    });
    expect(landed.map((f) => f.refused === undefined)).toEqual([true, false, true]);
    expect(landed[1]!.refused).toMatch(new RegExp(`^${bomb}: refused, not read: it decompresses to more than landing\\.max_expansion_ratio \\(10\\) × its [\\d.]+ KiB and more than 2\\.5 MiB \\(a gzip bomb, or not a GA4 export\\) — its landed copy is kept`));
    // Stopped at the bound: nothing reached scratch; the scratch copy read for it and its line index are empty.
    expect(disk.written.get(landed[1]!.lineIndexPath) ?? 0).toBe(0);
    expect(landed[1]!.readPath).toBe(landed[1]!.plainPath);
    expect(await readFile(landed[1]!.plainPath, 'utf8')).toBe('');
    expect(await readFile(landed[1]!.lineIndexPath, 'utf8')).toBe('');
    // Landed unchanged all the same, and named in the run's manifest with the reason.
    expect(await readFile(landed[1]!.landedPath)).toEqual(await readFile(bomb));
    const manifest = JSON.parse(await readFile(join(landing, 'runs', 'run1.json'), 'utf8')) as { files: { sourcePath: string; refused?: string }[] };
    expect(manifest.files.map((f) => [f.sourcePath, f.refused ?? null])).toEqual([[good, null], [bomb, landed[1]!.refused], [alsoGood, null]]);
    // The good files are read as landed, one line each.
    for (const good of [landed[0]!, landed[2]!]) {
      expect(good.readPath).toBe(good.landedPath);
      expect((await readFile(good.lineIndexPath, 'utf8')).split('\n').filter(Boolean)).toHaveLength(1);
    }
    expect(await landingLeftovers(landing)).toEqual([]);
  });

  it('needs both bounds: a file past the ratio but under the floor lands, as does one under the ratio', async () => {
    const dir = await tempDir();
    const zeros = join(dir, 'zeros.json.gz');
    await writeFile(zeros, gzipSync('\n'.repeat(100_000)));
    const landedUnderFloor = await landFiles([{ path: zeros, bytes: 0 }], join(dir, 'landing'), join(dir, 'scratch'), 'run1', () => undefined, { maxExpansionRatio: 10, expansionFloorBytes: 100_000 });
    expect(landedUnderFloor[0]!.refused).toBeUndefined();
    const landedUnderRatio = await landFiles([{ path: zeros, bytes: 0 }], join(dir, 'landing'), join(dir, 'scratch'), 'run2', () => undefined, { maxExpansionRatio: 1000, expansionFloorBytes: 1000 });
    expect(landedUnderRatio[0]!.refused).toBeUndefined();
    expect((await readFile(landedUnderRatio[0]!.lineIndexPath, 'utf8')).split('\n').filter(Boolean)).toHaveLength(100_000);
  });

  it('a real one (80 MiB of zeros in a .gz) beside a day of events: the day publishes, the bomb is kept and has no lines', async () => {
    const dir = await tempDir();
    await writeInput(dir, { 'a.json': [ev('view_item'), ev('add_to_cart', { at: 10, items: [item('p1')] })] });
    await writeFile(join(dir, 'input', 'b.json.gz'), gzipSync(Buffer.alloc(80 << 20), { level: 1 }));
    // The config's ratio is the one applied (the file expands about 229×).
    const config = await writeConfig(dir);
    await writeFile(config, (await readFile(config, 'utf8')).replace('landing: { dir: "state/landing" }', 'landing: { dir: "state/landing", max_expansion_ratio: 150 }'));
    const report = await runPipeline({ loaded: parseConfig(await readFile(config, 'utf8'), config) });
    expect(report.dates.map((d) => [d.date, d.status])).toEqual([['2026-11-01', 'published']]);
    expect(report.files.map((f) => [f.path.slice(dir.length + 1), f.lines])).toEqual([['input/a.json', 2], ['input/b.json.gz', 0]]);
    expect(report.files.map((f) => f.refused === undefined)).toEqual([true, false]);
    const landed = await readdir(join(dir, 'state', 'landing', 'objects'));
    expect(landed).toContain(`${report.files[1]!.sha256}.json.gz`);
    const [run] = await readdir(join(dir, 'state', 'landing', 'runs'));
    const manifest = JSON.parse(await readFile(join(dir, 'state', 'landing', 'runs', run!), 'utf8')) as { files: { refused?: string }[] };
    expect(manifest.files[1]!.refused).toMatch(/b\.json\.gz: refused, not read: .*landing\.max_expansion_ratio \(150\) × its .* and more than 64 MiB \(a gzip bomb, or not a GA4 export\) — its landed copy is kept/);
  });
});

/** Mounts a tmpfs of `size` at a new folder; undefined when this machine does not let us (not root, no CAP_SYS_ADMIN). */
async function smallDisk(size: string): Promise<string | undefined> {
  const dir = join(await tempDir(), 'small-disk');
  await mkdir(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  mounted.push(dir);
  return dir;
}
const mounted: string[] = [];
afterAll(() => {
  for (const dir of mounted) execFileSync('umount', ['--lazy', dir]);
});
const canMount = await (async () => {
  const probe = await smallDisk('16k');
  if (probe) execFileSync('umount', ['--lazy', mounted.pop()!]);
  return probe !== undefined;
})();

describe.runIf(canMount)('the CLI on a real full disk (an 80 KiB tmpfs)', () => {
  async function project(landing: 'full' | 'roomy', scratch: 'full' | 'roomy') {
    const dir = await tempDir();
    // A cut line last: the file needs its scratch copy.
    await writeInput(dir, { 'a.json.gz': [...incompressibleLines(300).trimEnd().split('\n'), '{"event_name":"cut'] });
    const small = (await smallDisk('80k'))!;
    const config = await writeConfig(dir);
    const landingDir = landing === 'full' ? small : join(dir, 'state', 'landing');
    const scratchDir = scratch === 'full' ? small : join(dir, 'state', 'scratch');
    await writeFile(config, (await readFile(config, 'utf8')).replace(/^landing: .*$/m, `landing: { dir: "${landingDir}", scratch_dir: "${scratchDir}" }`));
    return { dir, config, small };
  }

  it('`run` with landing.dir full: exits 1 with one error line naming the folder and the full disk; nothing left in it', async () => {
    const { config, small } = await project('full', 'roomy');
    const result = await cli(['run', '--config', config]);
    expect(result.code).toBe(1);
    const errors = result.stderr.split('\n').filter((l) => l.startsWith('error:'));
    expect(errors).toEqual([expect.stringMatching(new RegExp(`^error: cannot land .*a\\.json\\.gz in landing\\.dir ${small}: no space left on device: the disk is full \\(ENOSPC\\) on the disk mounted at ${small} — `))]);
    expect(await listFiles(small)).toEqual([]);
  }, 60_000);

  it('`run` with the scratch folder full: names landing.scratch_dir and its disk, not the gzip', async () => {
    const { config, small } = await project('roomy', 'full');
    const result = await cli(['run', '--config', config]);
    expect(result.code).toBe(1);
    const errors = result.stderr.split('\n').filter((l) => l.startsWith('error:'));
    expect(errors).toEqual([expect.stringMatching(new RegExp(`^error: cannot decompress .*a\\.json\\.gz into landing\\.scratch_dir ${small}/cartlens-scratch/\\S+: no space left on device: the disk is full \\(ENOSPC\\) on the disk mounted at ${small} — `))]);
    expect(result.stderr).not.toMatch(/gzip/);
    expect((await listFiles(small)).filter((f) => f !== 'cartlens-scratch/.cartlens-scratch')).toEqual([]);
  }, 60_000);

  it('`schedule` fails the run at once and does not retry it', async () => {
    const { config } = await project('full', 'roomy');
    await writeFile(config, `${await readFile(config, 'utf8')}schedule: { retries: 3, retry_wait_seconds: 1 }\n`);
    const child = spawn(process.execPath, [join(process.cwd(), 'bin', 'cartlens.js'), 'schedule', '--run-now', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    // A scheduler that hangs (as it did) fails the test by its timeout, and is not left running.
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    // Waits for the failure's line, then stops the scheduler: no clock involved.
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/run failed[^\n]*\n/.test(stderr)) resolve();
      });
    });
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    const failures = stderr.split('\n').filter((l) => l.includes('run failed'));
    expect(failures).toEqual([expect.stringMatching(/"run failed: cannot land .* no space left on device: the disk is full \(ENOSPC\)/)]);
    expect(stderr).not.toContain('trying again');
  }, 60_000);
});
