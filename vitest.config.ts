import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The CLI tests spawn bin/cartlens.js, which runs dist/: built once here, before any test.
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // DuckDB uses both cores per run; files run one at a time to keep timings steady.
    fileParallelism: false,
    allowOnly: !process.env.CI,
    // In CI a JSON report too, from which .ci/run prints the plain 'N passed, N failed' line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.vitest-results.json' }]] : ['default'],
  },
});
