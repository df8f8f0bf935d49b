// Publishing never leaves a wrong file: a full disk, a disk that loses bytes, a read-only or
// misplaced export folder fail the publish (and the run, with its dates marked failed and an
// alert), the previous files stay, and every manifest and completion marker matches its files.
// Disk faults come through the exporter's file-system seam, so they need no root and no tmpfs.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { csvContent, type CsvRow } from '../src/exports/csv.js';
import { completionMarkerPath, type CompletionMarker, type Exporter } from '../src/exports/exporter.js';
import { LocalExporter, type ExportFs } from '../src/exports/local/local-exporter.js';
import { PUBLISHED_TABLES } from '../src/contract/tables.js';
import { runPipeline } from '../src/pipeline/run.js';
import { PublishError } from '../src/util/errors.js';
import { cli } from './support/cli.js';
import { ev, item, listFiles, queryWarehouse, runOn, tempDir, writeConfig, writeInput } from './support/pipeline.js';
import { expectOrder } from './support/order.js';

const FUNNEL = PUBLISHED_TABLES[0]!;
const D = '2026-11-01';
const CSV = `cart_funnel_daily/dt=${D}/cart_funnel_daily_20261101.csv`;
const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** `n` funnel rows in batches of 10, their numbers offset by `version` so two versions differ. */
function funnelRows(n: number, version: number): CsvRow[][] {
  const rows: CsvRow[] = Array.from({ length: n }, (_, i) => [D, String(i + version), '8', '4', '2', '1', '3', '0.7500', '1', '12.50', '99.90']);
  return Array.from({ length: Math.ceil(n / 10) }, (_, b) => rows.slice(b * 10, b * 10 + 10));
}

async function* batches(rows: CsvRow[][]) {
  yield* rows;
}

const publishVersion = (exporter: Exporter, version: number) => exporter.publish(FUNNEL.name, D, csvContent(FUNNEL, batches(funnelRows(47, version))));

type Write = (real: FileHandle, chunk: Buffer, offset: number, length: number, position: number) => Promise<{ bytesWritten: number; buffer: Buffer }>;

