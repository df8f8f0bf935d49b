import type { ColumnKind } from '../contract/tables.js';

/**
 * What differs between warehouses, as SQL text only: a dialect imports no database library
 * (Malloy's split), so the SQL of every model can be compiled and tested without a warehouse.
 * Model files call these through `{{ macro(...) }}` (see src/models/template.ts).
 */
export interface Dialect {
  readonly name: string;
  quoteIdentifier(name: string): string;
  dateLiteral(isoDate: string): string;
  /** An instant as a TIMESTAMP literal (UTC, milliseconds), e.g. a run's start written into its tables. */
  timestampLiteral(instant: Date): string;
  /** A string literal: any text, quoted and escaped as the dialect reads it. */
  stringLiteral(text: string): string;
  /** `(DATE '…', …)`, for `IN`. */
  dateList(isoDates: readonly string[]): string;
  /** Money rounded half away from zero to 2 decimals, as an exact decimal. */
  money(expression: string): string;
  /** `numerator / denominator` rounded half away from zero to 4 decimals; NULL when the denominator is 0. Both are non-negative integers. */
  rate(numerator: string, denominator: string): string;
  /** Lowercase hex HMAC-SHA256 of a string with the configured key; the key travels as session state, never in SQL text. */
  userKey(expression: string): string;
  /** Microseconds since the epoch → TIMESTAMP truncated to milliseconds. */
  timestampMillis(micros: string): string;
  /** Hours from one microsecond timestamp to a later one, rounded to 2 decimals half away from zero, exactly (cart_recoveries.hours_to_recovery). */
  hoursBetween(fromMicros: string, toMicros: string): string;

  /** Aggregate: the exact median of `expression` (NULLs left out; the mean of the two middle values of an even count). */
  median(expression: string): string;
  /** A DATE expression moved by a number of days. */
  addDays(dateExpression: string, days: number): string;
  /** Aggregate: `expression` on the row that sorts first by `order` (a parenthesized row), NULL included. */
  firstBy(expression: string, order: string): string;
  /** Aggregate: the last non-NULL `expression` by `order` (a parenthesized row). */
  lastNonNullBy(expression: string, order: string): string;
  /**
   * A published column's value as the CSV files write it: dates `YYYY-MM-DD`, money with exactly
   * 2 decimals, rates with 4, booleans `true`/`false`, timestamps ISO-8601 UTC with milliseconds
   * and `Z`; NULL stays NULL.
   */
  csvText(kind: ColumnKind, expression: string): string;
}

/** Statements that materialize a model, as text (so `cartlens compile` can print them). */
export interface MaterializationDialect {
  /** How SQL names a model's table: run-scoped (temporary) or in the warehouse's dataset. */
  tableName(name: string, temporary: boolean): string;
  /** A run-scoped table, rebuilt whole. */
  createTempTable(name: string, select: string): string[];
  /** A date-partitioned table whose run dates are replaced by the select's rows. */
  replaceDates(name: string, select: string, dates: readonly string[]): string[];
  /**
   * Adds to an existing published table the columns the contract has gained since it was made
   * (appended, as the contract appends them); a table not made yet is left alone.
   */
  addMissingColumns(name: string, columns: readonly { name: string; kind: ColumnKind }[]): string[];
}
