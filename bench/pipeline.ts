// `npm run bench` (or `npm run bench -- pipeline`): issue 15's four goals, measured side by side in
// one run on generated GA4 export days (gzipped NDJSON):
//   1. `cartlens run` on a 1M-event day ≤ 1.5× the one DuckDB query of bench/single-query.sql over
//      the same file;
//   2. the same day written as 64 files (GA4's naming) ≤ 1.2× the day as one file;
//   3. peak RSS ≤ 768 MiB at 1M;  4. peak RSS at 5M no higher than at 1M;
//   5. (issue 22) the cart recovery steps (models recovery_carts and cart_recoveries, and the
//      republish of reached dates) ≤ 10% of the run's wall time at 1M (their seconds: the report's `steps`).
// Above goal 1's limit it names the three longest steps of the run with their seconds (issue 24).
// Peak RSS is the process's VmHWM (DuckDB's native memory included). Each figure is the median of
// CARTLENS_BENCH_REPEAT runs (default 1); the run report's per-step `timings` are printed too.
// CARTLENS_BENCH_EVENTS=1000000 measures one size only (the 64-file day exists at 1M only).
// CARTLENS_BENCH_DIRTY_RATE sets the generator's share of dirty events (default 0.004, which puts
// cut lines in every file: each then needs its scratch copy; 0 makes a day of clean files, read as
// landed). Inputs are cached in $TMPDIR/cartlens-bench. A benchmark, not a test: it asserts nothing.
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, writeFile, mkdir, rm, stat, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createGunzip, createGzip } from 'node:zlib';
import { DEMO_DEFAULTS } from '../src/config/schema.js';
import { generateDemoExport } from '../src/sources/demo/generator.js';

const BIN = fileURLToPath(new URL('../bin/cartlens.js', import.meta.url));
const QUERY = fileURLToPath(new URL('./single-query.mjs', import.meta.url));
const ROOT = process.env.CARTLENS_BENCH_DIR ?? join(tmpdir(), 'cartlens-bench');
const SIZES = (process.env.CARTLENS_BENCH_EVENTS ?? '1000000,5000000').split(',').map(Number);
const REPEAT = Number(process.env.CARTLENS_BENCH_REPEAT ?? 1);
const SHARDS = 64;
const DIRTY_RATE = Number(process.env.CARTLENS_BENCH_DIRTY_RATE ?? DEMO_DEFAULTS.dirtyRate);
const EVENTS_PER_SESSION = 5.75; // what the generator averages
const MiB = 2 ** 20;

interface Measured {
  wallSeconds: number;
  peakRssMiB: number;
  stdout: string;
}
interface RunReport {
  files: { lines: number }[];
  dates: { summary?: { sessions: number; abandoned_carts: number } }[];
  timings?: Record<string, number>;
  steps?: { name: string; seconds: number }[];
}

const results: Record<string, { wall: number; rss: number; recovery?: number; timings?: Record<string, number> }> = {};

/** Seconds the run spent on cart recovery: its models and the republish of reached dates. */
function recoverySeconds(report: RunReport): number | undefined {
  const steps = report.steps?.filter((s) => ['model recovery_carts', 'model cart_recoveries', 'republish'].includes(s.name));
  return steps && steps.length > 0 ? steps.reduce((sum, s) => sum + s.seconds, 0) : undefined;
}

