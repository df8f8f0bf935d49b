// A Dataform repository generated from a BigQuery config and its run plan: the same model files,
// compiled with the same BigQuery dialect as `cartlens run`, with each table reference rewritten to
// `${ref("name")}` and the run's date and HMAC key left to Dataform's compilation variables.
// Pure: config + plan in, files out.
import type { CartlensConfig } from '../config/schema.js';
import type { Assertion } from '../models/assertions.js';
import { compileAssertion } from '../models/assertions.js';
import type { Model } from '../models/graph.js';
import { renderTemplate } from '../models/template.js';
import type { RunPlan } from '../pipeline/plan.js';
import { ConfigError } from '../util/errors.js';
import { bigQueryDialectFor, type BigQueryDialect } from '../warehouse/bigquery/bigquery-dialect.js';
import { exportDataset, loadSql, readExportSql, schemaSql, stageExportSql } from '../warehouse/bigquery/staging-sql.js';
import { includesJs } from './includes.js';

/** The @dataform/core the repository compiles with: the version package.json pins. */
export const DATAFORM_CORE_VERSION = '3.0.62';

/** The declared export tables: `events_2*`, the daily tables only (`events_*` would match `events_intraday_*`). */
export const EXPORT_TABLES = 'events_2*';
/** The staging action that reads the export once per run and cleans it (the contract's rules). */
export const SETTLED = 'ga4_export_settled';
/** The tables the staging SQL loads, in load.sql's order. */
export const STAGED_TABLES = ['stg_events', 'stg_event_items', 'quarantined_events', 'quality_daily'] as const;

// A date no run has, put where the run's dates go and then replaced by the compilation variable.
const SENTINEL_DATE = '2999-12-31';
const RUN_DATES = '${cartlens.runDates(dataform.projectConfig.vars)}';
const RUN_ID = 'dataform';

export interface DataformRepository {
  /** Relative path → content. */
  files: Map<string, string>;
  /** Every action the repository defines or declares, with what it depends on (for checks). */
  actions: { name: string; type: 'declaration' | 'operations' | 'table' | 'incremental' | 'assertion'; dependsOn: string[] }[];
}

type BigQueryWarehouse = Extract<CartlensConfig['warehouse'], { type: 'bigquery' }>;

