// The tests that need ZetaSQL on a machine where its server cannot run: skipped loudly for a
// developer, required on CI (test/support/zetasql/guard.ts). CARTLENS_TEST_ZETASQL_UNAVAILABLE
// stands in for such a machine.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SIMULATE_UNAVAILABLE, zetaSqlTestsPlan } from './support/zetasql/guard.js';

const VITEST = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
// A file guarded with describeWithZetaSql and one with itWithZetaSql; `-t ZetaSQL` leaves out
// extract's other tests, which do not need it.
const GUARDED = ['test/bigquery-sql-analyzer.test.ts', 'test/extract.test.ts', '-t', 'ZetaSQL'];

/** `vitest run` of the guarded files, in a child, as on a machine where ZetaSQL cannot run. */
async function runGuardedTests(ci: string | undefined): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', [SIMULATE_UNAVAILABLE]: '1' };
  delete env.FORCE_COLOR;
  delete env.CI;
  if (ci !== undefined) env.CI = ci;
  const child = spawn(process.execPath, [VITEST, 'run', ...GUARDED, '--reporter=default'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c));
  child.stderr.on('data', (c: Buffer) => (output += c));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, output };
}

describe('tests that need ZetaSQL, where it cannot run', () => {
  it('are planned from the server binary and CI', () => {
    const missing = { unavailable: 'the ZetaSQL server /x/remote_server.so is missing: run npm ci' };
    expect(zetaSqlTestsPlan({}, { path: '/x/remote_server.so' })).toEqual({ run: true });
    expect(zetaSqlTestsPlan({ CI: 'true' }, { path: '/x/remote_server.so' })).toEqual({ run: true });
    expect(zetaSqlTestsPlan({}, missing)).toEqual({ run: false, reason: missing.unavailable, requiredOnCi: false });
    expect(zetaSqlTestsPlan({ CI: 'true' }, missing)).toEqual({ run: false, reason: missing.unavailable, requiredOnCi: true });
    expect(zetaSqlTestsPlan({ CI: 'false' }, missing)).toMatchObject({ requiredOnCi: false });
    expect(zetaSqlTestsPlan({ [SIMULATE_UNAVAILABLE]: '1' }, { path: '/x/remote_server.so' })).toEqual({ run: false, reason: `${SIMULATE_UNAVAILABLE} is set`, requiredOnCi: false });
  });

  it('on a developer machine, are skipped with one line per file naming the file and the reason', async () => {
    const result = await runGuardedTests(undefined);
    expect(result.code, result.output).toBe(0);
    for (const file of GUARDED.slice(0, 2)) {
      const line = `*** ZETASQL TESTS SKIPPED in ${file}: ${SIMULATE_UNAVAILABLE} is set (with CI=true they are required) ***`;
      expect(result.output.split(line), result.output).toHaveLength(2);
    }
    expect(result.output).toMatch(/Tests +\d+ skipped \(\d+\)/);
    expect(result.output).not.toMatch(/\d+ passed/);
  });

  it('with CI=true, fail naming the reason, in each file', async () => {
    const result = await runGuardedTests('true');
    expect(result.code, result.output).toBe(1);
    expect(result.output).toContain(`ZetaSQL is required on CI (CI=true) and cannot run here: ${SIMULATE_UNAVAILABLE} is set`);
    expect(result.output).toContain('FAIL  test/bigquery-sql-analyzer.test.ts > every BigQuery statement passes ZetaSQL > needs ZetaSQL, which CI requires');
    expect(result.output).toContain("FAIL  test/extract.test.ts > cartlens extract on GA4's BigQuery export > needs ZetaSQL, which CI requires");
    expect(result.output).toContain('FAIL  test/extract.test.ts > cartlens extract on the GA4 Data API source (BigQuery) > needs ZetaSQL, which CI requires');
    // extract's tests that do not need ZetaSQL are left out by `-t`, hence skipped.
    expect(result.output).toMatch(/Tests +3 failed \| \d+ skipped \(\d+\)/);
    expect(result.output).not.toContain('ZETASQL TESTS SKIPPED');
  });
});
