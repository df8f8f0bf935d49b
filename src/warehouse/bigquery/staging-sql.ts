// The SQL of BigQuery's staging, as text only (no client): reading GA4's export in place, the
// contract's cleaning, the load into the staging tables, and the warehouse's own tables. The
// warehouse runs it; golden tests pin it; the ZetaSQL test analyzes what is sent.
import { BIGQUERY_COLUMN_TYPES } from '../../contract/column-types.js';
import { ALL_PUBLISHED_TABLES } from '../../contract/tables.js';
import { EARLIEST_DATE } from '../../util/dates.js';
import { rawReportColumns, type ReportDefinition } from '../../sources/ga4-data-api/reports.js';
import { dateLiteral } from '../sql-literals.js';
import { SqlTemplate } from '../sql-template.js';
import type { BigQueryDialect } from './bigquery-dialect.js';

const template = (name: string, options?: { stripComments?: boolean }) => SqlTemplate.read(new URL(`./sql/${name}`, import.meta.url), options);
const READ_EXPORT = template('read-export.sql', { stripComments: true });
const STAGE_EXPORT = template('stage-export.sql');
const LOAD = template('load.sql');
const SCHEMA = template('schema.sql');

/** `project.dataset` of GA4's export (`analytics_<property id>`). */
type ExportDataset = string;

/** The export's `project.dataset`, checked: it is written into SQL as a name. */
export function exportDataset(project: string, dataset: string): ExportDataset {
  const name = `${project}.${dataset}`;
  if (!/^[A-Za-z0-9.:_-]+\.[A-Za-z0-9_]+$/.test(name)) throw new Error(`not a BigQuery project.dataset: ${name}`);
  return name;
}

/** The warehouse's own tables and the published tables, created when missing (before any transaction: DDL cannot run in one). */
export function schemaSql(dialect: BigQueryDialect, staging: string): string {
  const marts = ALL_PUBLISHED_TABLES.flatMap((table) => [
    `CREATE TABLE IF NOT EXISTS ${dialect.tableName(table.name, false)} (${table.columns.map((c) => `${c.name} ${BIGQUERY_COLUMN_TYPES[c.kind]}`).join(', ')}) PARTITION BY date;`,
    // A table made by an earlier release gets the columns the contract gained since.
    ...dialect.addMissingColumns(table.name, table.columns).map((sql) => `${sql};`),
  ]);
  return [SCHEMA.fill({ staging }), ...marts].join('\n');
}

/** The names of the export's daily tables (`events_YYYYMMDD`), and with `intraday` its intraday ones, for a run of every date. */
export function listExportTablesSql(exportDataset: ExportDataset, intraday = false): string {
  return `SELECT table_name FROM \`${exportDataset}.INFORMATION_SCHEMA.TABLES\` WHERE REGEXP_CONTAINS(table_name, r'^events_${intraday ? '(intraday_)?' : ''}[0-9]{8}$') ORDER BY table_name`;
}

/** Which of the daily tables of `suffixes` (`YYYYMMDD`) exist, and with `intraday` the intraday ones: table metadata only, no event is read. */
export function exportTablesOfSql(exportDataset: ExportDataset, suffixes: readonly string[], intraday = false): string {
  if (suffixes.length === 0 || suffixes.some((s) => !/^2[0-9]{7}$/.test(s))) throw new Error(`not export table suffixes: ${suffixes.join(', ')}`);
  const names = suffixes.flatMap((s) => [`'events_${s}'`, ...(intraday ? [`'events_intraday_${s}'`] : [])]);
  return `SELECT table_name FROM \`${exportDataset}.INFORMATION_SCHEMA.TABLES\` WHERE table_name IN (${names.join(', ')}) ORDER BY table_name`;
}

/** The export tables a run reads, by suffix (`YYYYMMDD`): the daily ones, and the intraday ones of dates without a daily table. */
export interface ExportTableSuffixes {
  daily: readonly string[];
  intraday: readonly string[];
}

/**
 * The tables to read among `tableNames` (what the listing found): every daily table, and the
 * intraday table of a date only when its daily table is not there (never both for a date).
 */
export function exportTablesToRead(tableNames: readonly string[]): ExportTableSuffixes {
  const daily = tableNames.filter((t) => /^events_[0-9]{8}$/.test(t)).map((t) => t.slice('events_'.length));
  const intraday = tableNames.filter((t) => /^events_intraday_[0-9]{8}$/.test(t)).map((t) => t.slice('events_intraday_'.length)).filter((s) => !daily.includes(s));
  return { daily: daily.sort(), intraday: intraday.sort() };
}

