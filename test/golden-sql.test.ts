// Golden SQL: the exact text every model compiles to, per dialect, checked in beside the tests.
// A change to a model or a dialect shows up here as a diff to review. UPDATE_GOLDEN=1 rewrites.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModels } from '../src/models/compile.js';
import { planModels, readModels } from '../src/models/graph.js';
import { PUBLISHED_TABLES, PUBLISHED_TABLE_NAMES } from '../src/exports/published-tables.js';
import { exportQuery } from '../src/exports/export-query.js';
import { DuckDbDialect } from '../src/warehouse/duckdb/duckdb-dialect.js';
import { BigQueryDialect } from '../src/warehouse/bigquery/bigquery-dialect.js';

// Every dialect, every model: a model cannot be added for one warehouse only.
const DIALECTS = { duckdb: new DuckDbDialect(), bigquery: new BigQueryDialect({ staging: 'my-project.cartlens_staging', marts: 'my-project.cartlens_marts', published: PUBLISHED_TABLE_NAMES }) };

describe.each(Object.entries(DIALECTS))('golden SQL for %s', async (name, dialect) => {
  const plan = planModels(await readModels(), PUBLISHED_TABLE_NAMES);
  const steps = compileModels(plan, dialect, ['2026-11-01']);
  it.each(steps.map((s) => [s.model, s] as const))('%s', async (model, step) => {
    const file = join(process.cwd(), 'test', 'golden', name, `${model}.sql`);
    const text = `${step.statements.join(';\n\n')};\n`;
    if (process.env.UPDATE_GOLDEN) await writeFile(file, text);
    expect(text).toBe(await readFile(file, 'utf8'));
  });
  it.each(PUBLISHED_TABLES.map((t) => [t.name, t] as const))('export of %s', async (table, spec) => {
    const file = join(process.cwd(), 'test', 'golden', name, `export_${table}.sql`);
    const text = `${exportQuery(dialect, spec, '2026-11-01')};\n`;
    if (process.env.UPDATE_GOLDEN) await writeFile(file, text);
    expect(text).toBe(await readFile(file, 'utf8'));
  });
});

describe('string literals', () => {
  it('escape as each dialect reads them', () => {
    expect(DIALECTS.duckdb.stringLiteral("it's \\ ok")).toBe("'it''s \\ ok'");
    expect(DIALECTS.bigquery.stringLiteral("it's \\ ok\n")).toBe("'it\\'s \\\\ ok\\n'");
  });
});
