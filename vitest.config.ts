import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // DuckDB uses both cores per run; files run one at a time to keep timings steady.
    fileParallelism: false,
    allowOnly: !process.env.CI,
  },
});
