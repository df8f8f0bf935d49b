import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The CLI tests spawn bin/cartlens.js, which runs dist/: built once here, before any test.
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two files at a time, one per core: most of a file's time is spent waiting on a child
    // process, a server or the disk (suite 630 s one at a time, 447 s two at a time). Tests wait
    // for events, never for time, so a loaded machine makes them slower, not flaky.
    fileParallelism: true,
    maxWorkers: 2,
    allowOnly: !process.env.CI,
    // In CI a JSON report too, from which .ci/run prints the plain 'N passed, N failed' line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.vitest-results.json' }]] : ['default'],
  },
});
