import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_DEFAULTS } from '../src/config/schema.js';
import { generateDemoExport } from '../src/sources/demo/generator.js';
import { pandasPython } from '../bench/pandas-python.js';
import { tempDir } from './support/pipeline.js';

// bench/pandas-funnel.py is the benchmark's second yardstick (bench/pipeline.ts): the same funnel
// as the one DuckDB query of bench/single-query.sql, so its CSV must be the query's, byte for byte.
// It needs a python3 that imports pandas, found as the benchmark finds it; CI installs none, so
// there this test is skipped.
const PYTHON = pandasPython();
if (!PYTHON && !process.env.CI) process.stderr.write('\n*** SKIPPED: the pandas funnel against the DuckDB query: no python3 with pandas ***\n\n');

describe('bench/pandas-funnel.py', () => {
  it.skipIf(!PYTHON)('gives the DuckDB query’s CSV, byte for byte, on a generated day with dirty lines', async () => {
    const dir = await tempDir('bench-pandas-');
    // About 2,000 events; a dirty rate well above the default so that every dirty case the
    // generator knows (cut lines, missing session ids, corrupt dates, non-numeric revenue) occurs.
    await generateDemoExport({ ...DEMO_DEFAULTS, dirtyRate: 0.05, outDir: join(dir, 'in'), days: 1, sessionsPerDay: 350 });
    const files = [join(dir, 'in', 'events_20261101.json.gz')];
    const [query, pandas] = [join(dir, 'query.csv'), join(dir, 'pandas.csv')];

    const queried = spawnSync(process.execPath, ['bench/single-query.mjs', query, ...files], { encoding: 'utf8' });
    expect(queried.status, queried.stderr).toBe(0);
    const computed = spawnSync(PYTHON!, ['bench/pandas-funnel.py', pandas, ...files], { encoding: 'utf8' });
    expect(computed.status, computed.stderr).toBe(0);

    const expected = readFileSync(query, 'utf8');
    expect(expected.split('\n').length).toBeGreaterThan(2); // a header and at least one date
    expect(readFileSync(pandas, 'utf8')).toBe(expected);
  });
});
