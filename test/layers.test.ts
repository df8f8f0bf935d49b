// The layers of docs/architecture.md are rules that `npm test` checks (.dependency-cruiser.cjs):
// here each rule is shown to catch the import it forbids, in a small tree built to break them all.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from './support/pipeline.js';

const run = promisify(execFile);
const DEPCRUISE = join(process.cwd(), 'node_modules', '.bin', 'depcruise');

/** A module per path, importing the given modules (type-only when asked: those count too). */
const TREE: Record<string, { imports: string[]; typeOnly?: boolean }> = {
  'src/contract/tables.ts': { imports: ['src/util/dates.ts'] },
  'src/util/dates.ts': { imports: ['src/pipeline/plan.ts'] },
  'src/config/schema.ts': { imports: ['src/sources/demo.ts'] },
  'src/sources/demo.ts': { imports: [] },
  'src/pipeline/plan.ts': { imports: ['src/pipeline/run.ts'], typeOnly: true },
  'src/pipeline/run.ts': { imports: ['src/pipeline/plan.ts'], typeOnly: true },
  'src/warehouse/duckdb.ts': { imports: ['src/pipeline/run.ts'] },
  'src/dashboard/page.ts': { imports: ['src/ops/alerts.ts'] },
  'src/ops/alerts.ts': { imports: [] },
  'src/models/compile.ts': { imports: ['src/warehouse/duckdb.ts'] },
  'src/exports/gcs.ts': { imports: ['src/dev/local.ts'] },
  'src/dev/local.ts': { imports: [] },
};

describe('the layer rules', () => {
  it('each rule names the import that breaks it, type-only imports and cycles included', async () => {
    const dir = await tempDir('cartlens-layers-');
    for (const [path, { imports, typeOnly }] of Object.entries(TREE)) {
      await mkdir(join(dir, dirname(path)), { recursive: true });
      const lines = imports.map((target, i) => `import ${typeOnly ? 'type ' : ''}{ x as x${i} } from '${relativeImport(path, target)}';\nexport type Y${i} = typeof x${i};`);
      await writeFile(join(dir, path), `${lines.join('\n')}\nexport const x = 1;\n`);
    }
    await copyFile(join(process.cwd(), '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['src'] }));
    const result = await run(DEPCRUISE, ['src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], { cwd: dir }).then(
      () => ({ code: 0, stdout: '' }),
      (error: { code: number; stdout: string }) => error,
    );
    expect(result.code).not.toBe(0);
    const broken = result.stdout.split('\n').filter((line) => line.trim().startsWith('error ')).map((line) => line.trim());
    expect(broken).toEqual(
      expect.arrayContaining([
        'error contract-imports-nothing-from-the-project: src/contract/tables.ts → src/util/dates.ts',
        'error util-imports-only-util-and-contract: src/util/dates.ts → src/pipeline/plan.ts',
        'error config-imports-only-contract-and-util: src/config/schema.ts → src/sources/demo.ts',
        'error adapters-never-import-the-run: src/warehouse/duckdb.ts → src/pipeline/run.ts',
        'error dashboard-and-reports-only-read: src/dashboard/page.ts → src/ops/alerts.ts',
        'error models-import-only-the-dialect-interface: src/models/compile.ts → src/warehouse/duckdb.ts',
        'error only-the-cli-starts-dev-tools: src/exports/gcs.ts → src/dev/local.ts',
      ]),
    );
    // The type-only cycle plan ↔ run is one too.
    expect(broken.filter((line) => line.startsWith('error no-import-cycles: src/pipeline/'))).toHaveLength(1);
  });
});

function relativeImport(from: string, to: string): string {
  const up = from.split('/').length - 1;
  return `${'../'.repeat(up)}${to}`.replace(/\.ts$/, '.js');
}