for (const events of SIZES) {
  const dir = join(ROOT, DIRTY_RATE === DEMO_DEFAULTS.dirtyRate ? `${events}` : `${events}-dirty-${DIRTY_RATE}`);
  const input = await oneFileDay(dir, events);
  const files = await gzFiles(input);
  const query = await median(() => measure([QUERY, join(dir, 'query.csv'), ...files]));
  print(`${label(events)} one DuckDB query`, query);
  const run = await median(() => cartlensRun(dir, 'one-file', input));
  print(`${label(events)} cartlens run, 1 file`, run, JSON.parse(run.stdout) as RunReport);
  results[`query ${events}`] = { wall: query.wallSeconds, rss: query.peakRssMiB };
  const runReport = JSON.parse(run.stdout) as RunReport;
  results[`run ${events}`] = { wall: run.wallSeconds, rss: run.peakRssMiB, recovery: recoverySeconds(runReport), ...(runReport.timings ? { timings: runReport.timings } : {}) };
  if (events === SIZES[0]) {
    const sharded = await shardedDay(dir, input);
    const many = await median(() => cartlensRun(dir, 'sharded', sharded));
    print(`${label(events)} cartlens run, ${SHARDS} files`, many, JSON.parse(many.stdout) as RunReport);
    results[`sharded ${events}`] = { wall: many.wallSeconds, rss: many.peakRssMiB };
  }
}

// The goals, judged on what was measured.
const goal = (name: string, value: number | undefined, limit: number | undefined, unit: string) => {
  if (value === undefined || limit === undefined) return;
  process.stdout.write(`goal: ${name}: ${value.toFixed(2)}${unit} (limit ${limit.toFixed(2)}${unit}) ${value <= limit ? 'MET' : 'NOT MET'}\n`);
};
const [small, large] = [SIZES[0]!, SIZES.find((s) => s > SIZES[0]!)];
goal(`run / query at ${label(small)}`, ratio(results[`run ${small}`]?.wall, results[`query ${small}`]?.wall), 1.5, '×');
// Issue 24: above the limit, the steps that hold the run, longest first, with their seconds.
const runTimings = results[`run ${small}`]?.timings;
if (runTimings && (ratio(results[`run ${small}`]?.wall, results[`query ${small}`]?.wall) ?? 0) > 1.5) {
  const longest = Object.entries(runTimings).sort((a, b) => b[1] - a[1]).slice(0, 3);
  process.stdout.write(`goal: run / query at ${label(small)}: held by ${longest.map(([step, seconds]) => `${step} ${seconds.toFixed(2)} s`).join(', ')}\n`);
}
goal(`${SHARDS} files / 1 file at ${label(small)}`, ratio(results[`sharded ${small}`]?.wall, results[`run ${small}`]?.wall), 1.2, '×');
goal(`peak RSS at ${label(small)}`, results[`run ${small}`]?.rss, 768, ' MiB');
if (large) goal(`peak RSS at ${label(large)} against ${label(small)}`, results[`run ${large}`]?.rss, results[`run ${small}`]?.rss, ' MiB');
goal(`cart recovery / run at ${label(small)}`, ratio(results[`run ${small}`]?.recovery, results[`run ${small}`]?.wall), 0.1, '×');

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a / b;
}

function label(events: number): string {
  return events >= 1e6 ? `${events / 1e6}M` : `${events / 1e3}k`;
}

function print(what: string, measured: Measured, report?: RunReport): void {
  const lines = report?.files.reduce((sum, f) => sum + f.lines, 0);
  const summary = report?.dates[0]?.summary;
  process.stdout.write(
    `${JSON.stringify({
      what,
      wall_s: +measured.wallSeconds.toFixed(2),
      peak_rss_mib: measured.peakRssMiB,
      ...(lines ? { lines, events_per_s: Math.round(lines / measured.wallSeconds) } : {}),
      ...(summary ? { sessions: summary.sessions, abandoned_carts: summary.abandoned_carts } : {}),
      ...(report?.timings ? { timings: report.timings } : {}),
      ...(report && recoverySeconds(report) !== undefined ? { recovery_s: recoverySeconds(report) } : {}),
    })}\n`,
  );
}

async function median(measureOnce: () => Promise<Measured>): Promise<Measured> {
  const all: Measured[] = [];
  for (let i = 0; i < REPEAT; i++) all.push(await measureOnce());
  all.sort((a, b) => a.wallSeconds - b.wallSeconds);
  return all[Math.floor((all.length - 1) / 2)]!;
}

