// `npm run bench` (or `npm run bench -- pipeline`): times `cartlens run` on one generated day of 1M events, then 5M, printing
// events/s, wall time and peak RSS (the process's VmHWM, DuckDB's native memory included).
// A benchmark, not a test: it asserts nothing and is not part of `npm test`.
import { spawn } from 'node:child_process';
import { readFile, writeFile, mkdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_DEFAULTS, generateDemoExport } from '../src/sources/demo/generator.js';

const BIN = fileURLToPath(new URL('../bin/cartlens.js', import.meta.url));
const ROOT = process.env.CARTLENS_BENCH_DIR ?? join(tmpdir(), 'cartlens-bench');
const SIZES = (process.env.CARTLENS_BENCH_EVENTS ?? '1000000,5000000').split(',').map(Number);
const EVENTS_PER_SESSION = 5.75; // what the generator averages

for (const events of SIZES) {
  const dir = join(ROOT, `${events}`);
  const input = join(dir, 'input');
  const stamp = join(input, '.bench');
  const sessions = Math.round(events / EVENTS_PER_SESSION);
  if ((await readFile(stamp, 'utf8').catch(() => '')) !== String(sessions)) {
    await rm(input, { recursive: true, force: true });
    await mkdir(input, { recursive: true });
    process.stderr.write(`generating one day of ~${events} events into ${input} …\n`);
    const started = Date.now();
    await generateDemoExport({ ...DEMO_DEFAULTS, outDir: input, days: 1, sessionsPerDay: sessions });
    await writeFile(stamp, String(sessions));
    process.stderr.write(`  generated in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
  await rm(join(dir, 'state'), { recursive: true, force: true });
  await rm(join(dir, 'exports'), { recursive: true, force: true });
  await writeFile(
    join(dir, 'cartlens.yaml'),
    'source: { type: ga4-export-files, path: "input/*.json.gz" }\nwarehouse: { type: duckdb, path: "state/warehouse.duckdb" }\nexport: { type: local, dir: "exports" }\nlanding: { dir: "state/landing" }\n',
  );
  const gz = (await stat(join(input, 'events_20261101.json.gz'))).size;
  const { wallSeconds, peakRssBytes, report } = await timeRun(join(dir, 'cartlens.yaml'));
  const day = report.dates[0];
  const lines = report.files.reduce((sum, f) => sum + f.lines, 0);
  const result = {
    events: lines,
    input_gzip_mb: +(gz / 2 ** 20).toFixed(1),
    wall_s: +wallSeconds.toFixed(2),
    events_per_s: Math.round(lines / wallSeconds),
    peak_rss_mib: Math.round(peakRssBytes / 2 ** 20),
    sessions: day?.summary?.sessions,
    abandoned_carts: day?.summary?.abandoned_carts,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function timeRun(config: string): Promise<{ wallSeconds: number; peakRssBytes: number; report: { files: { lines: number }[]; dates: { summary?: { sessions: number; abandoned_carts: number } }[] } }> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [BIN, 'run', '--config', config, '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
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
  if (code !== 0) throw new Error(`cartlens run exited with ${code}`);
  return { wallSeconds: Number(process.hrtime.bigint() - started) / 1e9, peakRssBytes: peak, report: JSON.parse(stdout) };
}
