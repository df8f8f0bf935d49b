// The one guard of every test that needs ZetaSQL (the analyzer and the local BigQuery's reference
// engine are the same packaged server, which ships for Linux and macOS, x64 and arm64 only). Where
// it cannot run, a developer's `npm test` skips those tests with one loud line per file; CI
// (`CI=true`) requires them, so a CI machine that cannot run it fails instead of passing with
// ZetaSQL never tried. The browser tests follow the same rule (test/support/browser.ts).
import { relative } from 'node:path';
import { describe, expect, it, type TestFunction } from 'vitest';
import { zetasqlServerBinary } from '../../../src/dev/gcp/zetasql-engine.js';

/** Makes the guard act as on a machine where the server cannot run: for the guard's own test only. */
export const SIMULATE_UNAVAILABLE = 'CARTLENS_TEST_ZETASQL_UNAVAILABLE';

export type ZetaSqlTestsPlan = { run: true } | { run: false; reason: string; requiredOnCi: boolean };

export function zetaSqlTestsPlan(env: NodeJS.ProcessEnv, binary: { path: string } | { unavailable: string }): ZetaSqlTestsPlan {
  const reason = env[SIMULATE_UNAVAILABLE] ? `${SIMULATE_UNAVAILABLE} is set` : 'unavailable' in binary ? binary.unavailable : undefined;
  if (reason === undefined) return { run: true };
  return { run: false, reason, requiredOnCi: Boolean(env.CI) && env.CI !== 'false' && env.CI !== '0' };
}

/** The plan for this machine. */
export const ZETASQL = zetaSqlTestsPlan(process.env, zetasqlServerBinary());

/** `describe` for tests that need ZetaSQL: run, skipped loudly, or (on CI) one failing test naming the reason. */
export function describeWithZetaSql(name: string, tests: () => void): void {
  if (ZETASQL.run) describe(name, tests);
  else if (ZETASQL.requiredOnCi) describe(name, () => it('needs ZetaSQL, which CI requires', failOnCi(ZETASQL.reason)));
  else {
    announceSkip(ZETASQL.reason);
    describe.skip(name, tests);
  }
}

/** `it` for a test that needs ZetaSQL, among tests that do not: the same three outcomes. */
export function itWithZetaSql(name: string, test: TestFunction, timeout?: number): void {
  if (ZETASQL.run) it(name, test, timeout);
  else if (ZETASQL.requiredOnCi) it(name, failOnCi(ZETASQL.reason));
  else {
    announceSkip(ZETASQL.reason);
    it.skip(name, test, timeout);
  }
}

function failOnCi(reason: string): () => never {
  return () => {
    throw new Error(`ZetaSQL is required on CI (CI=true) and cannot run here: ${reason}`);
  };
}

/** Test files that have said so already (once per file, however many blocks it guards). */
const announced = new Set<string>();

function announceSkip(reason: string): void {
  const file = relative(process.cwd(), expect.getState().testPath ?? 'a test file');
  if (announced.has(file)) return;
  announced.add(file);
  process.stderr.write(`\n*** ZETASQL TESTS SKIPPED in ${file}: ${reason} (with CI=true they are required) ***\n\n`);
}