/** The SELECT over the export's tables of `suffixes` (`YYYYMMDD`): only those days are scanned, each from its daily or its intraday table. */
export function readExportSql(exportDataset: ExportDataset, { daily, intraday }: ExportTableSuffixes): string {
  if ([...daily, ...intraday].some((s) => !/^2[0-9]{7}$/.test(s))) throw new Error(`not export table suffixes: ${[...daily, ...intraday].join(', ')}`);
  // `events_2*` (and `events_intraday_2*`) take the dates less their leading 2 as suffixes (read-export.sql).
  const less2 = (list: readonly string[]) => list.map((s) => `'${s.slice(1)}'`).join(', ');
  const reads = [
    ...(daily.length > 0 || intraday.length === 0 ? [readExportTablesSql(`\`${exportDataset}.events_2*\``, less2(daily))] : []),
    ...(intraday.length > 0 ? [readExportTablesSql(`\`${exportDataset}.events_intraday_2*\``, less2(intraday), true)] : []),
  ];
  return reads.join('\nUNION ALL\n');
}

/**
 * The SELECT over `exportTables` (the daily tables, `events_2*`, as SQL names them; or with
 * `intraday` the intraday ones) whose suffixes are `suffixes` (SQL: the dates less their leading
 * 2), as Dataform writes both.
 */
export function readExportTablesSql(exportTables: string, suffixes: string, intraday = false): string {
  return READ_EXPORT.fill({ export_tables: exportTables, suffixes, intraday: intraday ? 'TRUE' : 'FALSE' });
}

/**
 * The latest event_date accepted where the statement's own start stands for the run's start (Cleaning
 * 2): Dataform's actions are compiled once and run on a schedule.
 */
const DAY_AFTER_EXECUTION = "DATE_ADD(CURRENT_DATE('UTC'), INTERVAL 1 DAY)";

/**
 * Stages the rows `readExport` selects as the session's `_run_raw` and `_run_settled` (the cleaning).
 * `latestEventDate` (`YYYY-MM-DD`, latestEventDate in warehouse.ts) is the last event_date accepted;
 * without it, the day after the UTC date the statement runs on.
 */
export function stageExportSql(readExport: string, latestEventDate?: string): string {
  return STAGE_EXPORT.fill({
    read_export: readExport,
    earliest_event_date: dateLiteral(EARLIEST_DATE),
    latest_event_date: latestEventDate === undefined ? DAY_AFTER_EXECUTION : dateLiteral(latestEventDate),
  });
}

/** Dates of the staged rows with a readable event_date, their included events, and whether they come from intraday tables. */
export const STAGED_DATES_SQL = `
      SELECT FORMAT_DATE('%F', event_date) AS date, COUNTIF(reason IS NULL AND NOT is_duplicate AND session_id IS NOT NULL) AS included,
             LOGICAL_AND(intraday) AS intraday
      FROM _run_settled WHERE event_date IS NOT NULL GROUP BY event_date ORDER BY event_date`;

/**
 * With intraday tables read: each date from one kind of table, never both. Rows of an intraday
 * table dated a day read from its daily table, and rows of a daily table dated a day read from its
 * intraday table, are left out of the run's rows and counted per date (_run_left_out).
 */
export const LEAVE_OUT_OTHER_INPUT_SQL = `
CREATE TEMP TABLE _run_left_out AS
WITH read_days AS (SELECT DISTINCT PARSE_DATE('%Y%m%d', table_suffix) AS day, intraday FROM _run_settled)
SELECT s.event_date, COUNT(*) AS lines
FROM _run_settled AS s JOIN read_days AS r ON r.day = s.event_date AND r.intraday != s.intraday
GROUP BY s.event_date;
DELETE FROM _run_settled AS s
WHERE EXISTS (SELECT 1 FROM _run_settled AS o WHERE PARSE_DATE('%Y%m%d', o.table_suffix) = s.event_date AND o.intraday != s.intraday)`;

/** The lines left out per date (LEAVE_OUT_OTHER_INPUT_SQL). */
export const LEFT_OUT_SQL = `SELECT FORMAT_DATE('%F', event_date) AS date, lines FROM _run_left_out`;

/** Staged rows by date, reason and duplicate flag. */
export const STAGED_LINE_COUNTS_SQL = `
      SELECT FORMAT_DATE('%F', event_date) AS date, reason, is_duplicate, COUNT(*) AS lines
      FROM _run_settled GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`;

