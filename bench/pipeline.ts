// `npm run bench` (or `npm run bench -- pipeline`): the pipeline's goals, measured side by side in
// one run on generated GA4 export days (gzipped NDJSON), each printed with its verdict:
//   1. (issues 15, 24) `cartlens run` at 1M ≤ 1.5× the one DuckDB query of bench/single-query.sql
//      (above it, the three longest steps);  2. the day as 64 files (GA4's naming) ≤ 1.2× one file;
//   3. peak RSS ≤ 768 MiB at 1M;  4. at the next size, no higher than at 1M;  5. (issue 22) the cart
//      recovery steps ≤ 10% of the run at 1M;
//   issue 24: peak RSS flat from 1M to the largest size ("flat": at most 1M's peak × 1.1);
//      bench/pandas-funnel.py (the same funnel in pandas, at 1M, where a python3 imports pandas;
//      CARTLENS_BENCH_PYTHON names one) ≥ 10× the run, its CSV checked against the query's; a 10M
//      day completes (its wall time and peak RSS; a failed run is printed, not fatal).
// Peak RSS is the process's VmHWM (DuckDB's native memory included). Each figure is the median of
// CARTLENS_BENCH_REPEAT runs (default 1). CARTLENS_BENCH_EVENTS lists the sizes (default
// 1000000,5000000; 1000000,10000000 measures the 10M goal); the 64-file day and pandas run at the
// first only. CARTLENS_BENCH_DIRTY_RATE sets the generator's share of dirty events (default 0.004:
// cut lines in every file, each then needing its scratch copy; 0: clean files, read as landed).
// Inputs are cached in $TMPDIR/cartlens-bench. A benchmark, not a test: it asserts nothing.
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
import { pandasPython } from './pandas-python.js';

const BIN = fileURLToPath(new URL('../bin/cartlens.js', import.meta.url));
const QUERY = fileURLToPath(new URL('./single-query.mjs', import.meta.url));
const PANDAS = fileURLToPath(new URL('./pandas-funnel.py', import.meta.url));
const ROOT = process.env.CARTLENS_BENCH_DIR ?? join(tmpdir(), 'cartlens-bench');
const SIZES = (process.env.CARTLENS_BENCH_EVENTS ?? '1000000,5000000').split(',').map(Number);
const REPEAT = Number(process.env.CARTLENS_BENCH_REPEAT ?? 1);
const SHARDS = 64;
const DIRTY_RATE = Number(process.env.CARTLENS_BENCH_DIRTY_RATE ?? DEMO_DEFAULTS.dirtyRate);
const EVENTS_PER_SESSION = 5.75; // what the generator averages
const TEN_MILLION = 10_000_000;
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
  peak_rss?: { mib: number; step: string };
}
/** A measured process that exited non-zero: how long it ran and what it peaked at before it did. */
class Failed extends Error {
  constructor(
    readonly measured: Measured,
    readonly stderrTail: string[],
    message: string,
  ) {
    super(message);
  }
}
interface Result {
  wall: number;
  rss: number;
  recovery?: number;
  timings?: Record<string, number>;
  peakStep?: string;
  /** Set when the process failed: wall and rss are then up to the failure. */
  failure?: string;
}

const results: Record<string, Result> = {};
const python = pandasPython();

for (const events of SIZES) {
  const dir = join(ROOT, DIRTY_RATE === DEMO_DEFAULTS.dirtyRate ? `${events}` : `${events}-dirty-${DIRTY_RATE}`);
  const input = await oneFileDay(dir, events);
  const files = await gzFiles(input);
  const queryCsv = join(dir, 'query.csv');
  results[`query ${events}`] = await attempt(`${label(events)} one DuckDB query`, () => measure(process.execPath, [QUERY, queryCsv, ...files]));
  results[`run ${events}`] = await attempt(`${label(events)} cartlens run, 1 file`, () => cartlensRun(dir, 'one-file', input));
  if (events !== SIZES[0]) continue;
  results[`sharded ${events}`] = await attempt(`${label(events)} cartlens run, ${SHARDS} files`, async () => cartlensRun(dir, 'sharded', await shardedDay(dir, input)));
  if (python) {
    const pandasCsv = join(dir, 'pandas.csv');
    results[`pandas ${events}`] = await attempt(`${label(events)} pandas`, () => measure(python, [PANDAS, pandasCsv, ...files]));
    if (completed(results[`pandas ${events}`]) && completed(results[`query ${events}`])) await compareCsv(pandasCsv, queryCsv);
  }
}

