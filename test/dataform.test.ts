// `cartlens dataform`: the repository generated from deploy/cartlens.gcp.yaml, compiled offline by
// Dataform's own CLI (@dataform/cli, a devDependency), must hold cartlens' graph and blocking
// assertions, the same SQL as `cartlens run`, and pass the ZetaSQL analyzer.
import { execFile, execFileSync } from 'node:child_process';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { DATAFORM_CORE_VERSION, dataformRepository, type DataformRepository } from '../src/dataform/repository.js';
import { writeRepository } from '../src/dataform/write.js';
import { compileModels } from '../src/models/compile.js';
import { planRun, type RunPlan } from '../src/pipeline/plan.js';
import { analyzerBinary, ZetaSqlAnalyzer } from './support/zetasql/analyzer.js';
import { BigQueryCatalog } from './support/zetasql/catalog.js';
import { tempDir } from './support/pipeline.js';

const SECRET = 'dataform-test-secret-0123456789';
const DATE = '2026-11-01';
const require = createRequire(import.meta.url);
const CLI = join(dirname(require.resolve('@dataform/cli/package.json')), 'bundle.js');
const CORE = dirname(require.resolve('@dataform/core/package.json'));

interface Target {
  database?: string;
  schema: string;
  name: string;
}
interface CompiledAction {
  type?: string;
  target: Target;
  query?: string;
  queries?: string[];
  incrementalPreOps?: string[];
  protected?: boolean;
  bigquery?: { partitionBy?: string };
  dependencyTargets?: Target[];
  parentAction?: Target;
}
interface CompiledGraph {
  tables: CompiledAction[];
  operations: CompiledAction[];
  assertions: CompiledAction[];
  declarations: CompiledAction[];
  graphErrors: { compilationErrors?: { message: string; fileName: string }[] };
  dataformCoreVersion: string;
}

async function gcpPlan(extra = ''): Promise<RunPlan> {
  const text = (await readFile('deploy/cartlens.gcp.yaml', 'utf8')) + extra;
  return planRun(parseConfig(text, join(process.cwd(), 'deploy/cartlens.gcp.yaml'), { CARTLENS_USER_KEY_SECRET: SECRET }));
}

// A blocking check Dataform has no built-in for: it becomes a SQL assertion.
const BLOCKING_VOLUME = `assertions:\n  - { model: cart_funnel_daily, kind: volume, check: "SUM(sessions) within 0.9", severity: error }\n`;

/** Can this machine run a process without any network (to prove the compilation needs none)? */
function offlineWrapper(): string[] {
  try {
    execFileSync('unshare', ['-rn', 'true'], { stdio: 'ignore' });
    return ['unshare', '-rn'];
  } catch {
    return [];
  }
}

/**
 * `dataform compile --json` on a copy of the generated repository. With `dataformCoreVersion` in
 * workflow_settings.yaml the CLI runs `npm i @dataform/core@<version>` in a temporary folder (the
 * network); the copy instead names the same version in a package.json and carries the installed
 * @dataform/core in its node_modules (copied: Dataform's sandbox refuses a symlink out of the
 * project), which is the CLI's other documented way of finding core.
 */
let compilations = 0;
async function dataformCompile(dir: string, vars: Record<string, string>): Promise<CompiledGraph> {
  const copy = `${dir}-compile-${++compilations}`;
  await cp(dir, copy, { recursive: true });
  const settings = await readFile(join(copy, 'workflow_settings.yaml'), 'utf8');
  expect(settings).toContain(`\ndataformCoreVersion: ${DATAFORM_CORE_VERSION}\n`);
  await writeFile(join(copy, 'workflow_settings.yaml'), settings.replace(/^dataformCoreVersion: .*\n/m, ''));
  await writeFile(join(copy, 'package.json'), JSON.stringify({ dependencies: { '@dataform/core': DATAFORM_CORE_VERSION } }));
  await mkdir(join(copy, 'node_modules', '@dataform'), { recursive: true });
  await cp(CORE, join(copy, 'node_modules', '@dataform', 'core'), { recursive: true });
  const [wrapper, ...wrapperArgs] = [...offlineWrapper(), process.execPath];
  const varsArg = `--vars=${Object.entries(vars).map(([k, v]) => `${k}=${v}`).join(',')}`;
  const options = { maxBuffer: 64 * 1024 * 1024, env: { PATH: process.env.PATH, HOME: copy, npm_config_offline: 'true' } };
  // With compilation errors the CLI exits 1, still printing the graph.
  const stdout = await promisify(execFile)(wrapper!, [...wrapperArgs, CLI, 'compile', copy, '--json', varsArg], options).then(
    (result) => result.stdout,
    (error: { stdout?: string; stderr?: string }) => {
      if (!error.stdout?.trimStart().startsWith('{')) throw new Error(`dataform compile failed: ${error.stderr ?? String(error)}`);
      return error.stdout;
    },
  );
  return JSON.parse(stdout) as CompiledGraph;
}

