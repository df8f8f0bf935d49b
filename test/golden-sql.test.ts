// Golden SQL: the exact text every model compiles to, per dialect, checked in beside the tests.
// A change to a model or a dialect shows up here as a diff to review. UPDATE_GOLDEN=1 rewrites.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModels } from '../src/models/compile.js';
import { API_MODELS_DIR, planModels, readModels } from '../src/models/graph.js';
import { DEFAULT_REPORTS } from '../src/sources/ga4-data-api/reports.js';
import { API_TABLES, publishedTable, PUBLISHED_TABLES, PUBLISHED_TABLE_NAMES, REMARKETING_AUDIENCE } from '../src/contract/tables.js';
import { exportQuery } from '../src/exports/export-query.js';
import { dialectFor } from '../src/warehouse/index.js';
import { SqlTemplate } from '../src/warehouse/sql-template.js';
import { loadSql, readExportSql, schemaSql, stageExportSql } from '../src/warehouse/bigquery/staging-sql.js';
import * as duckdb from '../src/warehouse/duckdb/duckdb-sql.js';
import * as state from '../src/warehouse/state-sql.js';

// Every dialect, every model: a model cannot be added for one warehouse only.
const DIALECTS = { duckdb: dialectFor({ type: 'duckdb' }), bigquery: dialectFor({ type: 'bigquery', project: 'my-project', staging_dataset: 'cartlens_staging', marts_dataset: 'cartlens_marts' }) };

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
  const read = readExportSql('my-project.analytics_123', { daily: ['20261101', '20261102'], intraday: [] });
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
    expect(() => readExportSql('my-project.analytics_123', { daily: ['2026110'], intraday: [] })).toThrow(/not export table suffixes/);
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

describe('golden SQL of the warehouses’ own tables', () => {
  const golden = async (dialect: string, name: string, sql: string) => {
    const file = join(process.cwd(), 'test', 'golden', dialect, `${name}.sql`);
    const text = `${sql.trim()}\n`;
    if (process.env.UPDATE_GOLDEN) await writeFile(file, text);
    expect(text).toBe(await readFile(file, 'utf8'));
  };
  it('duckdb: schema and load', async () => {
    await golden('duckdb', 'staging_schema', duckdb.schemaSql(DIALECTS.duckdb).join('\n'));
    await golden('duckdb', 'staging_load', duckdb.loadSql(DIALECTS.duckdb, ['2026-11-01', '2026-11-02'], '20261102T060000Z-abc123'));
  });
  it.each(Object.entries(DIALECTS))('%s: run state, guards, assertion results, user key, retention, reconciliation', async (name, dialect) => {
    const runId = '20261102T060000Z-abc123';
    const dates = ['2026-11-01', '2026-11-02'];
    const day = { source: 'ga4-export:shop', date: '2026-11-01', status: 'complete', run_id: runId, started_at: '2026-11-02T06:00:00.000Z', finished_at: '2026-11-02T06:01:02.345Z', input_fingerprint: 'abc', rows: { cart_funnel_daily: 1 }, final: true, last_error: null, input: 'daily' as const };
    const statements = [
      ...state.recordDaySql(dialect, day, ['local:in/*.json']),
      ...state.recordDaySql(dialect, { ...day, status: 'failed', input_fingerprint: null, last_error: "it's 'failed'", input: 'intraday' as const }),
      state.readRunStateSql(dialect, ['ga4-export:shop', 'local:in/*.json']),
      state.datesWithRowsSql(dialect, 'cart_funnel_daily', dates),
      state.qualityOfDateSql(dialect, '2026-11-01'),
      state.recordRunSql(dialect, { runId, startedAt: new Date('2026-11-02T06:00:00Z'), committedAt: new Date('2026-11-02T06:01:00.5Z'), dates, source: 'GA4 export', files: 2 }),
      ...state.recordAssertionResultsSql(dialect, dates, [
        { runId, date: '2026-11-01', model: 'cart_funnel_daily', assertion: 'cart_funnel_daily__unique_1', severity: 'error', blocking: true, failingRows: 0, sample: null },
        { runId, date: '2026-11-02', model: 'cart_funnel_daily', assertion: 'cart_funnel_daily__unique_1', severity: 'error', blocking: true, failingRows: 1, sample: [{ date: '2026-11-02', copies: '2' }] },
      ]),
      ...state.recordAssertionResultsSql(dialect, dates, []),
      state.publishedDatesSql(dialect, 'ga4-export:shop'),
      state.readInputsSql(dialect, 'ga4-export:shop'),
      state.recordReadInputsSql(dialect, 'ga4-export:shop', ['a'.repeat(64), 'b'.repeat(64)], runId),
      state.stagedLinesOfDatesSql(dialect, dates),
      state.clearLateLinesSql(dialect, 'ga4-export:shop', dates),
      state.recordLateLinesSql(dialect, 'ga4-export:shop', runId, [{ date: '2026-11-01', name: 'in/a.json', sha256: 'a'.repeat(64), lines: 3 }, { date: '2026-11-02', name: 'events_20261102', sha256: null, lines: 1 }]),
      state.lateLinesSql(dialect, 'ga4-export:shop'),
      state.headlineSql(dialect, { table: 'cart_funnel_daily', column: 'sessions' }, dates),
      state.publishedSessionsSql(dialect, 'ga4-export:shop', dates),
      ...state.recordPublishedSessionsSql(dialect, 'ga4-export:shop', '2026-11-01', runId, 41.6),
      state.userKeyFingerprintsSql(dialect),
      ...state.recordUserKeyFingerprintSql(dialect, 'f'.repeat(64), runId, true),
      ...state.purgeExpiredSql(dialect, { pagesBefore: '2026-08-04', quarantinedBefore: '2026-10-03', quarantinedLandedBefore: new Date('2026-10-03T12:00:00Z'), stagedBefore: '2026-10-26' }),
      state.reconcileSql(dialect, '2026-11-01'),
      // The restatement log (src/pipeline/restatements.ts).
      ...state.snapshotPublishedSql(dialect, 'abandoned_carts', dates),
      state.publishedRowsTextSql(dialect, publishedTable('cart_funnel_daily'), dates, 'before'),
      state.publishedRowsTextSql(dialect, publishedTable('cart_funnel_daily'), dates, 'after'),
      state.rowChangesSql(dialect, publishedTable('abandoned_carts'), publishedTable('abandoned_carts').columns.filter((c) => c.metric?.additive), dates),
      state.recordRestatementsSql(dialect, [
        { date: '2026-11-01', table: 'cart_funnel_daily', runId, previousRunId: '20261101T060000Z-def456', column: 'sessions', before: '3069', after: '3081' },
        { date: '2026-11-01', table: 'cart_funnel_daily', runId, previousRunId: null, column: 'cart_abandonment_rate', before: null, after: '0.5000' },
      ]),
      state.publishedRunsSql(dialect, 'ga4-export:shop', dates),
      state.lastRestatingRunsSql(dialect, dates),
      state.restatementsSql(dialect),
    ];
    await golden(name, 'state', statements.map((s) => s.trim()).join(';\n\n'));
  });
});
