// Entry module for Cloud Run functions (package.json "main"): loads the compiled function from
// dist/ (built on deploy by the `gcp-build` script) and registers the `cartlensDaily` HTTP
// function. Stack traces name the src/*.ts lines through dist's source maps.
process.setSourceMapsEnabled(true);
await import('./dist/cloud/function/daily-function.js');
