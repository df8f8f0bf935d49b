// Vitest globalSetup: builds dist/ (scripts/build.js, as `npm run build`) once before the test
// files run, so the tests that spawn bin/cartlens.js never run stale output. Tests that import
// src/ directly do not need it. Only changed files are written: cheap when dist/ is current.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function buildDist(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, ['scripts/build.js', '--quiet'], { cwd: root, stdio: 'inherit' });
}