const fullName = (t: Target) => `${t.database}.${t.schema}.${t.name}`;

let generated: Promise<{ plan: RunPlan; repository: DataformRepository; dir: string; graph: CompiledGraph }> | undefined;
/** The repository of deploy/cartlens.gcp.yaml, written and compiled once for every test. */
function generatedRepository() {
  generated ??= (async () => {
    const plan = await gcpPlan(BLOCKING_VOLUME);
    const repository = dataformRepository(plan);
    const dir = join(await tempDir(), 'dataform');
    await writeRepository(repository, dir);
    return { plan, repository, dir, graph: await dataformCompile(dir, { user_key_secret: SECRET, run_date: DATE }) };
  })();
  return generated;
}

describe('cartlens dataform', () => {
  let plan: RunPlan;
  let repository: DataformRepository;
  let graph: CompiledGraph;
  let dir: string;

  beforeAll(async () => {
    ({ plan, repository, dir, graph } = await generatedRepository());
  }, 60_000);

  it('pins the @dataform/core that package.json installs', async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { devDependencies: Record<string, string> };
    const core = JSON.parse(await readFile(join(CORE, 'package.json'), 'utf8')) as { version: string };
    expect(pkg.devDependencies['@dataform/core']).toBe(DATAFORM_CORE_VERSION);
    expect(core.version).toBe(DATAFORM_CORE_VERSION);
    expect(graph.dataformCoreVersion).toBe(DATAFORM_CORE_VERSION);
    const settings = repository.files.get('workflow_settings.yaml')!;
    expect(settings).toContain('defaultProject: my-store-analytics\n');
    expect(settings).toContain('defaultLocation: southamerica-east1\n');
    expect(settings).toContain('defaultDataset: cartlens_staging\n');
  });

  it('never writes the HMAC key into the repository', () => {
    for (const [path, content] of repository.files) expect(content, path).not.toContain(SECRET);
  });

  it('compiles with zero errors and the graph of cartlens’ plan', () => {
    expect(graph.graphErrors.compilationErrors ?? []).toEqual([]);
    expect(graph.declarations.map((d) => fullName(d.target))).toEqual(['my-store-analytics.analytics_123456789.events_2*']);
    const byName = new Map([...graph.tables, ...graph.operations].map((a) => [a.target.name, a]));
    // The same models, each with exactly its dependencies, where cartlens' plan puts its table.
    expect(graph.tables.map((t) => t.target.name).sort()).toEqual(plan.models.map((m) => m.name).sort());
    for (const model of plan.models) {
      const action = byName.get(model.name)!;
      expect(fullName(action.target)).toBe(plan.dialect.tableName(model.name, false).slice(1, -1));
      expect(action.type).toBe(model.materialized === 'temp' ? 'table' : 'incremental');
      expect((action.dependencyTargets ?? []).map((d) => d.name).sort(), model.name).toEqual([...model.dependsOn].sort());
    }
    // The loaded relations come from the staging SQL, which reads the export.
    for (const relation of plan.outputs.loadedRelations) expect(byName.get(relation)!.dependencyTargets!.map((d) => d.name)).toEqual(['ga4_export_settled']);
    expect(byName.get('ga4_export_settled')!.dependencyTargets!.map((d) => d.name)).toEqual(['events_2*']);
  });

  it('replaces the run date’s partition of every published table', () => {
    for (const model of plan.models.filter((m) => m.materialized === 'partitioned')) {
      const action = graph.tables.find((t) => t.target.name === model.name)!;
      expect(action.bigquery?.partitionBy).toBe('date');
      expect(action.protected).toBe(true);
      expect(action.incrementalPreOps!.map((s) => s.trim())).toEqual([`DELETE FROM ${plan.dialect.tableName(model.name, false)} WHERE date IN (DATE '${DATE}')`]);
    }
  });

  it('runs the same SQL as `cartlens run` (the models compiled by the same dialect)', () => {
    const temporary = plan.models.filter((m) => m.materialized === 'temp').map((m) => m.name);
    const pad = (which: 'ipad' | 'opad') => {
      const key = `CAST('${SECRET}' AS BYTES)`;
      return `(RPAD(IF(BYTE_LENGTH(${key}) > 64, SHA256(${key}), ${key}), 64, b'\\x00') ^ REPEAT(b'\\x${which === 'ipad' ? '36' : '5c'}', 64))`;
    };
    for (const step of compileModels(plan.models, plan.dialect, [DATE])) {
      let expected = step.statements[0]!.replace(/^CREATE TEMP TABLE `\w+` AS\n/, '');
      for (const name of temporary) expected = expected.replaceAll(`\`${name}\``, `\`my-store-analytics.cartlens_staging.${name}\``);
      expected = expected.replaceAll('@cartlens_user_key_ipad', pad('ipad')).replaceAll('@cartlens_user_key_opad', pad('opad'));
      const action = graph.tables.find((t) => t.target.name === step.model)!;
      expect(action.query!.replace(/^--.*\n/, '').trim(), step.model).toBe(expected);
    }
  });

  it('attaches every blocking assertion to its table', () => {
    const blocking = plan.assertions.filter((a) => a.blocking);
    expect(blocking.some((a) => a.kind === 'volume')).toBe(true);
    for (const assertion of blocking) {
      const table = graph.tables.find((t) => t.target.name === assertion.model)!;
      const attached = graph.assertions.filter((a) => a.parentAction?.name === assertion.model || a.dependencyTargets?.some((d) => d.name === assertion.model));
      const columns = assertion.args.split(',').map((c) => c.trim());
      const found = attached.filter((a) => {
        const sql = a.query ?? '';
        switch (assertion.kind) {
          case 'unique':
            return a.parentAction !== undefined && sql.includes(`GROUP BY ${columns.join(', ')}`) && sql.includes(fullName(table.target));
          case 'not_null':
            return a.parentAction !== undefined && columns.every((c) => sql.includes(`${c} IS NOT NULL`));
          case 'row':
            return a.parentAction !== undefined && sql.includes(assertion.args);
          case 'accepted_values':
            return a.parentAction !== undefined && sql.includes(assertion.args.replace(/ in /i, ' IN '));
          default:
            return a.target.name === assertion.name && sql.includes(`(DATE '${DATE}')`);
        }
      });
      expect(found.length, `${assertion.name} (${assertion.kind}: ${assertion.args})`).toBeGreaterThan(0);
    }
  });

  it('fails to compile without the key, naming the variable', async () => {
    await expect(dataformCompile(dir, { run_date: DATE }).then((g) => g.graphErrors.compilationErrors?.map((e) => e.message).join('\n'))).resolves.toContain('user_key_secret');
  }, 30_000);
});

