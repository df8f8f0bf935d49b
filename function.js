// Entry module for Cloud Run functions (package.json "main"): loads the TypeScript sources
// through tsx, as bin/cartlens.js does, and registers the `cartlensDaily` HTTP function.
import { register } from 'tsx/esm/api';

register();
await import('./src/cloud/function/daily-function.ts');
