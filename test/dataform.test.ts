// `cartlens dataform`: the repositories generated from deploy/cartlens.gcp.yaml (GA4's BigQuery
// export) and deploy/cartlens.gcp-api.yaml (the GA4 Data API), compiled offline by Dataform's own
// CLI (@dataform/cli, a devDependency), must hold cartlens' graph and blocking assertions, the same
// SQL as `cartlens run`, and pass the ZetaSQL analyzer; generating needs no secret, and `--check`
// tells a committed repository that drifted from one that did not.
import { execFile, execFileSync } from 'node:child_process';
import { appendFile, cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../src/config/load.js';
import { DATAFORM_CORE_VERSION, dataformRepository, type DataformRepository } from '../src/dataform/repository.js';
import { inSync, repositoryDrift, writeRepository } from '../src/dataform/write.js';
import { compileModels } from '../src/models/compile.js';
import { apiReports } from '../src/sources/ga4-data-api/reports.js';
import { planRun, type RunPlan } from '../src/pipeline/plan.js';
import { BIGQUERY_COLUMN_TYPES } from '../src/contract/column-types.js';
import { dialectFor } from '../src/warehouse/index.js';
import { rawReportTableSql } from '../src/warehouse/bigquery/staging-sql.js';
import { ZetaSqlAnalyzer } from './support/zetasql/analyzer.js';
import { BigQueryCatalog } from './support/zetasql/catalog.js';
import { describeWithZetaSql } from './support/zetasql/guard.js';
import { typeName } from './support/zetasql/types.js';
import { tempDir } from './support/pipeline.js';
import { datesAround } from '../src/util/dates.js';

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

const EXPORT_CONFIG = 'deploy/cartlens.gcp.yaml';
const API_CONFIG = 'deploy/cartlens.gcp-api.yaml';

async function gcpPlan(file = EXPORT_CONFIG, extra = ''): Promise<RunPlan> {
  const text = (await readFile(file, 'utf8')) + extra;
  return planRun(parseConfig(text, join(process.cwd(), file), { CARTLENS_USER_KEY_SECRET: SECRET }));
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
  // Dataform leaves out a kind of action the repository has none of.
  return { tables: [], operations: [], assertions: [], declarations: [], ...(JSON.parse(stdout) as Partial<CompiledGraph>) } as CompiledGraph;
}

const fullName = (t: Target) => `${t.database}.${t.schema}.${t.name}`;
const fullNameOf = (action: CompiledAction) => fullName(action.target);

interface Generated {
  plan: RunPlan;
  repository: DataformRepository;
  dir: string;
  graph: CompiledGraph;
}
const generated = new Map<string, Promise<Generated>>();
/** The repository of a config, written and compiled once for every test. */
function generatedRepository(file: string, extra: string, vars: Record<string, string>): Promise<Generated> {
  const key = `${file}\n${extra}`;
  if (!generated.has(key)) {
    generated.set(
      key,
      (async () => {
        const plan = await gcpPlan(file, extra);
        const repository = dataformRepository(plan);
        const dir = join(await tempDir(), 'dataform');
        await writeRepository(repository, dir);
        return { plan, repository, dir, graph: await dataformCompile(dir, vars) };
      })(),
    );
  }
  return generated.get(key)!;
}
const exportRepository = () => generatedRepository(EXPORT_CONFIG, BLOCKING_VOLUME, { user_key_secret: SECRET, run_date: DATE });
// No user_key_secret: no Data API model publishes user_key, so compiling needs no key.
const apiRepository = () => generatedRepository(API_CONFIG, '', { run_date: DATE });

/** The full names of the `raw_ga4_api_*` tables, as the load step's own DDL creates them. */
function rawReportTables(plan: RunPlan): string[] {
  if (plan.config.warehouse.type !== 'bigquery') throw new Error('a BigQuery config');
  const dialect = dialectFor(plan.config.warehouse);
  return apiReports(plan.config).map((report) => /^CREATE TABLE IF NOT EXISTS `([^`]+)`/.exec(rawReportTableSql(dialect, report))![1]!);
}

const SOURCES = [
  {
    source: 'GA4 export',
    load: exportRepository,
    declarations: () => ['my-store-analytics.analytics_123456789.events_2*'],
    operations: ['ga4_export_settled', 'stg_events', 'stg_event_items', 'quarantined_events', 'quality_daily'],
  },
  { source: 'GA4 Data API', load: apiRepository, declarations: rawReportTables, operations: [] as string[] },
];

describe.each(SOURCES)('cartlens dataform ($source)', ({ load, declarations, operations }) => {
  let plan: RunPlan;
  let graph: CompiledGraph;

  beforeAll(async () => {
    ({ plan, graph } = await load());
  }, 60_000);

  it('compiles with zero errors and exactly the actions and dependencies of cartlens’ plan', () => {
    expect(graph.graphErrors.compilationErrors ?? []).toEqual([]);
    expect(graph.dataformCoreVersion).toBe(DATAFORM_CORE_VERSION);
    expect(graph.declarations.map((d) => fullName(d.target)).sort()).toEqual(declarations(plan).sort());
    expect(graph.operations.map((o) => o.target.name).sort()).toEqual([...operations].sort());
    const byName = new Map([...graph.tables, ...graph.operations, ...graph.declarations].map((a) => [a.target.name, a]));
    // The same models, each with exactly its dependencies, where cartlens' plan puts its table.
    expect(graph.tables.map((t) => t.target.name).sort()).toEqual(plan.models.map((m) => m.name).sort());
    for (const model of plan.models) {
      const action = byName.get(model.name)!;
      expect(fullName(action.target)).toBe(plan.dialect.tableName(model.name, false).slice(1, -1));
      expect(action.type).toBe(model.materialized === 'temp' ? 'table' : 'incremental');
      expect((action.dependencyTargets ?? []).map((d) => d.name).sort(), model.name).toEqual([...model.dependsOn].sort());
      // Each dependency resolves to an action of the repository, at that action's table.
      for (const dependency of action.dependencyTargets ?? []) expect(fullName(dependency), `${model.name} → ${dependency.name}`).toBe(fullName(byName.get(dependency.name)!.target));
    }
    // What the models build on is what the load step fills.
    for (const relation of plan.outputs.loadedRelations) expect(byName.has(relation), relation).toBe(true);
  });

  it('replaces the run date’s partition of every published table', () => {
    const tables = plan.outputs.tables.map((t) => t.name);
    const published = plan.models.filter((m) => m.materialized === 'partitioned' && tables.includes(m.name));
    expect(published.map((m) => m.name).sort()).toEqual([...tables].sort());
    for (const model of plan.models.filter((m) => m.materialized === 'partitioned')) {
      const action = graph.tables.find((t) => t.target.name === model.name)!;
      expect(action.type).toBe('incremental');
      expect(action.bigquery?.partitionBy).toBe('date');
      expect(action.protected).toBe(true);
      // A model with a reach (cart_recoveries) replaces the dates around the run's date it is computed for.
      const dates = model.reach ? datesAround([DATE], -model.reach.before, model.reach.after) : [DATE];
      expect(action.incrementalPreOps!.map((s) => s.trim())).toEqual([`DELETE FROM ${plan.dialect.tableName(model.name, false)} WHERE date IN ${plan.dialect.dateList(dates)}`]);
    }
  });

  it('runs the same SQL as `cartlens run` (the models compiled by the same dialect)', () => {
    const temporary = plan.models.filter((m) => m.materialized === 'temp').map((m) => m.name);
    const pad = (which: 'ipad' | 'opad') => {
      const key = `CAST('${SECRET}' AS BYTES)`;
      return `(RPAD(IF(BYTE_LENGTH(${key}) > 64, SHA256(${key}), ${key}), 64, b'\\x00') ^ REPEAT(b'\\x${which === 'ipad' ? '36' : '5c'}', 64))`;
    };
    const steps = compileModels(plan.models, plan.dialect, [DATE]);
    expect(steps.length).toBe(graph.tables.length);
    for (const step of steps) {
      // The SELECT of the step's first statement (a temporary table's, or the new rows' of a published one).
      let expected = step.statements[0]!.replace(/^CREATE TEMP TABLE `\w+` AS\n/, '');
      for (const name of temporary) expected = expected.replaceAll(`\`${name}\``, `\`my-store-analytics.cartlens_staging.${name}\``);
      expected = expected.replaceAll('@cartlens_user_key_ipad', pad('ipad')).replaceAll('@cartlens_user_key_opad', pad('opad'));
      const action = graph.tables.find((t) => t.target.name === step.model)!;
      expect(action.query!.replace(/^--.*\n/, '').trim(), step.model).toBe(expected);
    }
  });

  it('attaches every blocking assertion to its table', () => {
    const blocking = plan.assertions.filter((a) => a.blocking);
    expect(blocking.length).toBeGreaterThan(0);
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
});

