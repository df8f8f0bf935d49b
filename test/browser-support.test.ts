// The browser tests on a machine without Chromium: skipped loudly for a developer, required in CI.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { browserTestsPlan } from './support/browser.js';

const VITEST = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
const MISSING = '/nonexistent/chromium';

/** `vitest run` of the browser test file alone, in a child, with the environment given. */
async function runBrowserTests(env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [VITEST, 'run', 'test/dashboard-browser.test.ts', '--reporter=default'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c));
  child.stderr.on('data', (c: Buffer) => (output += c));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, output };
}

function environment(overrides: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, ...overrides };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  return env;
}

describe('browser tests without Chromium', () => {
  it('are planned from CHROMIUM_PATH and CI', () => {
    const none = () => false;
    expect(browserTestsPlan({}, none)).toEqual({ run: false, reason: expect.stringContaining("no Chromium at /usr/bin/chromium: run 'apt-get install -y chromium'") as string });
    expect(browserTestsPlan({ CHROMIUM_PATH: '/opt/c' }, (p) => p === '/opt/c')).toEqual({ run: true });
    expect(browserTestsPlan({ CI: 'true' }, none)).toEqual({ run: true });
    expect(browserTestsPlan({ CI: 'false' }, none)).toMatchObject({ run: false });
  });

  it('on a developer machine, are skipped with a line saying how to enable them', async () => {
    const result = await runBrowserTests(environment({ CI: undefined, CHROMIUM_PATH: MISSING }));
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain(`BROWSER TESTS SKIPPED: no Chromium at ${MISSING}: run 'apt-get install -y chromium' (see .ci/run) or set CHROMIUM_PATH`);
    expect(result.output).toMatch(/Tests +\d+ skipped \(\d+\)/);
  });

  it('with CI=true, fail when Chromium is missing', async () => {
    const result = await runBrowserTests(environment({ CI: 'true', CHROMIUM_PATH: MISSING }));
    expect(result.code, result.output).toBe(1);
    expect(result.output).toContain(`no Chromium at ${MISSING}`);
    expect(result.output).not.toContain('BROWSER TESTS SKIPPED');
  });
});
