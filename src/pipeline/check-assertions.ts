import { compileAssertion, type Assertion } from '../models/assertions.js';
import type { Row, Warehouse } from '../warehouse/warehouse.js';
import type { AssertionFailure } from './report.js';

/**
 * Runs every assertion for the run's dates and keeps each outcome (passes too) in
 * assertion_results; returns the failures by date.
 */
export async function checkAssertions(warehouse: Warehouse, assertions: Assertion[], dates: string[], runId: string): Promise<Map<string, AssertionFailure[]>> {
  const failures = new Map<string, AssertionFailure[]>();
  const { dialect } = warehouse;
  const results: string[] = [];
  for (const assertion of assertions) {
    const violating = await warehouse.query(compileAssertion(assertion, dialect, dates));
    for (const date of dates) {
      const rows = violating.filter((row) => String(row.date).slice(0, 10) === date);
      const sample = sampleOf(rows);
      results.push(
        `(${dialect.stringLiteral(runId)}, ${dialect.dateLiteral(date)}, ${dialect.stringLiteral(assertion.model)}, ${dialect.stringLiteral(assertion.name)}, ${dialect.stringLiteral(assertion.severity)}, ${assertion.blocking}, ${rows.length}, ${rows.length ? dialect.stringLiteral(JSON.stringify(sample)) : 'NULL'})`,
      );
      if (rows.length > 0) {
        failures.set(date, [...(failures.get(date) ?? []), { assertion: assertion.name, model: assertion.model, severity: assertion.severity, blocking: assertion.blocking, failing_rows: rows.length, sample }]);
      }
    }
  }
  await warehouse.execute(`DELETE FROM ${dialect.tableName('assertion_results', false)} WHERE date IN ${dialect.dateList(dates)}`);
  if (results.length > 0) await warehouse.execute(`INSERT INTO ${dialect.tableName('assertion_results', false)} VALUES ${results.join(', ')}`);
  return failures;
}

/**
 * Up to 5 violating rows, the same on every warehouse and every run: values as text where the
 * warehouses' clients differ (BigQuery gives INT64 as a number, DuckDB BIGINT as text; their
 * TIMESTAMP texts differ), and the rows in the order of their JSON: the query's own order is the
 * engine's.
 */
function sampleOf(rows: Row[]): Row[] {
  const plain = rows.map((row) => Object.fromEntries(Object.entries(row).map(([column, value]) => [column, sampleValue(value)])));
  return plain
    .map((row) => [JSON.stringify(row), row] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, 5)
    .map(([, row]) => row);
}

/** A TIMESTAMP as either client writes it: DuckDB `YYYY-MM-DD HH:MM:SS[.f]`, BigQuery `YYYY-MM-DDTHH:MM:SS[.f]Z`. */
const TIMESTAMP_TEXT = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z?$/;

function sampleValue(value: Row[string]): Row[string] {
  if (typeof value === 'number') return String(value);
  const timestamp = typeof value === 'string' ? TIMESTAMP_TEXT.exec(value) : null;
  // As the published files write timestamps: ISO-8601 UTC with Z and milliseconds (finer digits kept).
  if (timestamp) return `${timestamp[1]}T${timestamp[2]}.${(timestamp[3] ?? '').replace(/0+$/, '').padEnd(3, '0')}Z`;
  return value;
}
