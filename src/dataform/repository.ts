// A Dataform repository generated from a BigQuery config and its run plan: the same model files,
// compiled with the same BigQuery dialect as `cartlens run`, with each table reference rewritten to
// `${ref("name")}` and the run's date and HMAC key left to Dataform's compilation variables.
// Pure: config + plan in, files out.
import type { CartlensConfig } from '../config/schema.js';
import type { Assertion } from '../models/assertions.js';
import { compileAssertion } from '../models/assertions.js';
import type { Model } from '../models/graph.js';
import { stripHeader } from '../models/compile.js';
import { renderTemplate } from '../models/template.js';
import { apiReports } from '../sources/ga4-data-api/reports.js';
import { type RunPlan } from '../pipeline/plan.js';
import { ConfigError } from '../util/errors.js';
import { BigQueryDialect } from '../warehouse/bigquery/bigquery-dialect.js';
import { exportDataset, loadSql, readExportTablesSql, schemaSql, stageExportSql } from '../warehouse/bigquery/staging-sql.js';
import { includesJs } from './includes.js';

/** The @dataform/core the repository compiles with: the version package.json pins. */
export const DATAFORM_CORE_VERSION = '3.0.62';

/** The declared export tables: `events_2*`, the daily tables only (`events_*` would match `events_intraday_*`). */
export const EXPORT_TABLES = 'events_2*';
/** The staging action that reads the export once per run and cleans it (the contract's rules). */
export const SETTLED = 'ga4_export_settled';
/** The tables the staging SQL loads, in load.sql's order. */
export const STAGED_TABLES = ['stg_events', 'stg_event_items', 'quarantined_events', 'quality_daily'] as const;

// The run's dates, as Dataform computes them when it compiles (includes/cartlens.js): what the
// templates' run dates are filled with, where `cartlens run` writes `(DATE '…')`.
const RUN_DATES = '${cartlens.runDates(dataform.projectConfig.vars)}';
const EXPORT_SUFFIXES = '${cartlens.exportSuffixes(dataform.projectConfig.vars)}';
const RUN_ID = 'dataform';

type ActionType = 'declaration' | 'operations' | 'table' | 'incremental' | 'assertion';

export interface DataformRepository {
  /** Relative path → content. */
  files: Map<string, string>;
  /** Every action the repository defines or declares, with what it depends on (for checks). */
  actions: { name: string; type: ActionType; dependsOn: string[] }[];
  /** Whether compiling needs the compilation variable `user_key_secret` (a model publishes `user_key`). */
  needsUserKeySecret: boolean;
}

/** The plan a repository is generated from: what `cartlens run` would run. */
export type DataformPlan = Pick<RunPlan, 'config' | 'dialect' | 'models' | 'assertions' | 'calendar' | 'outputs' | 'usesUserKey'>;

type BigQueryWarehouse = Extract<CartlensConfig['warehouse'], { type: 'bigquery' }>;
type Source = CartlensConfig['source'];

/** What the generated SQL has in common, whichever the source. */
interface Generation {
  /** The plan's dialect, whose list of the run's dates is Dataform's (RUN_DATES), whatever dates it is given. */
  dialect: BigQueryDialect;
  files: Map<string, string>;
  actions: DataformRepository['actions'];
  ref(name: string): string;
}