/** The real file system, but writes to a temporary CSV go through `write`. */
function fsWithCsvWrites(write: Write): ExportFs {
  return {
    ...fs,
    open: (async (path: string, flags: string) => {
      const handle = await fs.open(path, flags);
      if (!String(path).includes('.csv.tmp-')) return handle;
      return new Proxy(handle, {
        get(target, property) {
          if (property === 'write') return (chunk: Buffer, offset: number, length: number, position: number) => write(target, chunk, offset, length, position);
          const value = Reflect.get(target, property) as unknown;
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
    }) as ExportFs['open'],
  };
}

const errno = (code: string, syscall: string, path?: string) => Object.assign(new Error(`${code}: ${syscall}`), { code, syscall, ...(path ? { path } : {}) });

/** A disk with `free` bytes left: a write stores what fits (a short write), the next one fails with ENOSPC, as tmpfs does. */
function fullDisk(free: number): Write {
  return async (real, chunk, offset, length, position) => {
    if (free === 0) throw errno('ENOSPC', 'write');
    const stored = Math.min(length, free);
    free -= stored;
    return real.write(chunk, offset, stored, position);
  };
}

/** Every manifest under `root` names a file that has its rows, bytes and SHA-256. */
async function expectManifestsMatch(root: string): Promise<number> {
  const manifests = (await listFiles(root)).filter((f) => f.endsWith('manifest.json'));
  for (const path of manifests) {
    const manifest = JSON.parse(await fs.readFile(join(root, path), 'utf8')) as { file: string; rows: number; bytes: number; sha256: string };
    const data = await fs.readFile(join(root, path, '..', manifest.file));
    expect({ path, bytes: data.length, sha256: sha(data), rows: (parse(data) as unknown[]).length - 1 }).toEqual({ path, bytes: manifest.bytes, sha256: manifest.sha256, rows: manifest.rows });
  }
  return manifests.length;
}

async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const file of await listFiles(root)) out[file] = sha(await fs.readFile(join(root, file)));
  return out;
}

describe('the local exporter on a failing disk', () => {
  async function withPrevious() {
    const root = join(await tempDir(), 'exports');
    const previous = await publishVersion(new LocalExporter(root), 1);
    return { root, previous, before: await snapshot(root) };
  }

  it('a full disk (a short write as the last one, then ENOSPC) fails the publish and keeps the previous file', async () => {
    const { root, previous, before } = await withPrevious();
    // Room for all but the last 10 bytes: the last write is short and nothing else would fail.
    const error = await publishVersion(new LocalExporter(root, fsWithCsvWrites(fullDisk(previous.bytes - 10))), 2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as PublishError).oneLine).toBe(`cannot write to export.dir ${root}: no space left on device (ENOSPC) — free space on its disk (or point export.dir at another), then run again`);
    expect(await snapshot(root)).toEqual(before);
    expect(await expectManifestsMatch(root)).toBe(1);
  });

  it('a write that stores nothing is an error, not a shorter file', async () => {
    const { root, before } = await withPrevious();
    const nothing: Write = async (_real, chunk) => ({ bytesWritten: 0, buffer: chunk });
    await expect(publishVersion(new LocalExporter(root, fsWithCsvWrites(nothing)), 2)).rejects.toThrow(/the disk stored only part of a file/);
    expect(await snapshot(root)).toEqual(before);
  });

  it('a disk that drops bytes while reporting them written is caught by reading the file back', async () => {
    const { root, before } = await withPrevious();
    const lossy: Write = async (real, chunk, offset, length, position) => {
      await real.write(chunk, offset, length - 1, position);
      return { bytesWritten: length, buffer: chunk };
    };
    const error = await publishVersion(new LocalExporter(root, fsWithCsvWrites(lossy)), 2).catch((e: unknown) => e);
    expect((error as PublishError).oneLine).toMatch(/: a file read back differs from what was written \(EVERIFY at cart_funnel_daily\/dt=2026-11-01\/cart_funnel_daily_20261101\.csv\.tmp-\d+\) — /);
    expect(await snapshot(root)).toEqual(before);
  });

  it('a write cut short once (then fine) is completed: the file is whole and matches its manifest', async () => {
    const { root } = await withPrevious();
    let cut = false;
    const once: Write = (real, chunk, offset, length, position) => {
      const stored = cut ? length : Math.ceil(length / 2);
      cut = true;
      return real.write(chunk, offset, stored, position);
    };
    const published = await publishVersion(new LocalExporter(root, fsWithCsvWrites(once)), 2);
    const expected = await publishVersion(new LocalExporter(join(await tempDir(), 'exports')), 2);
    expect(published.sha256).toBe(expected.sha256);
    expect(sha(await fs.readFile(join(root, CSV)))).toBe(expected.sha256);
    expect(await expectManifestsMatch(root)).toBe(1);
  });

  it('flushes the file before it is renamed into place, and the folder after', async () => {
    const root = join(await tempDir(), 'exports');
    const calls: string[] = [];
    const name = (path: unknown) => String(path).slice(root.length + 1).replace(/\.tmp-\d+$/, '.tmp') || '<root>';
    const traced: ExportFs = {
      ...fs,
      open: (async (path: string, flags: string) => {
        const handle = await fs.open(path, flags);
        return new Proxy(handle, {
          get(target, property) {
            const value = Reflect.get(target, property) as unknown;
            if (property === 'sync') return () => (calls.push(`sync ${name(path)}`), target.sync());
            return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
          },
        });
      }) as ExportFs['open'],
      rename: async (from, to) => {
        calls.push(`rename ${name(from)}`);
        await fs.rename(from, to);
      },
    };
    await publishVersion(new LocalExporter(root, traced), 1);
    expect(calls.slice(0, 3)).toEqual([`sync ${CSV}.tmp`, `rename ${CSV}.tmp`, `sync cart_funnel_daily/dt=${D}`]);
  });
});

async function webhook() {
  const received: { days: { date: string; status: string; reason: string }[] }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      received.push(JSON.parse(body) as (typeof received)[number]);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, received, close: () => server.close() };
}

const dayV1 = [ev('add_to_cart', { items: [item('A')] }), ev('page_view', { session: 2 })];
const dayV2 = [...dayV1, ev('add_to_cart', { session: 3, items: [item('B')] })];
const runState = (dir: string) => queryWarehouse(join(dir, 'state', 'warehouse.duckdb'), `SELECT strftime(date, '%Y-%m-%d') AS date, status, last_error FROM run_state ORDER BY date`);