const binary = analyzerBinary();
describe.skipIf('unavailable' in binary)('the compiled Dataform SQL passes ZetaSQL', () => {
  let analyzer: ZetaSqlAnalyzer;
  beforeAll(async () => {
    analyzer = await ZetaSqlAnalyzer.start(new BigQueryCatalog().addGa4Export('my-store-analytics.analytics_123456789'));
  }, 30_000);
  afterAll(async () => analyzer?.stop());

  it('analyzes every statement in dependency order', async () => {
    const { plan, graph } = await generatedRepository();
    const operation = (name: string) => graph.operations.find((o) => o.target.name === name)!;
    for (const name of ['ga4_export_settled', 'stg_events', 'stg_event_items', 'quarantined_events', 'quality_daily']) {
      for (const [i, sql] of operation(name).queries!.entries()) await analyzer.analyzeScript(sql, `${name}[${i}]`);
    }
    for (const model of plan.models) {
      const table = graph.tables.find((t) => t.target.name === model.name)!;
      // What Dataform sends on the first run; then a day's replacement.
      await analyzer.analyzeScript(`CREATE OR REPLACE TABLE \`${fullName(table.target)}\`${table.bigquery?.partitionBy ? ` PARTITION BY ${table.bigquery.partitionBy}` : ''} AS\n${table.query!}`, model.name);
      for (const sql of table.incrementalPreOps ?? []) await analyzer.analyzeScript(sql, `${model.name} pre_operations`);
      if (table.type === 'incremental') await analyzer.analyzeScript(`INSERT INTO \`${fullName(table.target)}\`\n${table.query!}`, `${model.name} incremental`);
    }
    for (const assertion of graph.assertions) await analyzer.analyzeScript(assertion.query!, assertion.target.name);
  }, 60_000);
});
