import { DUCKDB_COLUMN_TYPES } from '../../contract/column-types.js';
import type { ColumnKind } from '../../contract/tables.js';
import type { Dialect, MaterializationDialect } from '../dialect.js';
import { dateList, dateLiteral, timestampLiteral } from '../sql-literals.js';
import { splitArguments } from '../../util/sql-arguments.js';

/** DuckDB's SQL. The HMAC key pads are session variables set by the connection (see userKeyPads). */
export class DuckDbDialect implements Dialect, MaterializationDialect {
  readonly name = 'duckdb';
  private readonly types = { money: 'DECIMAL(38,2)', rate: 'DECIMAL(38,4)', amount: 'DECIMAL(38,9)' };

  quoteIdentifier(name: string): string {
    return `"${name.replaceAll('"', '""')}"`;
  }

  // Standard SQL date and timestamp literals: the same text in both dialects.
  readonly dateLiteral = dateLiteral;
  readonly dateList = dateList;
  readonly timestampLiteral = timestampLiteral;

  readonly stringLiteral = duckdbString;

  money(expression: string): string {
    // ROUND on a DECIMAL rounds half away from zero, exactly.
    return `CAST(ROUND(CAST(${expression} AS ${this.types.amount}), 2) AS ${this.types.money})`;
  }

  rate(numerator: string, denominator: string): string {
    // Integer arithmetic: floor((2·n·10⁴ + d) / 2d) is n/d rounded half up, exact for n, d ≥ 0.
    const n = `CAST(${numerator} AS HUGEINT)`;
    const d = `CAST(${denominator} AS HUGEINT)`;
    return `CASE WHEN ${d} = 0 THEN NULL ELSE CAST(CAST((${n} * 20000 + ${d}) // (2 * ${d}) AS DECIMAL(38,0)) * CAST(0.0001 AS DECIMAL(5,4)) AS ${this.types.rate}) END`;
  }

  userKey(expression: string): string {
    return `sha256(getvariable('cartlens_user_key_opad') || unhex(sha256(getvariable('cartlens_user_key_ipad') || encode(${expression}))))`;
  }

  median(expression: string): string {
    // The mean of the two middle values of an even count, as BigQuery's median (bigquery-dialect.ts).
    return `median(${expression})`;
  }

  addDays(dateExpression: string, days: number): string {
    return `CAST(${dateExpression} + INTERVAL (${Math.trunc(days)}) DAY AS DATE)`;
  }

  firstBy(expression: string, order: string): string {
    return `arg_min_null(${expression}, ${orderKey(order)})`;
  }

  lastNonNullBy(expression: string, order: string): string {
    // arg_max passes over rows whose value is NULL.
    return `arg_max(${expression}, ${orderKey(order)})`;
  }

  timestampMillis(micros: string): string {
    return `make_timestamp(((${micros}) // 1000) * 1000)`;
  }

  hoursBetween(fromMicros: string, toMicros: string): string {
    // Integer arithmetic: floor((2·Δ + 36·10⁶) / 72·10⁶) is Δ/(36·10⁶) hundredths of an hour rounded half up (Δ > 0).
    const micros = `(CAST(${toMicros} AS HUGEINT) - CAST(${fromMicros} AS HUGEINT))`;
    return `CAST(CAST((${micros} * 2 + 36000000) // 72000000 AS DECIMAL(38,0)) * CAST(0.01 AS DECIMAL(3,2)) AS DECIMAL(38,2))`;
  }

  csvText(kind: ColumnKind, expression: string): string {
    // DECIMAL(38,2) and DECIMAL(38,4) print with exactly their scale; booleans as true/false.
    return kind === 'timestamp' ? `strftime(${expression}, '%Y-%m-%dT%H:%M:%S.%gZ')` : `CAST(${expression} AS VARCHAR)`;
  }

  tableName(name: string): string {
    // Temporary and warehouse tables share one namespace in a DuckDB session.
    return this.quoteIdentifier(name);
  }

  createTempTable(name: string, select: string): string[] {
    return [`CREATE OR REPLACE TEMP TABLE ${this.quoteIdentifier(name)} AS\n${select}`];
  }

  replaceDates(name: string, select: string, dates: readonly string[]): string[] {
    // The model's rows are computed once into a run-scoped table, then swapped in for the dates.
    const table = this.quoteIdentifier(name);
    const staged = this.quoteIdentifier(`_new_${name}`);
    return [
      `CREATE OR REPLACE TEMP TABLE ${staged} AS\n${select}`,
      `CREATE TABLE IF NOT EXISTS ${table} AS SELECT * FROM ${staged} WHERE false`,
      `DELETE FROM ${table} WHERE date IN ${this.dateList(dates)}`,
      `INSERT INTO ${table} BY NAME SELECT * FROM ${staged}`,
    ];
  }

  addMissingColumns(name: string, columns: readonly { name: string; kind: ColumnKind }[]): string[] {
    // DuckDB alters one column a statement.
    return columns.map((c) => `ALTER TABLE IF EXISTS ${this.quoteIdentifier(name)} ADD COLUMN IF NOT EXISTS ${this.quoteIdentifier(c.name)} ${DUCKDB_COLUMN_TYPES[c.kind]}`);
  }
}

/** A DuckDB string literal: quotes doubled. */
export function duckdbString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * An aggregate's order (a parenthesized row of integers) as DuckDB compares it fastest and spills:
 * two BIGINTs packed into one HUGEINT, exactly and in the same order (the first times 2^64, plus the
 * second moved by 2^63 to be non-negative). A row compared as a STRUCT keeps a sort key per group
 * that DuckDB cannot spill: int_sessions ran out of a 512MB memory_limit on a 10M-event day (a
 * UHUGEINT key, which would take BIGINT's minimum first part too, is not spilled either). The parts
 * are never NULL, and the first is above BIGINT's minimum (event_ts, input_seq are). Other rows
 * stay STRUCTs.
 */
function orderKey(order: string): string {
  const inner = /^\((.*)\)$/s.exec(order.trim())?.[1];
  const parts = inner === undefined ? [] : splitArguments(inner);
  if (parts.length !== 2) return order;
  return `(CAST(${parts[0]} AS HUGEINT) * 18446744073709551616 + (CAST(${parts[1]} AS HUGEINT) + 9223372036854775808))`;
}