describe('cartlens dataform (GA4 export)', () => {
  let plan: RunPlan;
  let repository: DataformRepository;
  let graph: CompiledGraph;
  let dir: string;

  beforeAll(async () => {
    ({ plan, repository, dir, graph } = await exportRepository());
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
    expect(plan.usesUserKey).toBe(true);
    for (const [path, content] of repository.files) expect(content, path).not.toContain(SECRET);
  });

  it('reads the export through the staging SQL', () => {
    const byName = new Map(graph.operations.map((a) => [a.target.name, a]));
    // The loaded relations come from the staging SQL, which reads the export.
    for (const relation of plan.outputs.loadedRelations) expect(byName.get(relation)!.dependencyTargets!.map((d) => d.name)).toEqual(['ga4_export_settled']);
    expect(byName.get('ga4_export_settled')!.dependencyTargets!.map((d) => d.name)).toEqual(['events_2*']);
  });

  it('fails to compile without the key, naming the variable', async () => {
    await expect(dataformCompile(dir, { run_date: DATE }).then((g) => g.graphErrors.compilationErrors?.map((e) => e.message).join('\n'))).resolves.toContain('user_key_secret');
  }, 30_000);
});

describe('cartlens dataform (GA4 Data API)', () => {
  let plan: RunPlan;
  let repository: DataformRepository;
  let graph: CompiledGraph;

  beforeAll(async () => {
    ({ plan, repository, graph } = await apiRepository());
  }, 60_000);

  it('declares the raw_ga4_api_* tables where the extract step loads them, and builds the ga4_api_* tables on them', () => {
    expect(plan.config.source.type).toBe('ga4-data-api');
    expect(rawReportTables(plan)).toEqual(['my-store-analytics.cartlens_staging.raw_ga4_api_items', 'my-store-analytics.cartlens_staging.raw_ga4_api_funnel']);
    expect(plan.outputs.loadedRelations.map((r) => plan.dialect.tableName(r, false).slice(1, -1))).toEqual(rawReportTables(plan));
    expect(graph.tables.map(fullNameOf).sort()).toEqual(['my-store-analytics.cartlens_marts.ga4_api_funnel_daily', 'my-store-analytics.cartlens_marts.ga4_api_items_daily']);
    expect(repository.files.get('definitions/marts/ga4_api_funnel_daily.sqlx')).toContain('FROM ${ref("raw_ga4_api_funnel")}\nWHERE date IN ${cartlens.runDates(dataform.projectConfig.vars)}');
  });

  it('needs no user_key_secret: no Data API model publishes user_key', () => {
    expect(plan.usesUserKey).toBe(false);
    expect(repository.needsUserKeySecret).toBe(false);
    for (const [path, content] of repository.files) expect(content, path).not.toMatch(/user_key|userKeyPad|exportSuffixes/);
    // Compiled with run_date alone (apiRepository), and the date reached every statement.
    for (const table of graph.tables) expect(table.query, table.target.name).toContain(`WHERE date IN (DATE '${DATE}')`);
  });
});