describe('a publish that fails on one date of several', () => {
  it('records the dates published before it as published, the rest failed, and a missing one deferred', async () => {
    const dir = await tempDir();
    await writeInput(dir, { 'a.json': [ev('add_to_cart', { items: [item('A')] }), ev('page_view', { date: '20261102' }), ev('page_view', { date: '20261103' })] });
    const configFile = await writeConfig(dir);
    const loaded = parseConfig(await fs.readFile(configFile, 'utf8'), configFile);
    const root = join(dir, 'exports');
    // The exporter refuses the 2nd's files only: the 1st is already published whole by then.
    const local = new LocalExporter(root);
    const failing: Exporter = Object.assign(Object.create(local) as Exporter, {
      publish: (table: string, date: string, csv: Parameters<Exporter['publish']>[2], extra?: Record<string, unknown>) =>
        date === '2026-11-02' ? Promise.reject(errno('EIO', 'write', `${table}/dt=${date}`)) : local.publish(table, date, csv, extra),
    });
    const error = await runPipeline({ loaded, exporter: failing, dates: ['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    const states = await runState(dir);
    expect(states.map((s) => [s.date, s.status])).toEqual([['2026-11-01', 'complete'], ['2026-11-02', 'failed'], ['2026-11-03', 'failed'], ['2026-11-04', 'deferred']]);
    await expect(fs.access(join(root, '_SUCCESS', 'dt=2026-11-01.json'))).resolves.toBeUndefined();
  });
});

describe('a publish that fails after the warehouse commit', () => {
  it('(read-only export folder, no dates named) fails the run in one line, marks its dates failed, alerts, and keeps the files', async () => {
    const hook = await webhook();
    try {
      const dir = await tempDir();
      await writeInput(dir, { 'events_20261101.json': dayV1 });
      const configFile = await writeConfig(dir, `alerts: { webhook_url: "${hook.url}", retries: 0 }\n`);
      const loaded = parseConfig(await fs.readFile(configFile, 'utf8'), configFile);
      // Within GA4's revision window: a run that names no dates recomputes the day.
      const now = () => new Date('2026-11-02T12:00:00Z');
      await runPipeline({ loaded, now });
      const root = join(dir, 'exports');
      const before = await snapshot(root);

      await writeInput(dir, { 'events_20261101.json': dayV2 });
      const readOnly: ExportFs = {
        ...fs,
        mkdir: async (path) => Promise.reject(errno('EROFS', 'mkdir', String(path))),
        open: (async (path: string, flags: string) => (flags === 'r' ? fs.open(path, flags) : Promise.reject(errno('EROFS', 'open', path)))) as ExportFs['open'],
        rm: async (path) => Promise.reject(errno('EROFS', 'unlink', String(path))),
        rmdir: async (path) => Promise.reject(errno('EROFS', 'rmdir', String(path))),
        rename: async (from) => Promise.reject(errno('EROFS', 'rename', String(from))),
      };
      const error = await runPipeline({ loaded, now, exporter: new LocalExporter(root, readOnly) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PublishError);
      const line = (error as PublishError).oneLine;
      expect(line).toBe(`cannot write to export.dir ${root}: read-only file system (EROFS at _SUCCESS/dt=${D}.json) — make it writable, or point export.dir at a writable folder`);
      expect(await runState(dir)).toEqual([{ date: D, status: 'failed', last_error: line }]);
      expect(hook.received.map((a) => a.days)).toEqual([[{ date: D, status: 'failed', reason: line }]]);
      expect(await snapshot(root)).toEqual(before);
      expect(await expectManifestsMatch(root)).toBe(4);
    } finally {
      hook.close();
    }
  });

  it('(export.dir is a file) exits 1 with a one-line error saying what to fix, and marks the date failed', async () => {
    const dir = await tempDir();
    await writeInput(dir, { 'events_20261101.json': dayV1 });
    const config = await writeConfig(dir);
    await fs.writeFile(join(dir, 'exports'), 'a file where the export folder should be\n');
    const run = await cli(['run', '--config', config]);
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines.at(-1)).toBe(`error: cannot write to export.dir ${join(dir, 'exports')}: a file is where a folder should be (ENOTDIR) — move that file away, or point export.dir at a folder`);
    expect(await runState(dir)).toEqual([{ date: D, status: 'failed', last_error: lines.at(-1)!.slice('error: '.length) }]);
  });
});

/** Wraps an exporter, logging each call that changes something, in order. */
function recorded(inner: Exporter, log: string[]): Exporter {
  return {
    get description() {
      return inner.description;
    },
    publish: (table, date, csv, extra) => (log.push(`publish ${table} ${date}`), inner.publish(table, date, csv, extra)),
    remove: (table, date) => (log.push(`remove ${table} ${date}`), inner.remove(table, date)),
    writeJson: (path, document) => (log.push(`write ${path}`), inner.writeJson(path, document)),
    writeText: (path, text, type) => (log.push(`write ${path}`), inner.writeText(path, text, type)),
    readJson: (path) => inner.readJson(path),
    deleteFile: (path) => (log.push(`delete ${path}`), inner.deleteFile(path)),
    sweepTemporaryFiles: () => (log.push('sweep'), inner.sweepTemporaryFiles()),
  };
}

describe('the completion marker', () => {
  it('is deleted before a date changes, written after all its files, and names the run and the files with their SHA-256', async () => {
    const dir = await tempDir();
    await writeInput(dir, { 'a.json': [...dayV1, ev('add_to_cart', { date: '20261102', items: [item('A')] })] });
    const configFile = await writeConfig(dir);
    const loaded = parseConfig(await fs.readFile(configFile, 'utf8'), configFile);
    const root = join(dir, 'exports');
    const log: string[] = [];
    const report = await runPipeline({ loaded, exporter: recorded(new LocalExporter(root), log) });
    const marker = completionMarkerPath(D);
    const forD = log.filter((call) => call.includes(D) || call.includes(D.replaceAll('-', '')));
    expect(forD[0]).toBe(`delete ${marker}`);
    expect(forD.filter((c) => !c.startsWith('write run_report')).at(-1)).toBe(`write ${marker}`);
    expectOrder(forD, `write report/dt=${D}/report.html`, `write ${marker}`);

    for (const date of [D, '2026-11-02']) {
      const written = JSON.parse(await fs.readFile(join(root, completionMarkerPath(date)), 'utf8')) as CompletionMarker;
      expect(written.run_id).toBe(report.run_id);
      expect(written.date).toBe(date);
      expect(written.files.map((f) => f.table)).toEqual(PUBLISHED_TABLES.map((t) => t.name));
      for (const file of written.files) {
        const data = await fs.readFile(join(root, file.path));
        expect({ sha256: sha(data), bytes: data.length }).toEqual({ sha256: file.sha256, bytes: file.bytes });
        const manifest = JSON.parse(await fs.readFile(join(root, file.path, '..', 'manifest.json'), 'utf8')) as { sha256: string; rows: number };
        expect({ sha256: manifest.sha256, rows: manifest.rows }).toEqual({ sha256: file.sha256, rows: file.rows });
      }
    }
    expect(await expectManifestsMatch(root)).toBe(8);
  });

  it('goes first when a re-run removes a date that has no included event any more', async () => {
    const first = await runOn({ 'a.json': [ev('page_view'), ev('add_to_cart', { date: '20261102', items: [item('A')] })] });
    const root = join(first.dir, 'exports');
    const marker = completionMarkerPath('2026-11-02');
    await fs.access(join(root, marker));
    await writeInput(first.dir, { 'a.json': [ev('page_view'), ev('add_to_cart', { date: '20261102', session: undefined, items: [item('A')] })] });
    const configFile = join(first.dir, 'cartlens.yaml');
    const log: string[] = [];
    // Named and accepted: a day that falls to no included event is otherwise withheld (published-guards.ts).
    await runPipeline({ loaded: parseConfig(await fs.readFile(configFile, 'utf8'), configFile), dates: [D, '2026-11-02'], acceptShrink: true, exporter: recorded(new LocalExporter(root), log) });
    const forDay = log.filter((call) => call.includes('2026-11-02'));
    expect(forDay.slice(0, 2)).toEqual([`delete ${marker}`, 'remove cart_funnel_daily 2026-11-02']);
    await expect(fs.access(join(root, marker))).rejects.toThrow(/ENOENT/);
    await fs.access(join(root, completionMarkerPath(D)));
  });
});

describe('temporary files a killed run left', () => {
  it('are swept by the next run: cartlens temporary names only', async () => {
    const first = await runOn({ 'a.json': dayV1 });
    const root = join(first.dir, 'exports');
    // Process ids no process has here (above any pid in use), and this test's own, which is alive:
    // a live process may still be writing its temporary file (another source's run into the same root).
    const dead = [3999991, 3999992, 3999993];
    const leftovers = [
      `${CSV}.tmp-${dead[0]}`, `cart_funnel_daily/dt=${D}/manifest.json.tmp-${dead[0]}`, `report/dt=${D}/report.html.tmp-${dead[1]}`,
      `_SUCCESS/dt=${D}.json.tmp-${dead[1]}`, `run_report/last_run.json.tmp-${dead[2]}`,
      `report/ga4_api/dt=${D}/report.html.tmp-${dead[2]}`, `_SUCCESS/ga4_api/dt=${D}.json.tmp-${dead[2]}`,
    ];
    const strangers = [`cart_funnel_daily/dt=${D}/notes.txt.tmp-1`, `cart_funnel_daily/dt=${D}/copy.csv.tmp-x`, 'a/b/c/deep.csv.tmp-3', `cart_items_daily/dt=${D}/in-flight.csv.tmp-${process.pid}`];
    for (const path of [...leftovers, ...strangers]) {
      await fs.mkdir(join(root, path, '..'), { recursive: true });
      await fs.writeFile(join(root, path), 'partial');
    }
    await runOn({}, { dir: first.dir });
    const files = await listFiles(root);
    expect(files.filter((f) => /\.tmp-/.test(f)).sort()).toEqual([...strangers].sort());
    expect(await expectManifestsMatch(root)).toBe(4);
  });
});
