import { compileAssertion, type Assertion } from '../models/assertions.js';
import type { Warehouse } from '../warehouse/warehouse.js';
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
      const sample = rows.slice(0, 5);
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
