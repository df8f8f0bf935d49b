// Preloaded with `node --require` by test/embedded-startup.test.ts: when the process exits it
// prints how many modules of Google's client libraries it loaded (ES imports of these CommonJS
// packages go through require's cache too).
process.on('exit', () => {
  const google = Object.keys(require.cache).filter((path) => /node_modules[\\/](@google-cloud|@google-analytics|google-auth-library|google-gax)[\\/]/.test(path));
  process.stderr.write(`\ngoogle-modules-loaded: ${google.length}\n`);
});