// The goals, judged on what was measured.
const [small, largest] = [SIZES[0]!, Math.max(...SIZES)];
const next = SIZES.find((s) => s > small);
const run = (events: number) => results[`run ${events}`];
const wall = (result: Result | undefined) => completed(result)?.wall;
const seconds = (result: Result | undefined) => (result ? `${result.wall.toFixed(1)} s` : '?');
const rssAt = (events: number) => {
  const result = run(events);
  return result ? `${label(events)}: ${result.rss} MiB${result.peakStep ? ` in ${result.peakStep}` : ''}` : '?';
};

// a. (issue 15's goal 1)
const runOverQuery = ratio(wall(run(small)), wall(results[`query ${small}`]));
goal(`run / query at ${label(small)}`, runOverQuery, 1.5, '×', { detail: `run ${seconds(run(small))}, query ${seconds(results[`query ${small}`])}` });
const runTimings = completed(run(small))?.timings;
if (runTimings && (runOverQuery ?? 0) > 1.5) {
  const longest = Object.entries(runTimings).sort((a, b) => b[1] - a[1]).slice(0, 3);
  say(`run / query at ${label(small)}: held by ${longest.map(([step, s]) => `${step} ${s.toFixed(2)} s`).join(', ')}`);
}
goal(`${SHARDS} files / 1 file at ${label(small)}`, ratio(wall(results[`sharded ${small}`]), wall(run(small))), 1.2, '×');
goal(`peak RSS at ${label(small)}`, completed(run(small))?.rss, 768, ' MiB');
if (next) goal(`peak RSS at ${label(next)} against ${label(small)}`, completed(run(next))?.rss, completed(run(small))?.rss, ' MiB');
goal(`cart recovery / run at ${label(small)}`, ratio(completed(run(small))?.recovery, wall(run(small))), 0.1, '×');

// b. A failed run's peak is only as far as it got: not flat.
const flatName = `peak RSS flat from ${label(small)} to ${label(largest)}`;
if (largest === small) say(`peak RSS flat from ${label(small)}: not measured (one size only)`);
else if (run(largest)?.failure) say(`${flatName}: not flat (${rssAt(largest)} before it failed; ${rssAt(small)}) NOT MET`);
else goal(flatName, completed(run(largest))?.rss, mul(completed(run(small))?.rss, 1.1), ' MiB', { detail: `${rssAt(largest)}; ${rssAt(small)}`, limitIs: `${label(small)}'s × 1.1` });

// c.
const pandasName = `pandas / run at ${label(small)}`;
if (!python) say(`${pandasName}: not measured (python3 with pandas not installed)`);
else if (results[`pandas ${small}`]?.failure) say(`${pandasName}: not measured (pandas failed: ${results[`pandas ${small}`]!.failure})`);
else {
  goal(pandasName, ratio(wall(results[`pandas ${small}`]), wall(run(small))), 10, '×', { detail: `pandas ${seconds(results[`pandas ${small}`])}, run ${seconds(run(small))}`, atLeast: true });
  // The one query does a part of the run's work: where even it is under 10× pandas, no run can reach it.
  const queryOverPandas = ratio(wall(results[`pandas ${small}`]), wall(results[`query ${small}`]));
  if (queryOverPandas !== undefined && queryOverPandas < 10) say(`${pandasName}: out of reach on this machine: the one DuckDB query alone is ${queryOverPandas.toFixed(2)}× pandas (query ${seconds(results[`query ${small}`])})`);
}

// d.
if (largest < TEN_MILLION) say(`${label(TEN_MILLION)} day completes: not measured (CARTLENS_BENCH_EVENTS=${small},${TEN_MILLION} measures it)`);
else {
  const result = run(largest)!;
  const what = `${label(largest)} day completes`;
  if (result.failure) say(`${what}: failed after ${seconds(result)} at a peak RSS of ${result.rss} MiB: ${result.failure} NOT MET`);
  else say(`${what}: in ${seconds(result)}, peak RSS ${result.rss} MiB${result.peakStep ? ` in ${result.peakStep}` : ''} MET`);
}

function completed(result: Result | undefined): Result | undefined {
  return result && !result.failure ? result : undefined;
}

function say(line: string): void {
  process.stdout.write(`goal: ${line}\n`);
}