export function dataformRepository(plan: DataformPlan): DataformRepository {
  const { config } = plan;
  const warehouse = config.warehouse;
  if (warehouse.type !== 'bigquery') throw new ConfigError(`warehouse.type is ${warehouse.type}: Dataform runs on BigQuery`, 'use a BigQuery config (deploy/cartlens.gcp.yaml or deploy/cartlens.gcp-api.yaml)');
  const source = config.source;
  if (source.type !== 'ga4-export-bigquery' && source.type !== 'ga4-data-api') {
    throw new ConfigError(`source.type is ${source.type}: the Dataform repository reads GA4's BigQuery export or the GA4 Data API's loaded reports`, 'use source.type ga4-export-bigquery (deploy/cartlens.gcp.yaml) or ga4-data-api (deploy/cartlens.gcp-api.yaml)');
  }
  // The plan's dialect: the one `cartlens run` compiles the same models with.
  const { dialect } = plan;
  if (!(dialect instanceof BigQueryDialect)) throw new Error(`the plan of a BigQuery config compiles for ${dialect.name}`);
  const generation: Generation = {
    // The same dialect, except that the run's dates are the ones Dataform compiles for: the
    // templates are filled with its expression, never with a date replaced afterwards.
    dialect: Object.assign(Object.create(dialect) as BigQueryDialect, { dateList: () => RUN_DATES }),
    files: new Map(),
    actions: [],
    ref: (name) => `\${ref(${JSON.stringify(name)})}`,
  };
  const { files } = generation;
  files.set('workflow_settings.yaml', workflowSettings(warehouse, plan.usesUserKey));
  files.set('includes/cartlens.js', includesJs({ timeZone: plan.calendar.timeZone, exportTables: source.type === 'ga4-export-bigquery', userKey: plan.usesUserKey }));
  files.set('.gitignore', 'node_modules/\n.df-credentials.json\n');

  if (source.type === 'ga4-export-bigquery') exportStaging(generation, source, warehouse);
  else apiReportDeclarations(generation, plan);
  models(generation, plan);
  files.set('README.md', readme(warehouse, source, plan.usesUserKey));
  return { files, actions: generation.actions, needsUserKeySecret: plan.usesUserKey };
}

/**
 * GA4's BigQuery export: its daily tables declared and read in place, then the same staging
 * statements as `cartlens run` (staging-sql.ts), with the scratch table of the settled rows kept as
 * a table (a temporary table does not outlive its action) and each staged table replaced for the
 * run's date by its own action.
 */
function exportStaging({ dialect, files, actions, ref }: Generation, source: Extract<Source, { type: 'ga4-export-bigquery' }>, warehouse: BigQueryWarehouse): void {
  const exported = exportDataset(source.project, source.dataset);
  files.set(
    'definitions/sources/ga4_export.sqlx',
    sqlx({ type: 'declaration', database: source.project, schema: source.dataset, name: EXPORT_TABLES, description: "GA4's BigQuery export: the daily events_YYYYMMDD tables (not events_intraday_*)" }, ''),
  );
  actions.push({ name: EXPORT_TABLES, type: 'declaration', dependsOn: [] });

  const readExport = readExportTablesSql(ref(EXPORT_TABLES), EXPORT_SUFFIXES);
  const settled = stageExportSql(readExport).replace('CREATE TEMP TABLE _run_settled AS', 'CREATE OR REPLACE TABLE ${self()} AS');
  files.set(`definitions/staging/${SETTLED}.sqlx`, sqlx({ type: 'operations', hasOutput: true, description: "The run's export rows, deduplicated and checked by the contract's cleaning rules (rebuilt every run)." }, settled));
  actions.push({ name: SETTLED, type: 'operations', dependsOn: [EXPORT_TABLES] });

  const staging = `${warehouse.project}.${warehouse.staging_dataset}`;
  const ddl = statements(schemaSql(dialect, staging));
  const load = loadSql(dialect, exported, [], RUN_ID).replace(/^--.*\n/gm, '');
  for (const table of STAGED_TABLES) {
    const name = dialect.tableName(table, false);
    // Quoted with backticks, a table's name is never part of another's.
    const own = (sql: string) => sql.includes(name);
    const create = ddl.filter(own);
    const replace = statements(load).filter(own);
    if (create.length === 0 || replace.length !== 2) throw new Error(`staging SQL for ${table} not found (staging-sql.ts changed?)`);
    const body = [...create, ...replace].map((s) => `${s.replaceAll(name, '${self()}').replaceAll('_run_settled', ref(SETTLED))};`).join('\n\n');
    files.set(`definitions/staging/${table}.sqlx`, sqlx({ type: 'operations', hasOutput: true, description: `${table}: the run's date replaced by the cleaned export rows (load.sql).` }, body));
    actions.push({ name: table, type: 'operations', dependsOn: [SETTLED] });
  }
}

/**
 * The GA4 Data API: the raw report tables are loaded by cartlens' extract step (the API's
 * pages, landed and loaded by load jobs), so Dataform only declares them, where the BigQuery
 * warehouse keeps them (the dialect's table names, as the load SQL writes them).
 */