const BIN = fileURLToPath(new URL('../bin/cartlens.js', import.meta.url));

/** The real CLI, in a child process whose environment has no CARTLENS_USER_KEY_SECRET. */
async function cartlensWithoutSecret(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.CARTLENS_USER_KEY_SECRET;
  return promisify(execFile)(process.execPath, [BIN, ...args], { env }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? -1, stdout: error.stdout ?? '', stderr: error.stderr ?? '' }),
  );
}

describe('cartlens dataform: no secret to generate, and --check', () => {
  it('loads the config without resolving the user key secret only when asked', async () => {
    await expect(loadConfig(EXPORT_CONFIG, {})).rejects.toThrow(/CARTLENS_USER_KEY_SECRET is not set/);
    const withoutKey = await loadConfig(EXPORT_CONFIG, {}, { withoutUserKeySecret: true });
    const withKey = await loadConfig(EXPORT_CONFIG, { CARTLENS_USER_KEY_SECRET: SECRET });
    expect(withoutKey.config.privacy.user_key_secret).toBeUndefined();
    expect(withKey.config.privacy.user_key_secret).toBe(SECRET);
    expect({ ...withoutKey.config, privacy: {} }).toEqual({ ...withKey.config, privacy: {} });
  });

  it('writes the repository with CARTLENS_USER_KEY_SECRET unset, identical to one generated with it; --check then passes', async () => {
    const dir = join(await tempDir(), 'dataform');
    const written = await cartlensWithoutSecret(['dataform', '--config', EXPORT_CONFIG, '--out', dir]);
    expect(written.stderr).toBe('');
    expect(written.code).toBe(0);
    expect(written.stdout).toContain('compile: dataform compile --vars=user_key_secret=...');
    expect(await repositoryDrift(dataformRepository(await gcpPlan()), dir)).toEqual({ differing: [], missing: [], extra: [] });

    const checked = await cartlensWithoutSecret(['dataform', '--config', EXPORT_CONFIG, '--check', dir]);
    expect(checked).toEqual({ code: 0, stdout: `${dir} is what \`cartlens dataform\` generates (${dataformRepository(await gcpPlan()).files.size} files)\n`, stderr: '' });
  }, 60_000);

  it('--check exits 1 naming the one edited SQLX file', async () => {
    const dir = join(await tempDir(), 'dataform');
    await writeRepository(dataformRepository(await gcpPlan(API_CONFIG)), dir);
    await appendFile(join(dir, 'definitions/marts/ga4_api_items_daily.sqlx'), '-- a hand edit\n');
    const checked = await cartlensWithoutSecret(['dataform', '--config', API_CONFIG, '--check', dir]);
    expect(checked.code).toBe(1);
    expect(checked.stdout).toBe('differs: definitions/marts/ga4_api_items_daily.sqlx\n');
    expect(checked.stderr).toContain(`error: 1 file(s) of ${dir} differ from what \`cartlens dataform\` generates now`);
  }, 60_000);

  it('names missing and extra files; writing refuses a foreign file, then brings the folder back in sync', async () => {
    const repository = dataformRepository(await gcpPlan());
    const dir = join(await tempDir(), 'dataform');
    await writeRepository(repository, dir);
    expect(inSync(await repositoryDrift(repository, dir))).toBe(true);
    await rm(join(dir, 'definitions/intermediate/int_sessions.sqlx'));
    await writeFile(join(dir, 'definitions/marts/old_model.sqlx'), 'config { type: "table" }\nSELECT 1\n');
    await writeFile(join(dir, 'workflow_settings.yaml'), 'defaultProject: elsewhere\n');
    await mkdir(join(dir, 'notes'));
    await writeFile(join(dir, 'notes', 'todo.md'), 'hand-written\n');
    // git's and npm's files are no drift.
    await mkdir(join(dir, '.git'));
    await writeFile(join(dir, 'package.json'), '{}\n');
    expect(await repositoryDrift(repository, dir)).toEqual({
      differing: ['workflow_settings.yaml'],
      missing: ['definitions/intermediate/int_sessions.sqlx'],
      extra: ['definitions/marts/old_model.sqlx', 'notes/'],
    });

    await expect(writeRepository(repository, dir)).rejects.toThrow(/holds files the generator did not write \(notes\/\)/);
    await rm(join(dir, 'notes'), { recursive: true });
    await writeRepository(repository, dir);
    expect(await repositoryDrift(repository, dir)).toEqual({ differing: [], missing: [], extra: [] });
    expect(await readFile(join(dir, 'package.json'), 'utf8')).toBe('{}\n');
  });
});

