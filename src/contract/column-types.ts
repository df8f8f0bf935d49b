import type { ColumnKind } from './tables.js';

/** The DuckDB type of each kind of published column (the warehouse's tables and the dashboard's copy). */
export const DUCKDB_COLUMN_TYPES: Readonly<Record<ColumnKind, string>> = {
  date: 'DATE',
  integer: 'BIGINT',
  money: 'DECIMAL(38,2)',
  rate: 'DECIMAL(38,4)',
  hours: 'DECIMAL(38,2)',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
  text: 'VARCHAR',
};

/** The BigQuery type of each kind of published column (the marts' schemas, the Dataform repository). */
export const BIGQUERY_COLUMN_TYPES: Readonly<Record<ColumnKind, string>> = {
  date: 'DATE',
  integer: 'INT64',
  money: 'NUMERIC',
  rate: 'NUMERIC',
  hours: 'NUMERIC',
  boolean: 'BOOL',
  timestamp: 'TIMESTAMP',
  text: 'STRING',
};