export function dataformRepository(plan: Pick<RunPlan, 'config' | 'models' | 'assertions' | 'calendar'>): DataformRepository {
  const { config } = plan;
  const warehouse = config.warehouse;
  if (warehouse.type !== 'bigquery') throw new ConfigError(`warehouse.type is ${warehouse.type}: Dataform runs on BigQuery`, 'use a BigQuery config (deploy/cartlens.gcp.yaml)');
  if (config.source.type !== 'ga4-export-bigquery') {
    throw new ConfigError(`source.type is ${config.source.type}: the Dataform repository reads GA4's BigQuery export`, 'use source.type ga4-export-bigquery (the Data API is fetched by `cartlens run`)');
  }
  const dialect = bigQueryDialectFor(warehouse);
  const files = new Map<string, string>();
  const actions: DataformRepository['actions'] = [];
  const ref = (name: string) => `\${ref(${JSON.stringify(name)})}`;
  const runDates = (sql: string) => sql.replaceAll(dialect.dateList([SENTINEL_DATE]), RUN_DATES);

  files.set('workflow_settings.yaml', workflowSettings(warehouse));
  files.set('includes/cartlens.js', includesJs(plan.calendar.timeZone));
  files.set('.gitignore', 'node_modules/\n.df-credentials.json\n');

  // The export's daily tables, read in place.
  const exported = exportDataset(config.source.project, config.source.dataset);
  const [exportProject, exportSchema] = [config.source.project, config.source.dataset];
  files.set(
    'definitions/sources/ga4_export.sqlx',
    sqlx({ type: 'declaration', database: exportProject, schema: exportSchema, name: EXPORT_TABLES, description: "GA4's BigQuery export: the daily events_YYYYMMDD tables (not events_intraday_*)" }, ''),
  );
  actions.push({ name: EXPORT_TABLES, type: 'declaration', dependsOn: [] });

  // Staging: the same statements as `cartlens run` (staging-sql.ts), with the scratch table of the
  // settled rows kept as a table (a temporary table does not outlive its action) and each staged
  // table replaced for the run's date by its own action.
  const suffix = SENTINEL_DATE.replaceAll('-', '');
  const readExport = readExportSql(exported, [suffix])
    .replace(`\`${exported}.events_2*\``, ref(EXPORT_TABLES))
    .replace(`'${suffix.slice(1)}'`, '${cartlens.exportSuffixes(dataform.projectConfig.vars)}');
  const settled = stageExportSql(readExport).replace('CREATE TEMP TABLE _run_settled AS', 'CREATE OR REPLACE TABLE ${self()} AS');
  files.set(`definitions/staging/${SETTLED}.sqlx`, sqlx({ type: 'operations', hasOutput: true, description: "The run's export rows, deduplicated and checked by the contract's cleaning rules (rebuilt every run)." }, settled));
  actions.push({ name: SETTLED, type: 'operations', dependsOn: [EXPORT_TABLES] });

  const staging = `${warehouse.project}.${warehouse.staging_dataset}`;
  const ddl = statements(schemaSql(dialect, staging));
  const load = loadSql(dialect, exported, [SENTINEL_DATE], RUN_ID).replace(/^--.*\n/gm, '');
  for (const table of STAGED_TABLES) {
    const name = dialect.tableName(table, false);
    // Quoted with backticks, a table's name is never part of another's.
    const own = (sql: string) => sql.includes(name);
    const create = ddl.filter(own);
    const replace = statements(load).filter(own);
    if (create.length === 0 || replace.length !== 2) throw new Error(`staging SQL for ${table} not found (staging-sql.ts changed?)`);
    const body = [...create, ...replace].map((s) => `${runDates(s).replaceAll(name, '${self()}').replaceAll('_run_settled', ref(SETTLED))};`).join('\n\n');
    files.set(`definitions/staging/${table}.sqlx`, sqlx({ type: 'operations', hasOutput: true, description: `${table}: the run's date replaced by the cleaned export rows (load.sql).` }, body));
    actions.push({ name: table, type: 'operations', dependsOn: [SETTLED] });
  }

  // The models: each compiled with the BigQuery dialect, table references rewritten to ${ref()}.
  const blocking = plan.assertions.filter((a) => a.blocking);
  for (const model of plan.models) {
    const select = renderTemplate(stripHeader(model.sql), { dialect, dates: [SENTINEL_DATE], tableOf: ref }).trim();
    let body = runDates(select)
      .replaceAll('@cartlens_user_key_ipad', '${cartlens.userKeyPad(dataform.projectConfig.vars, "ipad")}')
      .replaceAll('@cartlens_user_key_opad', '${cartlens.userKeyPad(dataform.projectConfig.vars, "opad")}');
    if (body.includes(SENTINEL_DATE)) throw new Error(`${model.name}: the run's date is used other than as {{ run_dates }}`);
    const own = blocking.filter((a) => a.model === model.name);
    const config = modelConfig(model, dialect, own);
    if (model.materialized === 'partitioned') {
      body = `pre_operations {\n  \${when(incremental(), "DELETE FROM " + self() + " WHERE date IN " + cartlens.runDates(dataform.projectConfig.vars))}\n}\n\n${body}`;
    }
    files.set(`definitions/${model.materialized === 'temp' ? 'intermediate' : 'marts'}/${model.name}.sqlx`, sqlx(config, body));
    actions.push({ name: model.name, type: model.materialized === 'temp' ? 'table' : 'incremental', dependsOn: model.dependsOn });
    // The blocking checks Dataform has no built-in for: SQL assertions over the run's date.
    for (const assertion of own.filter((a) => builtIn(a) === undefined)) {
      const sql = runDates(compileAssertion(assertion, dialect, [SENTINEL_DATE]).replaceAll(dialect.tableName(model.name, false), ref(model.name)));
      files.set(`definitions/assertions/${assertion.name}.sqlx`, sqlx({ type: 'assertion', description: `cartlens assertion ${assertion.name} (${assertion.kind}: ${assertion.args}): the violating rows of the run's date.` }, sql));
      actions.push({ name: assertion.name, type: 'assertion', dependsOn: [model.name] });
    }
  }
  files.set('README.md', readme(config.warehouse as BigQueryWarehouse));
  return { files, actions };
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

function stripHeader(sql: string): string {
  return sql.replace(/^(--\s*(materialized|description|assert\s+\w+):.*\n)+/, '');
}

function workflowSettings(warehouse: BigQueryWarehouse): string {
  return [
    '# Generated by `cartlens dataform`: do not edit, regenerate.',
    `defaultProject: ${warehouse.project}`,
    `defaultLocation: ${warehouse.location}`,
    `defaultDataset: ${warehouse.staging_dataset}`,
    `defaultAssertionDataset: ${warehouse.staging_dataset}_assertions`,
    `dataformCoreVersion: ${DATAFORM_CORE_VERSION}`,
    'vars:',
    '  # YYYY-MM-DD, or yesterday in the property\'s time zone. The HMAC key (user_key_secret) is',
    '  # never written here: pass it as a compilation variable (README.md).',
    '  run_date: yesterday',
    '',
  ].join('\n');
}

function readme(warehouse: BigQueryWarehouse): string {
  return `# cartlens in Dataform (generated)

Generated by \`cartlens dataform\` from cartlens' model files and BigQuery dialect: do not edit,
regenerate. One invocation builds one day (\`run_date\`) in \`${warehouse.project}\`
(\`${warehouse.staging_dataset}\`, \`${warehouse.marts_dataset}\`); then \`cartlens publish --date <run_date>\`
writes the CSV files.

Compilation variables:

- \`run_date\`: \`YYYY-MM-DD\`, or \`yesterday\` (the default).
- \`user_key_secret\`: the HMAC key of \`user_key\` — the same secret as cartlens'
  \`privacy.user_key_secret\`. Never commit it: \`dataform compile --vars=user_key_secret=...\`,
  or the release configuration's / workflow invocation's compilation variables. Compilation fails
  without it.
`;
}