function apiReportDeclarations({ dialect, files, actions }: Generation, plan: DataformPlan): void {
  const reports = new Map(apiReports(plan.config).map((r) => [`raw_ga4_api_${r.name}`, r]));
  for (const relation of plan.outputs.loadedRelations) {
    const report = reports.get(relation);
    if (!report) throw new Error(`${relation} is no GA4 Data API report of the config`);
    const [database, schema, name] = dialect.tableName(relation, false).slice(1, -1).split('.');
    const description = `GA4 Data API report ${report.name} (${report.dimensions.join(', ')}; ${report.metrics.join(', ')}), one partition per date, loaded by cartlens' extract step: declared, never built here.`;
    files.set(`definitions/sources/${relation}.sqlx`, sqlx({ type: 'declaration', database, schema, name, description }, ''));
    actions.push({ name: relation, type: 'declaration', dependsOn: [] });
  }
}

/** The models: each compiled with the BigQuery dialect, table references rewritten to ${ref()}. */
function models({ dialect, files, actions, ref }: Generation, plan: DataformPlan): void {
  const blocking = plan.assertions.filter((a) => a.blocking);
  for (const model of plan.models) {
    // A model with a reach (cart_recoveries) is built for the run's date and the days it reaches; Dataform builds them all.
    const reach = model.reach ?? { before: 0, after: 0 };
    const around = (before: number, after: number) => `\${cartlens.datesAround(dataform.projectConfig.vars, ${-reach.before + before}, ${reach.after + after})}`;
    const ownDates = model.reach ? around(0, 0) : RUN_DATES;
    const select = renderTemplate(model.file, stripHeader(model.sql), { dialect, runDates: ownDates, datesAround: around, tableOf: ref }).trim();
    let body = select
      .replaceAll('@cartlens_user_key_ipad', '${cartlens.userKeyPad(dataform.projectConfig.vars, "ipad")}')
      .replaceAll('@cartlens_user_key_opad', '${cartlens.userKeyPad(dataform.projectConfig.vars, "opad")}');
    const own = blocking.filter((a) => a.model === model.name);
    const config = modelConfig(model, dialect, own);
    if (model.materialized === 'partitioned') {
      const deleted = model.reach ? `cartlens.datesAround(dataform.projectConfig.vars, ${-reach.before}, ${reach.after})` : 'cartlens.runDates(dataform.projectConfig.vars)';
      body = `pre_operations {\n  \${when(incremental(), "DELETE FROM " + self() + " WHERE date IN " + ${deleted})}\n}\n\n${body}`;
    }
    files.set(`definitions/${model.materialized === 'temp' ? 'intermediate' : 'marts'}/${model.name}.sqlx`, sqlx(config, body));
    actions.push({ name: model.name, type: model.materialized === 'temp' ? 'table' : 'incremental', dependsOn: model.dependsOn });
    // The blocking checks Dataform has no built-in for: SQL assertions over the run's date.
    for (const assertion of own.filter((a) => builtIn(a) === undefined)) {
      const sql = compileAssertion(assertion, dialect, []).replaceAll(dialect.tableName(model.name, false), ref(model.name));
      files.set(`definitions/assertions/${assertion.name}.sqlx`, sqlx({ type: 'assertion', description: `cartlens assertion ${assertion.name} (${assertion.kind}: ${assertion.args}): the violating rows of the run's date.` }, sql));
      actions.push({ name: assertion.name, type: 'assertion', dependsOn: [model.name] });
    }
  }
}

/** How a cartlens assertion is written as a Dataform built-in assertion, if it can be. */
export function builtIn(assertion: Assertion): { uniqueKey: string[] } | { nonNull: string[] } | { rowCondition: string } | undefined {
  const columns = assertion.args.split(',').map((c) => c.trim());
  switch (assertion.kind) {
    case 'unique':
      return { uniqueKey: columns };
    case 'not_null':
      return { nonNull: columns };
    case 'row':
      return { rowCondition: assertion.args };
    case 'accepted_values': {
      // NULL passes, as cartlens' `NOT IN` lets it.
      const match = /^(\w+)\s+in\s+\((.*)\)$/i.exec(assertion.args);
      return match ? { rowCondition: `${match[1]} IN (${match[2]})` } : undefined;
    }
    default:
      return undefined;
  }
}

