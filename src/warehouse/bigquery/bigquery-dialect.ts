import { BIGQUERY_COLUMN_TYPES } from '../../contract/column-types.js';
import { MARTS_TABLE_NAMES, type ColumnKind } from '../../contract/tables.js';
import type { Dialect, MaterializationDialect } from '../dialect.js';
import { dateList, dateLiteral, timestampLiteral } from '../sql-literals.js';

/** Where the warehouse's tables live: published tables in the marts dataset, the rest in staging. */
export interface BigQueryDatasets {
  /** `project.dataset` of the staged events, quarantine, quality and run state. */
  staging: string;
  /** `project.dataset` of the published tables (what BI readers may see). */
  marts: string;
  /** The published tables' names (default: every table cartlens publishes). */
  published?: readonly string[];
}

/**
 * BigQuery's GoogleSQL. Run-scoped tables are temporary tables of the run's BigQuery session, in
 * which the date replacements run as one multi-statement transaction. The HMAC key pads are the
 * query parameters @cartlens_user_key_ipad and @cartlens_user_key_opad (BYTES), never SQL text.
 */
export class BigQueryDialect implements Dialect, MaterializationDialect {
  readonly name = 'bigquery';

  constructor(private readonly datasets: BigQueryDatasets) {
    for (const dataset of [datasets.staging, datasets.marts]) {
      if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_]+$/.test(dataset)) throw new Error(`not a project.dataset: ${dataset}`);
    }
  }

  quoteIdentifier(name: string): string {
    return `\`${name.replaceAll('`', '\\`')}\``;
  }

  // Standard SQL date and timestamp literals: the same text in both dialects.
  readonly dateLiteral = dateLiteral;
  readonly dateList = dateList;
  readonly timestampLiteral = timestampLiteral;

  stringLiteral(text: string): string {
    // GoogleSQL escapes with backslashes; a doubled quote is not an escape there.
    return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'").replaceAll('\n', '\\n').replaceAll('\r', '\\r')}'`;
  }

  money(expression: string): string {
    // ROUND on NUMERIC rounds half away from zero, exactly.
    return `ROUND(CAST(${expression} AS NUMERIC), 2)`;
  }

  rate(numerator: string, denominator: string): string {
    // floor((2·n·10⁴ + d) / 2d) / 10⁴: n/d rounded half up, exact for n, d ≥ 0 (as DuckDB's).
    const n = `CAST(${numerator} AS NUMERIC)`;
    const d = `CAST(${denominator} AS NUMERIC)`;
    return `IF(${d} = 0, NULL, DIV(${n} * 20000 + ${d}, 2 * ${d}) / 10000)`;
  }

  userKey(expression: string): string {
    return `TO_HEX(SHA256(CONCAT(@cartlens_user_key_opad, SHA256(CONCAT(@cartlens_user_key_ipad, CAST(${expression} AS BYTES))))))`;
  }

  timestampMillis(micros: string): string {
    return `TIMESTAMP_MILLIS(DIV(${micros}, 1000))`;
  }

  hoursBetween(fromMicros: string, toMicros: string): string {
    // As DuckDB's: hundredths of an hour rounded half up, exact in NUMERIC (Δ > 0).
    const micros = `(CAST(${toMicros} AS NUMERIC) - CAST(${fromMicros} AS NUMERIC))`;
    return `DIV(${micros} * 2 + 36000000, 72000000) / 100`;
  }

  median(expression: string): string {
    // Exact, as DuckDB's median(): the mean of the two middle values of an even count (the middle
    // one of an odd count; both offsets are then the same), never APPROX_QUANTILES' approximation.
    const sorted = `ARRAY_AGG(${expression} IGNORE NULLS ORDER BY ${expression})`;
    const count = `COUNT(${expression})`;
    return `(${sorted}[SAFE_OFFSET(DIV(${count} - 1, 2))] + ${sorted}[SAFE_OFFSET(DIV(${count}, 2))]) / 2`;
  }

  addDays(dateExpression: string, days: number): string {
    return `DATE_ADD(${dateExpression}, INTERVAL ${Math.trunc(days)} DAY)`;
  }

  firstBy(expression: string, order: string): string {
    // A STRUCT keeps a NULL value in the array (ARRAY_AGG refuses bare NULLs).
    return `ARRAY_AGG(STRUCT(${expression} AS value) ORDER BY ${unwrap(order)} LIMIT 1)[OFFSET(0)].value`;
  }

  lastNonNullBy(expression: string, order: string): string {
    const descending = unwrap(order)
      .split(',')
      .map((key) => `${key.trim()} DESC`)
      .join(', ');
    return `ARRAY_AGG(${expression} IGNORE NULLS ORDER BY ${descending} LIMIT 1)[SAFE_OFFSET(0)]`;
  }

  csvText(kind: ColumnKind, expression: string): string {
    switch (kind) {
      case 'timestamp':
        return `FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%E3SZ', ${expression}, 'UTC')`;
      // NUMERIC prints without trailing zeros: write the scaled integer with its decimals.
      case 'money':
      case 'hours':
        return fixedDecimals(expression, 2);
      case 'rate':
        return fixedDecimals(expression, 4);
      default:
        return `CAST(${expression} AS STRING)`;
    }
  }

  tableName(name: string, temporary: boolean): string {
    if (temporary) return this.quoteIdentifier(name);
    const dataset = (this.datasets.published ?? MARTS_TABLE_NAMES).includes(name) ? this.datasets.marts : this.datasets.staging;
    return this.quoteIdentifier(`${dataset}.${name}`);
  }

  addMissingColumns(name: string, columns: readonly { name: string; kind: ColumnKind }[]): string[] {
    return [`ALTER TABLE IF EXISTS ${this.tableName(name, false)} ${columns.map((c) => `ADD COLUMN IF NOT EXISTS ${c.name} ${BIGQUERY_COLUMN_TYPES[c.kind]}`).join(', ')}`];
  }

  createTempTable(name: string, select: string): string[] {
    return [`CREATE TEMP TABLE ${this.tableName(name, true)} AS\n${select}`];
  }

  replaceDates(name: string, select: string, dates: readonly string[]): string[] {
    const table = this.tableName(name, false);
    const staged = this.tableName(`_new_${name}`, true);
    return [
      `CREATE TEMP TABLE ${staged} AS\n${select}`,
      // DDL cannot run inside a transaction: prepareSchema creates the table before the run's.
      `DELETE FROM ${table} WHERE date IN ${this.dateList(dates)}`,
      `INSERT INTO ${table} SELECT * FROM ${staged}`,
    ];
  }
}

function unwrap(order: string): string {
  const trimmed = order.trim();
  return trimmed.startsWith('(') && trimmed.endsWith(')') ? trimmed.slice(1, -1) : trimmed;
}

function fixedDecimals(expression: string, places: number): string {
  const scaled = `CAST(ROUND(${expression} * ${10 ** places}) AS BIGNUMERIC)`;
  return `IF(${expression} IS NULL, NULL, FORMAT('%s%s.%s', IF(${scaled} < 0, '-', ''), CAST(DIV(ABS(${scaled}), ${10 ** places}) AS STRING), LPAD(CAST(MOD(ABS(${scaled}), ${10 ** places}) AS STRING), ${places}, '0')))`;
}