/** One goal's line: its value against its limit (at most, unless `atLeast`), what it came from, and the verdict. */
function goal(name: string, value: number | undefined, limit: number | undefined, unit: string, how: { detail?: string; limitIs?: string; atLeast?: boolean } = {}): void {
  if (value === undefined || limit === undefined) return;
  const met = how.atLeast ? value >= limit : value <= limit;
  const against = `${how.atLeast ? 'at least' : 'limit'} ${limit.toFixed(2)}${unit}${how.limitIs ? ` = ${how.limitIs}` : ''}`;
  say(`${name}: ${value.toFixed(2)}${unit} (${how.detail ? `${how.detail}; ` : ''}${against}) ${met ? 'MET' : 'NOT MET'}`);
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a / b;
}

function mul(a: number | undefined, factor: number): number | undefined {
  return a === undefined ? undefined : a * factor;
}

function label(events: number): string {
  return events >= 1e6 ? `${events / 1e6}M` : `${events / 1e3}k`;
}

/** Measures `what` (median of REPEAT), prints its line and returns its result; a failure is printed and returned, not thrown. */
async function attempt(what: string, measureOnce: () => Promise<Measured>): Promise<Result> {
  try {
    const measured = await median(measureOnce);
    const report = measured.stdout.trim().startsWith('{') ? (JSON.parse(measured.stdout) as RunReport) : undefined;
    print(what, measured, report);
    return {
      wall: measured.wallSeconds,
      rss: measured.peakRssMiB,
      ...(report && recoverySeconds(report) !== undefined ? { recovery: recoverySeconds(report) } : {}),
      ...(report?.timings ? { timings: report.timings } : {}),
      ...(report?.peak_rss ? { peakStep: report.peak_rss.step } : {}),
    };
  } catch (error) {
    if (!(error instanceof Failed)) throw error;
    const { measured, stderrTail, message } = error;
    process.stdout.write(`${JSON.stringify({ what, failed: message, wall_s: +measured.wallSeconds.toFixed(2), peak_rss_mib: measured.peakRssMiB, stderr_tail: stderrTail })}\n`);
    return { wall: measured.wallSeconds, rss: measured.peakRssMiB, failure: stderrTail.at(-1) ?? message };
  }
}

/** Seconds the run spent on cart recovery: its models and the republish of reached dates. */
function recoverySeconds(report: RunReport): number | undefined {
  const steps = report.steps?.filter((s) => ['model recovery_carts', 'model cart_recoveries', 'republish'].includes(s.name));
  return steps && steps.length > 0 ? steps.reduce((sum, s) => sum + s.seconds, 0) : undefined;
}

function print(what: string, measured: Measured, report?: RunReport): void {
  const lines = report?.files.reduce((sum, f) => sum + f.lines, 0);
  const summary = report?.dates[0]?.summary;
  process.stdout.write(
    `${JSON.stringify({
      what,
      wall_s: +measured.wallSeconds.toFixed(2),
      peak_rss_mib: measured.peakRssMiB,
      ...(report?.peak_rss ? { peak_rss_step: report.peak_rss.step, peak_rss_step_mib: report.peak_rss.mib } : {}),
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

/** Both yardsticks compute the same funnel: a difference means one of them is wrong. */
async function compareCsv(pandasCsv: string, queryCsv: string): Promise<void> {
  const [pandas, query] = await Promise.all([readFile(pandasCsv, 'utf8'), readFile(queryCsv, 'utf8')]);
  if (pandas !== query) {
    process.stdout.write(`warning: the pandas funnel ${pandasCsv} differs from the DuckDB query's ${queryCsv}\n`);
  }
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
  return measure(process.execPath, [BIN, 'run', '--config', join(work, 'cartlens.yaml'), '--json']);
}

/** Runs `command …args`, timing it and polling its peak resident memory; throws Failed on a non-zero exit. */
async function measure(command: string, args: string[]): Promise<Measured> {
  const started = process.hrtime.bigint();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    stderr = (stderr + chunk).slice(-8192); // enough for the last lines of a failure
  });
  let peak = 0;
  // VmHWM is the kernel's high-water mark of resident memory for the process.
  const poll = setInterval(async () => {
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
    const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    peak = Math.max(peak, kb * 1024);
  }, 25);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(poll);
  const measured = { wallSeconds: Number(process.hrtime.bigint() - started) / 1e9, peakRssMiB: Math.round(peak / MiB), stdout };
  if (code !== 0) {
    const lastLines = stderr.split('\n').map((line) => line.trim()).filter(Boolean).slice(-5);
    throw new Failed(measured, lastLines, `${command} ${args.join(' ')} exited with ${code}`);
  }
  return measured;
}
