#!/usr/bin/env node
// The cartlens CLI: the compiled JavaScript in dist/ (`npm run build`, which `npm install` runs
// through `prepare`). Stack traces name the src/*.ts lines through dist's source maps.
process.setSourceMapsEnabled(true);
try {
  await import('../dist/cli/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !/[\\/]dist[\\/]cli[\\/]main\.js\b/.test(String(error.message))) throw error;
  process.stderr.write("error: cartlens is not built (no dist/cli/main.js): run 'npm run build' (or 'npm install') in the cartlens folder\n");
  process.exitCode = 1;
}