/** Each staged export table with its rows. */
export const STAGED_TABLES_SQL = `SELECT CONCAT(IF(intraday, 'events_intraday_', 'events_'), table_suffix) AS name, COUNT(*) AS lines FROM _run_settled GROUP BY 1 ORDER BY 1`;

/** Replaces `dates` in the staging tables with the run's settled rows, inside the run's transaction. */
export function loadSql(dialect: BigQueryDialect, exportDataset: ExportDataset, dates: readonly string[], runId: string): string {
  const table = (name: string) => dialect.tableName(name, false);
  return LOAD.fill({
    dates: dialect.dateList(dates),
    run_id: dialect.stringLiteral(runId),
    stg_events: table('stg_events'),
    stg_event_items: table('stg_event_items'),
    quarantined_events: table('quarantined_events'),
    quality_daily: table('quality_daily'),
    export: exportDataset,
  });
}

const RAW_TYPES = { date: 'DATE', text: 'STRING', decimal: 'NUMERIC' } as const;

/** `raw_ga4_api_<report>`: the report's rows, typed, one partition per date. */
export function rawReportTableSql(dialect: BigQueryDialect, report: ReportDefinition): string {
  const columns = rawReportColumns(report).map((c) => `${dialect.quoteIdentifier(c.name)} ${RAW_TYPES[c.kind]}`);
  return `CREATE TABLE IF NOT EXISTS ${dialect.tableName(`raw_ga4_api_${report.name}`, false)} (${columns.join(', ')}) PARTITION BY date`;
}

export interface ApiLoadSql {
  property: string;
  report: ReportDefinition;
  date: string;
  runId: string;
  final: boolean;
  rowCount: number;
  tokens: number;
  quality: unknown;
  fetchedAt: Date;
}

/**
 * Replaces `date` in `raw_ga4_api_<report>` with the rows of the pages this run loaded (dimension
 * values as text; metrics as NUMERIC, NULL where GA4 sent something else), and records the fetch.
 */
export function loadApiPagesSql(dialect: BigQueryDialect, load: ApiLoadSql): string[] {
  const raw = dialect.tableName(`raw_ga4_api_${load.report.name}`, false);
  const fetches = dialect.tableName('ga4_api_fetches', false);
  const date = dialect.dateLiteral(load.date);
  const columns = rawReportColumns(load.report);
  const values = columns.map((column) => {
    if (!column.from) return column.name === 'date' ? date : dialect.stringLiteral(load.runId);
    if ('dimensionValues' in column.from) return `JSON_VALUE(r, '$.dimensionValues[${column.from.dimensionValues}].value')`;
    // Metrics arrive as text; anything that is not a number is NULL, as DuckDB's TRY_CAST makes it.
    return `SAFE_CAST(JSON_VALUE(r, '$.metricValues[${column.from.metricValues}].value') AS NUMERIC)`;
  });
  const literal = (text: string) => dialect.stringLiteral(text);
  return [
    `DELETE FROM ${raw} WHERE date = ${date}`,
    `INSERT INTO ${raw} (${columns.map((c) => dialect.quoteIdentifier(c.name)).join(', ')})
SELECT ${values.join(', ')}
FROM ${dialect.tableName('ga4_api_pages', false)} AS p, UNNEST(JSON_QUERY_ARRAY(p.response, '$.rows')) AS r
WHERE p.date = ${date} AND p.run_id = ${literal(load.runId)} AND p.property = ${literal(load.property)} AND p.report = ${literal(load.report.name)}`,
    `DELETE FROM ${fetches} WHERE property = ${literal(load.property)} AND report = ${literal(load.report.name)} AND date = ${date}`,
    `INSERT INTO ${fetches} VALUES (${literal(load.property)}, ${literal(load.report.name)}, ${date}, ${literal(load.runId)}, ${dialect.timestampLiteral(load.fetchedAt)}, ${load.final}, ${load.rowCount}, ${load.tokens}, ${literal(JSON.stringify(load.quality))})`,
  ];
}

/** Dates of `property` whose every report was fetched when already final. */
export function finalApiDatesSql(dialect: BigQueryDialect, property: string, reports: readonly string[]): string {
  return `SELECT FORMAT_DATE('%F', date) AS date FROM ${dialect.tableName('ga4_api_fetches', false)}
WHERE property = ${dialect.stringLiteral(property)} AND final AND report IN (${reports.map((r) => dialect.stringLiteral(r)).join(', ')})
GROUP BY date HAVING COUNT(DISTINCT report) = ${reports.length}`;
}
