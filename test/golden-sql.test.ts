// Golden SQL: the exact text every model compiles to, per dialect, checked in beside the tests.
// A change to a model or a dialect shows up here as a diff to review. UPDATE_GOLDEN=1 rewrites.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModels } from '../src/models/compile.js';
import { API_MODELS_DIR, planModels, readModels } from '../src/models/graph.js';
import { DEFAULT_REPORTS } from '../src/sources/ga4-data-api/reports.js';
import { API_TABLES, PUBLISHED_TABLES, PUBLISHED_TABLE_NAMES, REMARKETING_AUDIENCE } from '../src/exports/published-tables.js';
import { exportQuery } from '../src/exports/export-query.js';
import { DuckDbDialect } from '../src/warehouse/duckdb/duckdb-dialect.js';
import { bigQueryDialectFor } from '../src/warehouse/bigquery/bigquery-dialect.js';
import { SqlTemplate } from '../src/warehouse/sql-template.js';
import { loadSql, readExportSql, schemaSql, stageExportSql } from '../src/warehouse/bigquery/staging-sql.js';

// Every dialect, every model: a model cannot be added for one warehouse only.
const DIALECTS = { duckdb: new DuckDbDialect(), bigquery: bigQueryDialectFor({ project: 'my-project', staging_dataset: 'cartlens_staging', marts_dataset: 'cartlens_marts' }) };

describe.each(Object.entries(DIALECTS))('golden SQL for %s', async (name, dialect) => {
  const plan = planModels(await readModels(), PUBLISHED_TABLE_NAMES);
  const steps = compileModels(plan, dialect, ['2026-11-01']);
  it.each(steps.map((s) => [s.model, s] as const))('%s', async (model, step) => {
    const file = join(process.cwd(), 'test', 'golden', name, `${model}.sql`);
    const text = `${step.statements.join(';\n\n')};\n`;
    if (process.env.UPDATE_GOLDEN) await writeFile(file, text);
    expect(text).toBe(await readFile(file, 'utf8'));
  });
  // The GA4 Data API source's models, over the raw report tables its load step fills.
  const apiPlan = planModels(await readModels(API_MODELS_DIR), API_TABLES.map((t) => t.name), DEFAULT_REPORTS.map((r) => `raw_ga4_api_${r.name}`));
  it.each(compileModels(apiPlan, dialect, ['2026-11-01']).map((s) => [s.model, s] as const))('%s (GA4 Data API)', async (model, step) => {
    const file = join(process.cwd(), 'test', 'golden', name, `${model}.sql`);
    const text = `${step.statements.join(';\n\n')};\n`;
    if (process.env.UPDATE_GOLDEN) await writeFile(file, text);
    expect(text).toBe(await readFile(file, 'utf8'));
  });
  it.each([...PUBLISHED_TABLES, REMARKETING_AUDIENCE].map((t) => [t.name, t] as const))('export of %s', async (table, spec) => {
    const file = join(process.cwd(), 'test', 'golden', name, `export_${table}.sql`);
    const text = `${exportQuery(dialect, spec, '2026-11-01')};\n`;
    if (process.env.UPDATE_GOLDEN) await writeFile(file, text);
    expect(text).toBe(await readFile(file, 'utf8'));
  });
});

describe('golden staging SQL for bigquery', () => {
  // BigQuery stages GA4's export in SQL (DuckDB reads files: its staging is tested on data).
  const dialect = DIALECTS.bigquery;
  const read = readExportSql('my-project.analytics_123', ['20261101', '20261102']);
  const staging: Record<string, string> = {
    'read-export': read,
    'stage-export': stageExportSql(read),
    load: loadSql(dialect, 'my-project.analytics_123', ['2026-11-01', '2026-11-02'], '20261102T060000Z-abc123'),
    schema: schemaSql(dialect, 'my-project.cartlens_staging'),
  };
  it.each(Object.entries(staging))('%s', async (name, sql) => {
    const file = join(process.cwd(), 'test', 'golden', 'bigquery', `staging_${name}.sql`);
    const text = `${sql.trim()}\n`;
    if (process.env.UPDATE_GOLDEN) await writeFile(file, text);
    expect(text).toBe(await readFile(file, 'utf8'));
  });
  it('refuses to leave a placeholder unfilled', () => {
    expect(() => readExportSql('my-project.analytics_123', ['2026110'])).toThrow(/not export table suffixes/);
    const template = SqlTemplate.fromText('t.sql', 'SELECT {{a}} FROM {{b}}');
    expect(template.fill({ a: "'$&'", b: 't' })).toBe("SELECT '$&' FROM t"); // verbatim: no replacement patterns
    expect(() => template.fill({ a: '1' })).toThrow("t.sql: no value for the placeholder {{b}}");
    expect(() => template.fill({ a: '1', b: 't', c: 'x' })).toThrow('t.sql: no placeholder for {{c}}');
  });
});

describe('string literals', () => {
  it('escape as each dialect reads them', () => {
    expect(DIALECTS.duckdb.stringLiteral("it's \\ ok")).toBe("'it''s \\ ok'");
    expect(DIALECTS.bigquery.stringLiteral("it's \\ ok\n")).toBe("'it\\'s \\\\ ok\\n'");
  });
});
