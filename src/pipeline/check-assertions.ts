import { compileAssertion, type Assertion } from '../models/assertions.js';
import type { Row, Warehouse } from '../warehouse/warehouse.js';
import { recordAssertionResultsSql, type AssertionResultRow } from '../warehouse/state-sql.js';
import type { AssertionFailure } from './report.js';

/**
 * The assertions of one run over its dates, one at a time (each is a step of the run's plan),
 * then recorded together: each outcome (passes too) in assertion_results.
 */
export class AssertionCheck {
  private readonly failures = new Map<string, AssertionFailure[]>();
  private readonly results: AssertionResultRow[] = [];

  constructor(
    private readonly warehouse: Warehouse,
    private readonly dates: readonly string[],
    private readonly runId: string,
  ) {}

  async run(assertion: Assertion): Promise<void> {
    const { warehouse, dates, runId, results, failures } = this;
    const { dialect } = warehouse;
    const violating = await warehouse.query(compileAssertion(assertion, dialect, dates));
    for (const date of dates) {
      const rows = violating.filter((row) => String(row.date).slice(0, 10) === date);
      const sample = sampleOf(rows);
      results.push({ runId, date, model: assertion.model, assertion: assertion.name, severity: assertion.severity, blocking: assertion.blocking, failingRows: rows.length, sample: rows.length ? sample : null });
      if (rows.length > 0) {
        failures.set(date, [...(failures.get(date) ?? []), { assertion: assertion.name, model: assertion.model, severity: assertion.severity, blocking: assertion.blocking, failing_rows: rows.length, sample }]);
      }
    }
  }

  /** Keeps the outcomes in assertion_results (the dates' earlier ones go); returns the failures by date. */
  async record(): Promise<Map<string, AssertionFailure[]>> {
    const { warehouse, dates, results } = this;
    for (const sql of recordAssertionResultsSql(warehouse.dialect, dates, results)) await warehouse.execute(sql);
    return this.failures;
  }
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
