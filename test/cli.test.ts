// The CLI end to end, in child processes: generated dirty data, re-runs, errors, locking.
import { createHash } from 'node:crypto';
import { cp, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { cli } from './support/cli.js';
import { listFiles, queryWarehouse, tempDir, writeConfig } from './support/pipeline.js';
import { eventRunReport, type EventRunReport } from '../src/pipeline/report.js';

const sha = (text: Buffer | string) => createHash('sha256').update(text).digest('hex');

async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const file of await listFiles(join(dir, 'exports'))) {
    // Run reports and completion markers name their run: the rest must be byte-identical.
    if (!file.startsWith('run_report') && !file.startsWith('_SUCCESS')) out[file] = sha(await readFile(join(dir, 'exports', file)));
  }
  return out;
}

describe('cartlens run on generated dirty data', () => {
  let dir: string;
  let report: EventRunReport;

  beforeAll(async () => {
    dir = await tempDir();
    const demo = await cli(['demo', '--days', '2', '--sessions-per-day', '400', '--dirty-rate', '0.08', '--out', join(dir, 'input')]);
    expect(demo.code, demo.stderr).toBe(0);
    // The demo's dates are fixed (November 2026): a retention counted from today would purge their
    // staged events on some dates the suite runs on and not on others.
    await writeConfig(dir, 'retention: { staged_days: 36500, quarantine_days: 36500 }\n');
    const run = await cli(['run', '--config', join(dir, 'cartlens.yaml'), '--json']);
    expect(run.code, run.stderr).toBe(0);
    report = eventRunReport(JSON.parse(run.stdout));
  });

  it('publishes three files and a manifest per date, each manifest true to its file', async () => {
    expect(report.dates.map((d) => d.status)).toEqual(['published', 'published']);
    for (const date of report.dates) {
      for (const table of ['cart_funnel_daily', 'abandoned_carts', 'cart_items_daily']) {
        const folder = join(dir, 'exports', table, `dt=${date.date}`);
        const manifest = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8'));
        const csv = await readFile(join(folder, manifest.file));
        expect(manifest.sha256).toBe(sha(csv));
        expect(manifest.rows).toBe(csv.toString().split('\n').length - 2);
        expect(manifest.rows).toBe(date.rows[table]);
      }
    }
  });

  it('accounts for every line: included, without session, duplicate or quarantined, under every reason', async () => {
    const quarantinedByReason: Record<string, number> = { ...report.undated.quarantined_by_reason };
    let accounted = Object.values(report.undated.quarantined_by_reason).reduce((a, b) => a + b, 0) + report.undated.duplicates;
    for (const date of report.dates) {
      accounted += date.quality.included_events + date.quality.events_without_session + date.quality.duplicates + date.quality.quarantined;
      for (const [reason, n] of Object.entries(date.quality.quarantined_by_reason)) quarantinedByReason[reason] = (quarantinedByReason[reason] ?? 0) + n;
    }
    const nonBlank = report.files.reduce((sum, f) => sum + f.lines - f.blank_lines, 0);
    expect(accounted).toBe(nonBlank);
    expect(Object.keys(quarantinedByReason).sort()).toEqual([
      'event_date_mismatch', 'event_params_not_array', 'invalid_event_date', 'invalid_event_timestamp', 'invalid_item_price', 'invalid_item_quantity',
      'invalid_item_revenue', 'invalid_json', 'items_not_array', 'missing_event_name', 'missing_user_pseudo_id',
    ]);
    const kept = await queryWarehouse(join(dir, 'state', 'warehouse.duckdb'), 'SELECT count(*)::INTEGER AS n FROM quarantined_events');
    expect(kept[0]!.n).toBe(Object.values(quarantinedByReason).reduce((a, b) => a + b, 0));
  });

  it('gives byte-identical files and no duplicated rows when run again', async () => {
    const before = await snapshot(dir);
    const again = await cli(['run', '--config', join(dir, 'cartlens.yaml')]);
    expect(again.code, again.stderr).toBe(0);
    expect(await snapshot(dir)).toEqual(before);
    const counts = await queryWarehouse(join(dir, 'state', 'warehouse.duckdb'), `
      SELECT (SELECT count(*) FROM stg_events)::INTEGER AS events,
             (SELECT count(*) FROM (SELECT DISTINCT input_seq, event_date FROM stg_events))::INTEGER AS distinct_events,
             (SELECT count(*) FROM cart_funnel_daily)::INTEGER AS funnel_rows`);
    expect(counts[0]).toMatchObject({ funnel_rows: 2 });
    expect(counts[0]!.events).toBe(counts[0]!.distinct_events);
    expect(counts[0]!.events).toBe(report.dates.reduce((sum, d) => sum + d.quality.included_events + d.quality.events_without_session, 0));
  });

  it('re-running one date rewrites that date only', async () => {
    const [first, second] = report.dates.map((d) => d.date);
    const untouched = join(dir, 'exports', 'cart_items_daily', `dt=${second}`, `cart_items_daily_${second!.replaceAll('-', '')}.csv`);
    const rewritten = join(dir, 'exports', 'cart_items_daily', `dt=${first}`, `cart_items_daily_${first!.replaceAll('-', '')}.csv`);
    // A published CSV is replaced by renaming a new file written beside it (both exist at once), so
    // a rewritten CSV is another inode: no clock involved.
    const [untouchedBefore, rewrittenBefore] = [(await stat(untouched)).ino, (await stat(rewritten)).ino];
    const one = await cli(['run', '--config', join(dir, 'cartlens.yaml'), '--date', first!]);
    expect(one.code, one.stderr).toBe(0);
    expect((await stat(untouched)).ino).toBe(untouchedBefore);
    expect((await stat(rewritten)).ino).not.toBe(rewrittenBefore);
    expect(one.stdout).toContain(first);
    expect(one.stdout).not.toContain(second);
  });

  it('prints a per-day table and where the files are', async () => {
    const [first, second] = report.dates.map((d) => d.date);
    const run = await cli(['run', '--config', join(dir, 'cartlens.yaml'), '--from', first!, '--to', second!]);
    expect(run.stdout).toMatch(/date\s+sessions\s+carts\s+abandon rate\s+purchases\s+revenue\s+abandoned value\s+quarantined/);
    expect(run.stdout).toContain(join(dir, 'exports'));
    // eslint-disable-next-line no-control-regex
    expect(run.stderr).not.toMatch(/\x1b\[/); // not a terminal: plain lines, no progress bar
  });

  it('with no dates named and every date final and published, says there is nothing to compute instead of an empty table', async () => {
    const run = await cli(['run', '--config', join(dir, 'cartlens.yaml')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toMatch(/date\s+sessions/);
    expect(run.stdout).toMatch(/^nothing to compute: 2 final date\(s\) already published left as they are \(2026-11-01, 2026-11-02\): name one with --date to recompute it$/m);
  });
});

describe('errors are one line, name the problem, and exit non-zero', () => {
  const expectOneLineError = (result: { code: number | null; stderr: string }, pattern: RegExp) => {
    expect(result.code).toBe(1);
    const errorLines = result.stderr.split('\n').filter((l) => l.startsWith('error:'));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(pattern);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace without --verbose
  };

  it('missing input', async () => {
    const dir = await tempDir();
    await writeConfig(dir);
    expectOneLineError(await cli(['run', '--config', join(dir, 'cartlens.yaml')]), /no input files match input\/\*\.json\*/);
  });

  it('corrupt gzip, naming the file', async () => {
    const dir = await tempDir();
    await writeConfig(dir);
    await cp(join(process.cwd(), 'package.json'), join(dir, 'input', 'events_20261101.json.gz'), { recursive: true });
    expectOneLineError(await cli(['run', '--config', join(dir, 'cartlens.yaml')]), /events_20261101\.json\.gz: cannot read: .*gzip/);
  });

  it('invalid config, naming the file, the line and the key', async () => {
    const dir = await tempDir();
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'source: { type: ga4-export-files, path: "x/*.json" }\nwarehouse:\n  type: duckdb\n  pth: "w.duckdb"\n');
    expectOneLineError(await cli(['run', '--config', file]), /bad\.yaml:4: unknown key 'warehouse\.pth'/);
    expectOneLineError(await cli(['validate', '--config', file]), /unknown key 'warehouse\.pth'/);
  });

  it('a date with no events', async () => {
    const dir = await tempDir();
    await cli(['demo', '--days', '1', '--sessions-per-day', '20', '--out', join(dir, 'input')]);
    await writeConfig(dir);
    expectOneLineError(await cli(['run', '--config', join(dir, 'cartlens.yaml'), '--date', '2026-12-25']), /no events for 2026-12-25 .*2026-11-01/);
  });

  it('a warehouse held by another run: the second fails fast', async () => {
    const dir = await tempDir();
    await cli(['demo', '--days', '1', '--sessions-per-day', '20', '--out', join(dir, 'input')]);
    await writeConfig(dir);
    await cli(['run', '--config', join(dir, 'cartlens.yaml')]);
    const holder = await DuckDBInstance.create(join(dir, 'state', 'warehouse.duckdb'));
    try {
      // It gives up after warehouse.lock_wait_seconds instead of waiting for the holder (no clock
      // is read here: a hang would end at the test's timeout, a failure).
      const second = await cli(['run', '--config', join(dir, 'cartlens.yaml')]);
      expectOneLineError(second, /warehouse .* is in use by another process .*wait for it to finish/);
    } finally {
      holder.closeSync();
    }
  });

  it('shows the stack with --verbose', async () => {
    const dir = await tempDir();
    await writeConfig(dir);
    const result = await cli(['run', '--config', join(dir, 'cartlens.yaml'), '--verbose']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/\n\s+at /);
  });

  it('validate accepts a good config and shows the model order', async () => {
    const result = await cli(['validate', '--config', 'examples/demo.yaml']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/int_cart_lines > .*cart_funnel_daily/);
  });
});
