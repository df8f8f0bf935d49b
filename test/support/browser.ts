import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (`apt-get install -y chromium`, as .ci/run does); CHROMIUM_PATH overrides. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const HOW_TO_ENABLE = `run 'apt-get install -y chromium' (see .ci/run) or set CHROMIUM_PATH`;

/**
 * Whether the browser tests run here. Without Chromium a developer's `npm test` skips them (and
 * says so loudly); CI (`CI=true`) requires them, so a CI machine without Chromium fails instead
 * of passing with the browser never tried.
 */
export function browserTestsPlan(env: NodeJS.ProcessEnv, chromiumExists: (path: string) => boolean): { run: true } | { run: false; reason: string } {
  const path = env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  const ci = Boolean(env.CI) && env.CI !== 'false' && env.CI !== '0';
  if (ci || chromiumExists(path)) return { run: true };
  return { run: false, reason: `BROWSER TESTS SKIPPED: no Chromium at ${path}: ${HOW_TO_ENABLE} to run them (with CI=true they are required)` };
}

/** The plan for this machine; when the tests are skipped, the reason is printed once. */
export const BROWSER_TESTS = browserTestsPlan(process.env, existsSync);
if (!BROWSER_TESTS.run) process.stderr.write(`\n*** ${BROWSER_TESTS.reason} ***\n\n`);

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: ${HOW_TO_ENABLE}`);
  // The machine's network is closed: background networking would only fill the log with refusals.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
}