describeWithZetaSql('the compiled Dataform SQL passes ZetaSQL', () => {
  let analyzer: ZetaSqlAnalyzer;
  beforeAll(async () => {
    analyzer = await ZetaSqlAnalyzer.start(new BigQueryCatalog().addGa4Export('my-store-analytics.analytics_123456789'));
  }, 30_000);
  afterAll(async () => analyzer?.stop());

  /** Every statement of a compiled graph, in dependency order; each published table typed as the contract says. */
  async function analyzeGraph({ plan, graph }: Generated, operationsInOrder: string[]): Promise<void> {
    expect(graph.operations.map((o) => o.target.name).sort()).toEqual([...operationsInOrder].sort());
    for (const name of operationsInOrder) {
      const operation = graph.operations.find((o) => o.target.name === name)!;
      for (const [i, sql] of operation.queries!.entries()) await analyzer.analyzeScript(sql, `${name}[${i}]`);
    }
    for (const model of plan.models) {
      const table = graph.tables.find((t) => t.target.name === model.name)!;
      // What Dataform sends on the first run; then a day's replacement.
      await analyzer.analyzeScript(`CREATE OR REPLACE TABLE \`${fullName(table.target)}\`${table.bigquery?.partitionBy ? ` PARTITION BY ${table.bigquery.partitionBy}` : ''} AS\n${table.query!}`, model.name);
      for (const sql of table.incrementalPreOps ?? []) await analyzer.analyzeScript(sql, `${model.name} pre_operations`);
      if (table.type === 'incremental') await analyzer.analyzeScript(`INSERT INTO \`${fullName(table.target)}\`\n${table.query!}`, `${model.name} incremental`);
    }
    for (const assertion of graph.assertions) await analyzer.analyzeScript(assertion.query!, assertion.target.name);
    for (const published of plan.outputs.tables) {
      const columns = analyzer.catalog.columnsOf(plan.dialect.tableName(published.name, false).slice(1, -1));
      expect(columns.map(([name, type]) => `${name} ${typeName(type)}`), published.name).toEqual(published.columns.map((c) => `${c.name} ${BIGQUERY_COLUMN_TYPES[c.kind]}`));
    }
  }

  it('analyzes every statement of the GA4 export repository in dependency order', async () => {
    await analyzeGraph(await exportRepository(), SOURCES[0]!.operations);
  }, 60_000);

  it('analyzes every statement of the GA4 Data API repository, on the raw tables the load step creates', async () => {
    const generated = await apiRepository();
    const { config } = generated.plan;
    if (config.warehouse.type !== 'bigquery') throw new Error('a BigQuery config');
    // The raw report tables, as cartlens' BigQuery warehouse creates them (registered in the catalog as analyzed).
    for (const report of apiReports(config)) await analyzer.analyzeScript(rawReportTableSql(dialectFor(config.warehouse), report), `raw_ga4_api_${report.name}`);
    expect(generated.graph.assertions.length).toBeGreaterThan(0);
    await analyzeGraph(generated, []);
  }, 60_000);
});
