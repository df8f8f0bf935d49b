// The export's row order is the table's key with an empty (NULL) key first, on every warehouse:
// DuckDB's own default puts NULLs last, BigQuery's first (test/conformance*.test.ts compare the two).
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { exportQuery } from '../src/exports/export-query.js';
import { API_TABLES } from '../src/contract/tables.js';
import { DuckDbDialect } from '../src/warehouse/duckdb/duckdb-dialect.js';

describe('the export query', () => {
  it('sorts a row whose key is empty first', async () => {
    const table = API_TABLES.find((t) => t.name === 'ga4_api_funnel_daily')!;
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const columns = table.columns.map((c) => `${c.name} ${c.kind === 'date' ? 'DATE' : c.kind === 'text' ? 'VARCHAR' : 'DECIMAL(38,9)'}`).join(', ');
      await connection.run(`CREATE TABLE ga4_api_funnel_daily (${columns})`);
      const row = (country: string | null) => `(DATE '2026-11-01', 'mobile', ${country === null ? 'NULL' : `'${country}'`}, 'google / cpc', 1, 1, 1, 1, 1, 1)`;
      await connection.run(`INSERT INTO ga4_api_funnel_daily VALUES ${row('Brazil')}, ${row(null)}, ${row('Argentina')}`);
      const rows = (await connection.runAndReadAll(exportQuery(new DuckDbDialect(), table, '2026-11-01'))).getRowObjectsJson();
      expect(rows.map((r) => r.country)).toEqual([null, 'Argentina', 'Brazil']);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});