/** The generated day as one file, as the demo generator writes it (cached). */
async function oneFileDay(dir: string, events: number): Promise<string> {
  const input = join(dir, 'input');
  const stamp = join(input, '.bench');
  const sessions = Math.round(events / EVENTS_PER_SESSION);
  if ((await readFile(stamp, 'utf8').catch(() => '')) !== String(sessions)) {
    await rm(input, { recursive: true, force: true });
    await mkdir(input, { recursive: true });
    process.stderr.write(`generating one day of ~${events} events into ${input} …\n`);
    const started = Date.now();
    await generateDemoExport({ ...DEMO_DEFAULTS, dirtyRate: DIRTY_RATE, outDir: input, days: 1, sessionsPerDay: sessions });
    await writeFile(stamp, String(sessions));
    process.stderr.write(`  generated in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
  return input;
}

/** The same day's lines, in the same order, as SHARDS files named as GA4 names them (cached). */
async function shardedDay(dir: string, oneFile: string): Promise<string> {
  const input = join(dir, 'sharded');
  const stamp = join(input, '.bench');
  const source = join(oneFile, 'events_20261101.json.gz');
  const sourceInfo = `${(await stat(source)).size}`;
  if ((await readFile(stamp, 'utf8').catch(() => '')) === sourceInfo) return input;
  await rm(input, { recursive: true, force: true });
  await mkdir(input, { recursive: true });
  process.stderr.write(`splitting the day into ${SHARDS} files in ${input} …\n`);
  const plainBytes = await countBytes(source);
  const target = Math.ceil(plainBytes / SHARDS);
  let shard = -1;
  let written = target;
  let out: ReturnType<typeof createGzip> | undefined;
  const finished: Promise<unknown>[] = [];
  for await (const line of createInterface({ input: createReadStream(source).pipe(createGunzip()), crlfDelay: Infinity })) {
    if (written >= target) {
      out?.end();
      shard++;
      out = createGzip();
      finished.push(once(out.pipe(createWriteStream(join(input, `events_20261101_${String(shard).padStart(12, '0')}.json.gz`))), 'finish'));
      written = 0;
    }
    if (!out!.write(`${line}\n`)) await once(out!, 'drain');
    written += line.length + 1;
  }
  out?.end();
  await Promise.all(finished);
  await writeFile(stamp, sourceInfo);
  return input;
}

async function countBytes(gz: string): Promise<number> {
  let bytes = 0;
  for await (const chunk of createReadStream(gz).pipe(createGunzip()) as AsyncIterable<Buffer>) bytes += chunk.length;
  return bytes;
}

async function gzFiles(folder: string): Promise<string[]> {
  return (await readdir(folder)).filter((name) => name.endsWith('.json.gz')).sort().map((name) => join(folder, name));
}

/** A fresh warehouse and export folder, then `cartlens run --json` over `input`. */
async function cartlensRun(dir: string, name: string, input: string): Promise<Measured> {
  const work = join(dir, `run-${name}`);
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  await writeFile(
    join(work, 'cartlens.yaml'),
    `source: { type: ga4-export-files, path: "${input}/*.json.gz" }\nwarehouse: { type: duckdb, path: "state/warehouse.duckdb" }\nexport: { type: local, dir: "exports" }\nlanding: { dir: "state/landing" }\n`,
  );
  return measure([BIN, 'run', '--config', join(work, 'cartlens.yaml'), '--json']);
}

/** Runs `node …args`, timing it and polling its peak resident memory. */
async function measure(args: string[]): Promise<Measured> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  let peak = 0;
  // VmHWM is the kernel's high-water mark of resident memory for the process.
  const poll = setInterval(async () => {
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
    const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    peak = Math.max(peak, kb * 1024);
  }, 25);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(poll);
  if (code !== 0) throw new Error(`node ${args.join(' ')} exited with ${code}`);
  return { wallSeconds: Number(process.hrtime.bigint() - started) / 1e9, peakRssMiB: Math.round(peak / MiB), stdout };
}
