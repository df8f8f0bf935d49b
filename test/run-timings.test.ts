// Every step of a run reports its seconds in the run report (`timings`), so that a slow step shows
// up in production, not only in the benchmark.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { PeakRssTracker, StepClock } from '../src/pipeline/timings.js';
import { ev, item, runOn } from './support/pipeline.js';

describe('run timings', () => {
  it('time each step of a run, in order, close included, and the last run report carries them', async () => {
    const started = performance.now();
    const result = await runOn({
      'a.json.gz': [ev('session_start'), ev('add_to_cart', { at: 5, items: [item('A')] }), 'not json', ev('session_start', { user: 'u2', session: 7 })],
    });
    const wall = (performance.now() - started) / 1000;
    const { timings } = result.report;
    const steps = ['plan', 'land', 'read_lines', 'parse_events', 'dedupe', 'items', 'read_back', 'settle', 'load', 'model', 'assertions', 'commit', 'export', 'anomalies', 'record', 'close'];
    expect(Object.keys(timings)).toEqual(steps);
    for (const step of steps) expect(timings[step], step).toBeGreaterThanOrEqual(0);
    const total = Object.values(timings).reduce((sum, s) => sum + s, 0);
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThanOrEqual(wall + 0.01);
    const last = JSON.parse(await readFile(join(result.dir, 'exports', 'run_report', 'last_run.json'), 'utf8'));
    expect(last.timings).toEqual(timings);
    // The peak is the process's own high-water mark, reached in one of the run's steps.
    expect(result.report.peak_rss.mib).toBeGreaterThan(0);
    expect(result.report.peak_rss.mib).toBeLessThanOrEqual(Math.ceil(process.resourceUsage().maxRSS / 1024));
    expect(result.report.peak_rss.step).not.toBe('');
    expect(last.peak_rss).toEqual(result.report.peak_rss);
  });

  it('name the step in which the resident memory peaked, not the step after it', () => {
    let high = 100 * 1024;
    const peak = new PeakRssTracker('planning', () => high);
    high = 150 * 1024; // risen while planning
    peak.enter('landing 1 file(s)');
    high = 400 * 1024; // risen while landing
    peak.enter('parsing events');
    peak.enter('model int_sessions');
    high = 380 * 1024; // a high-water mark never falls; a lower reading is not a peak
    expect(peak.peak()).toEqual({ mib: 400, step: 'landing 1 file(s)' });
    high = 512 * 1024;
    expect(peak.peak()).toEqual({ mib: 512, step: 'model int_sessions' });
  });

  it('add up a step entered again, and keep the order steps first began', () => {
    let now = 0;
    const clock = new StepClock('a', () => now);
    now = 1;
    clock.enter('b');
    now = 3;
    clock.enter('a');
    now = 3.5;
    clock.enter('a');
    now = 4;
    expect(clock.timings()).toEqual({ a: 0.002, b: 0.002 });
  });
});
