// The SQL of DuckDB's own tables, as text only (no connection): the warehouse's tables, the load of
// the run's settled lines, what it reads back about the staged input, and the GA4 Data API's raw
// report tables. The warehouse runs it; golden tests pin it.
import { ALL_PUBLISHED_TABLES } from '../../contract/tables.js';
import type { ApiPagesLoad } from '../warehouse.js';
import { SqlTemplate } from '../sql-template.js';
import type { DuckDbDialect } from './duckdb-dialect.js';

const template = (name: string) => SqlTemplate.read(new URL(`./${name}`, import.meta.url));
const SCHEMA = template('schema.sql').fill({});
const LOAD = template('load.sql');

/** The warehouse's own tables, created when missing; published tables made by an earlier release get the columns the contract gained since. */
export function schemaSql(dialect: DuckDbDialect): string[] {
  return [SCHEMA, ALL_PUBLISHED_TABLES.flatMap((t) => dialect.addMissingColumns(t.name, t.columns)).join(';\n')];
}

/** Replaces `dates` in the staging tables with the run's settled lines (load.sql), inside the run's transaction. */
export function loadSql(dialect: DuckDbDialect, dates: readonly string[], runId: string): string {
  return LOAD.fill({
    dates: dialect.dateList(dates),
    date_array: `[${dates.map((d) => dialect.dateLiteral(d)).join(', ')}]::DATE[]`,
    run_id: dialect.stringLiteral(runId),
  });
}

/** Dates of the staged lines with a readable event_date, and their included events. */
export const STAGED_DATES_SQL = `
      WITH left_out AS (SELECT event_date, sum(lines)::BIGINT AS lines FROM _run_left_out GROUP BY event_date)
      SELECT strftime(s.event_date, '%Y-%m-%d') AS date, count(*) FILTER (WHERE s.reason IS NULL AND NOT s.is_duplicate AND s.has_session)::BIGINT AS included,
             bool_and(f.intraday) AS intraday, coalesce(any_value(o.lines), 0)::BIGINT AS left_out
      FROM _run_settled AS s JOIN _run_files AS f USING (file_idx) LEFT JOIN left_out AS o ON o.event_date = s.event_date
      WHERE s.event_date IS NOT NULL GROUP BY s.event_date ORDER BY s.event_date`;

/** Staged lines by date, reason and duplicate flag. */
export const STAGED_LINE_COUNTS_SQL = `
      SELECT strftime(event_date, '%Y-%m-%d') AS date, reason, is_duplicate, count(*)::BIGINT AS lines
      FROM _run_settled GROUP BY ALL ORDER BY ALL`;

/** Staged lines with a date per file and date (first copies only). */
export const STAGED_LINES_BY_FILE_SQL = `
      SELECT f.source_file, f.landed_sha256, strftime(s.event_date, '%Y-%m-%d') AS date, count(*)::BIGINT AS lines
      FROM _run_settled AS s JOIN _run_files AS f USING (file_idx)
      WHERE s.event_date IS NOT NULL AND NOT s.is_duplicate GROUP BY ALL ORDER BY ALL`;

/** Each staged file with its physical and blank lines, in input order. */
export const STAGED_FILES_SQL = `SELECT source_file, lines, blank_lines FROM _run_files ORDER BY file_idx`;

/** The HMAC key pads of `user_key` as session variables (dialect.userKey reads them); hex text only. */
export function setUserKeyPadsSql(ipadHex: string, opadHex: string): string {
  if (!/^[0-9a-f]+$/.test(ipadHex) || !/^[0-9a-f]+$/.test(opadHex)) throw new Error('user key pads must be hex');
  return `SET VARIABLE cartlens_user_key_ipad = unhex('${ipadHex}'); SET VARIABLE cartlens_user_key_opad = unhex('${opadHex}');`;
}

/**
 * Replaces `date` in `raw_ga4_api_<report>` with the rows of the landed page files (one column per
 * dimension and metric, snake_case; metrics as exact decimals), and records the fetch.
 */
export function loadApiPagesSql(dialect: DuckDbDialect, load: ApiPagesLoad): string {
  const literal = (text: string) => dialect.stringLiteral(text);
  const date = dialect.dateLiteral(load.date);
  const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const dimensions = load.report.dimensions.map((name, i) => ({ name, i })).filter((d) => d.name !== 'date');
  const columns = [
    `${date} AS date`,
    ...dimensions.map((d) => `r.dimensionValues[${d.i + 1}].value AS ${dialect.quoteIdentifier(snake(d.name))}`),
    // DuckDB's cast reads `1_000` as 1000, BigQuery's NUMERIC as no number: NULL on both.
    ...load.report.metrics.map((name, i) => `TRY_CAST(CASE WHEN NOT contains(r.metricValues[${i + 1}].value, '_') THEN r.metricValues[${i + 1}].value END AS DECIMAL(38,9)) AS ${dialect.quoteIdentifier(snake(name))}`),
    `${literal(load.runId)} AS run_id`,
  ];
  const table = dialect.quoteIdentifier(`raw_ga4_api_${load.report.name}`);
  const pages = load.pageFiles.length === 0 ? `(SELECT NULL::STRUCT(dimensionValues STRUCT(value VARCHAR)[], metricValues STRUCT(value VARCHAR)[]) AS r WHERE false)` : `(SELECT unnest(response.rows) AS r FROM read_json([${load.pageFiles.map(literal).join(', ')}], columns = {response: 'STRUCT(rows STRUCT(dimensionValues STRUCT(value VARCHAR)[], metricValues STRUCT(value VARCHAR)[])[])'}))`;
  const select = `SELECT ${columns.join(', ')} FROM ${pages}`;
  return `
      CREATE TABLE IF NOT EXISTS ${table} AS ${select} WHERE false;
      DELETE FROM ${table} WHERE date = ${date};
      INSERT INTO ${table} BY NAME ${select};
      CREATE TABLE IF NOT EXISTS ga4_api_fetches (
        property VARCHAR NOT NULL, report VARCHAR NOT NULL, date DATE NOT NULL, run_id VARCHAR NOT NULL,
        fetched_at TIMESTAMP NOT NULL, final BOOLEAN NOT NULL, row_count BIGINT NOT NULL, tokens BIGINT NOT NULL, quality JSON);
      DELETE FROM ga4_api_fetches WHERE property = ${literal(load.property)} AND report = ${literal(load.report.name)} AND date = ${date};
      INSERT INTO ga4_api_fetches VALUES (${literal(load.property)}, ${literal(load.report.name)}, ${date},
        ${literal(load.runId)}, now()::TIMESTAMP, ${load.final}, ${load.rowCount}, ${load.tokens}, ${literal(JSON.stringify(load.quality))});`;
}

/** Whether ga4_api_fetches exists (`n`: 0 or 1): DuckDB makes it with the first fetch. */
export const API_FETCHES_EXIST_SQL = `SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE table_name = 'ga4_api_fetches'`;

/** Dates of `property` whose every report was fetched when already final. */
export function finalApiDatesSql(dialect: DuckDbDialect, property: string, reports: readonly string[]): string {
  return `
      SELECT strftime(date, '%Y-%m-%d') AS date FROM ga4_api_fetches
      WHERE property = ${dialect.stringLiteral(property)} AND final AND report IN (${reports.map((r) => dialect.stringLiteral(r)).join(', ')})
      GROUP BY date HAVING count(DISTINCT report) = ${reports.length}`;
}
