// Every SQL file cartlens fills goes through the one templating (SqlTemplate): a placeholder left
// unfilled, or a value for a placeholder the file does not have, fails naming the file — before
// any SQL reaches a warehouse. Here the shipped files are read with one placeholder too many, or
// one too few, as an edit that forgets its code would leave them.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { tempDir } from './support/pipeline.js';

/** File (its last two path parts) → how its text is edited when read. */
const edits = vi.hoisted(() => new Map<string, (text: string) => string>());
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const readFileSync = ((file: Parameters<typeof fs.readFileSync>[0], options?: unknown) => {
    const text = fs.readFileSync(file, options as BufferEncoding);
    const edit = [...edits].find(([name]) => String(file instanceof URL ? file.pathname : file).endsWith(`/${name}`))?.[1];
    return edit && typeof text === 'string' ? edit(text) : text;
  }) as typeof fs.readFileSync;
  return { ...fs, default: { ...fs, readFileSync }, readFileSync };
});

const UNFILLED = (text: string) => `${text}\n-- {{ forgotten }}\n`;

beforeEach(() => {
  edits.clear();
  vi.resetModules();
});

describe('an unfilled placeholder', () => {
  it("fails DuckDB's ingest, naming the file (a file filled once, when loaded)", async () => {
    edits.set('ingest/positions.sql', UNFILLED);
    await expect(import('../src/warehouse/duckdb/ingest.js')).rejects.toThrow('ingest/positions.sql: no value for the placeholder {{forgotten}}');
  });

  it("fails DuckDB's ingest, naming the file (a file filled per run)", async () => {
    edits.set('ingest/lines.sql', UNFILLED);
    const { stageLandedFiles } = await import('../src/warehouse/duckdb/ingest.js');
    const dir = await tempDir();
    const plainPath = join(dir, 'a.json');
    await writeFile(plainPath, '{}\n');
    const lineIndexPath = join(dir, 'a.lines.csv');
    await writeFile(lineIndexPath, '1,0,2,0\n');
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const file = { index: 0, sourcePath: 'a.json', sha256: '0'.repeat(64), bytes: 3, named: { date: undefined, intraday: false }, landedPath: plainPath, plainPath, readPath: plainPath, lineIndexPath };
      await expect(stageLandedFiles(connection, [file], '2026-11-02')).rejects.toThrow('ingest/lines.sql: no value for the placeholder {{forgotten}}');
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });

  it("fails DuckDB's load, naming the file; so does a value without its placeholder", async () => {
    edits.set('duckdb/load.sql', UNFILLED);
    const { loadSql } = await import('../src/warehouse/duckdb/duckdb-sql.js');
    const { dialectFor } = await import('../src/warehouse/index.js');
    expect(() => loadSql(dialectFor({ type: 'duckdb' }), ['2026-11-01'], 'run')).toThrow('duckdb/load.sql: no value for the placeholder {{forgotten}}');
    edits.set('duckdb/load.sql', (text) => text.replaceAll('{{date_array}}', '[]::DATE[]'));
    vi.resetModules();
    const again = await import('../src/warehouse/duckdb/duckdb-sql.js');
    expect(() => again.loadSql(dialectFor({ type: 'duckdb' }), ['2026-11-01'], 'run')).toThrow('duckdb/load.sql: no placeholder for {{date_array}}');
  });

  it("fails BigQuery's staging SQL, naming the file", async () => {
    edits.set('sql/load.sql', UNFILLED);
    const { loadSql } = await import('../src/warehouse/bigquery/staging-sql.js');
    const { dialectFor } = await import('../src/warehouse/index.js');
    const dialect = dialectFor({ type: 'bigquery', project: 'p', staging_dataset: 's', marts_dataset: 'm' });
    expect(() => loadSql(dialect, 'p.analytics_1', ['2026-11-01'], 'run')).toThrow('sql/load.sql: no value for the placeholder {{forgotten}}');
  });
});