function modelConfig(model: Model, dialect: BigQueryDialect, assertions: Assertion[]): Record<string, unknown> {
  const table = dialect.tableName(model.name, false).slice(1, -1).split('.');
  const uniqueKeys: string[][] = [];
  const nonNull: string[] = [];
  const rowConditions: string[] = [];
  for (const assertion of assertions) {
    const check = builtIn(assertion);
    if (check === undefined) continue;
    if ('uniqueKey' in check) uniqueKeys.push(check.uniqueKey);
    else if ('nonNull' in check) nonNull.push(...check.nonNull.filter((c) => !nonNull.includes(c)));
    else rowConditions.push(check.rowCondition);
  }
  const checks = { ...(uniqueKeys.length > 0 ? { uniqueKeys } : {}), ...(nonNull.length > 0 ? { nonNull } : {}), ...(rowConditions.length > 0 ? { rowConditions } : {}) };
  return {
    type: model.materialized === 'temp' ? 'table' : 'incremental',
    schema: table[1],
    description: model.description,
    ...(model.materialized === 'partitioned' ? { protected: true, bigquery: { partitionBy: 'date' } } : {}),
    ...(Object.keys(checks).length > 0 ? { assertions: checks } : {}),
  };
}

function sqlx(config: Record<string, unknown>, body: string): string {
  const header = '-- Generated by `cartlens dataform` from the cartlens models: do not edit, regenerate.\n';
  return `${header}config ${JSON.stringify(config, null, 2)}\n${body === '' ? '' : `\n${body}\n`}`;
}

/** Splits a script into its statements (comments dropped; no `;` inside strings in these files). */
function statements(script: string): string[] {
  return script
    .replace(/--.*$/gm, '')
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function workflowSettings(warehouse: BigQueryWarehouse, userKey: boolean): string {
  return [
    '# Generated by `cartlens dataform`: do not edit, regenerate.',
    `defaultProject: ${warehouse.project}`,
    `defaultLocation: ${warehouse.location}`,
    `defaultDataset: ${warehouse.staging_dataset}`,
    `defaultAssertionDataset: ${warehouse.staging_dataset}_assertions`,
    `dataformCoreVersion: ${DATAFORM_CORE_VERSION}`,
    'vars:',
    ...(userKey
      ? ["  # YYYY-MM-DD, or yesterday in the property's time zone. The HMAC key (user_key_secret) is", '  # never written here: pass it as a compilation variable (README.md).']
      : ["  # YYYY-MM-DD, or yesterday in the property's time zone."]),
    '  run_date: yesterday',
    '',
  ].join('\n');
}

function readme(warehouse: BigQueryWarehouse, source: Source, userKey: boolean): string {
  const input =
    source.type === 'ga4-data-api'
      ? `It reads the GA4 Data API's report tables (\`raw_ga4_api_*\`, declared here), which cartlens'
extract step loads first: Dataform does not call the Data API.`
      : "It reads GA4's BigQuery export in place.";
  const key = `- \`user_key_secret\`: the HMAC key of \`user_key\` — the same secret as cartlens'
  \`privacy.user_key_secret\`. Never commit it: \`dataform compile --vars=user_key_secret=...\`,
  or the release configuration's / workflow invocation's compilation variables. Compilation fails
  without it.
`;
  return `# cartlens in Dataform (generated)

Generated by \`cartlens dataform\` from cartlens' model files and BigQuery dialect: do not edit,
regenerate (\`cartlens dataform --check <this folder>\` tells whether it is still what cartlens
generates). One invocation builds one day (\`run_date\`) in \`${warehouse.project}\`
(\`${warehouse.staging_dataset}\`, \`${warehouse.marts_dataset}\`); then \`cartlens publish --date <run_date>\`
writes the CSV files.

${input}

Compilation variables:

- \`run_date\`: \`YYYY-MM-DD\`, or \`yesterday\` (the default).
${userKey ? key : ''}`;
}
