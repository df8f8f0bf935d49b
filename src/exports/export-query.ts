import type { Dialect, MaterializationDialect } from '../warehouse/dialect.js';
import type { PublishedTable } from '../contract/tables.js';

/** The rows of a published table for one date, every value as the CSV writes it, in key order. */
export function exportQuery(dialect: Dialect & MaterializationDialect, table: PublishedTable, date: string): string {
  const columns = table.columns.map((column) => {
    return `${dialect.csvText(column.kind, `t.${dialect.quoteIdentifier(column.name)}`)} AS ${dialect.quoteIdentifier(column.name)}`;
  });
  // Sorted on the typed columns (t.…), not on their text: session_id sorts as a number. An empty
  // key sorts first on every warehouse (DuckDB's default puts NULLs last, BigQuery's first).
  const order = table.key.map((k) => `t.${dialect.quoteIdentifier(k)} NULLS FIRST`).join(', ');
  return `SELECT ${columns.join(', ')} FROM ${dialect.tableName(table.name, false)} AS t WHERE t.date = ${dialect.dateLiteral(date)} ORDER BY ${order}`;
}
