// The embedded path (DuckDB, local folders) never loads Google's client libraries: they cost
// about 0.6 s and 40 MiB at every start. Each adapter loads its library when it opens.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ev, item, tempDir, writeConfig, writeInput } from './support/pipeline.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../bin/cartlens.js', import.meta.url));
const HOOK = fileURLToPath(new URL('./support/google-modules-hook.cjs', import.meta.url));
const DIST = fileURLToPath(new URL('../dist/', import.meta.url));

async function googleModulesLoaded(args: string[]): Promise<number> {
  const { stderr } = await run(process.execPath, ['--require', HOOK, ...args], { cwd: DIST });
  const found = /google-modules-loaded: (\d+)/.exec(stderr)?.[1];
  if (found === undefined) throw new Error(`the hook did not report:\n${stderr}`);
  return Number(found);
}

describe('the embedded path', () => {
  it('runs the whole job without loading any Google client library', async () => {
    const dir = await tempDir();
    await writeInput(dir, { 'a.json': [ev('session_start'), ev('add_to_cart', { at: 5, items: [item('A')] })] });
    expect(await googleModulesLoaded([BIN, 'run', '--config', await writeConfig(dir)])).toBe(0);
    expect(await googleModulesLoaded([BIN, '--help'])).toBe(0);
  });

  it('(the check sees a library when an adapter opens one)', async () => {
    const open = `const { BigQueryWarehouse } = await import('./warehouse/bigquery/bigquery-warehouse.js');
      const { dialectFor } = await import('./warehouse/index.js');
      await BigQueryWarehouse.open({ project: 'p', location: 'US', stagingDataset: 's', martsDataset: 'm', maximumBytesBilled: 1, apiEndpoint: 'http://127.0.0.1:9' }, dialectFor({ type: 'bigquery', project: 'p', staging_dataset: 's', marts_dataset: 'm' }));`;
    expect(await googleModulesLoaded(['--input-type=module', '-e', open])).toBeGreaterThan(0);
  });
});
