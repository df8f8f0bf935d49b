// The SQL the run reads and writes the warehouse's own tables with — run state, assertion results,
// the guards of published dates, the user key's fingerprint, retention — and the reconciliation of
// two sources, as text only: pure functions of a dialect, the same on every warehouse. The run and
// its helpers only execute them; golden tests pin them per dialect.
import type { PublishedColumn, PublishedTable } from '../contract/tables.js';
import type { Dialect, MaterializationDialect } from './dialect.js';

type SqlDialect = Dialect & MaterializationDialect;

const own = (dialect: SqlDialect, name: string) => dialect.tableName(name, false);
const textOrNull = (dialect: SqlDialect, text: string | null) => (text === null ? 'NULL' : dialect.stringLiteral(text));

/** An instant as `Date.toISOString()` writes it: read back exactly (never a local time). */
function instant(iso: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(iso)) throw new Error(`not an ISO-8601 UTC instant: ${iso}`);
  return new Date(iso);
}

// --- run_state -------------------------------------------------------------------------------

/** One day's row of run_state. `started_at`, `finished_at`: ISO-8601 UTC instants. */
export interface RunStateRow {
  source: string;
  date: string;
  status: string;
  run_id: string;
  started_at: string;
  finished_at: string;
  input_fingerprint: string | null;
  rows: Record<string, number>;
  final: boolean;
  last_error: string | null;
  /** What the date was computed from: GA4's daily export, or its intraday tables or files (source.intraday). */
  input: 'daily' | 'intraday';
}

/** Replaces a day's state under `row.source`, and under the `replaced` keys (a legacy key's row moves to it). */
export function recordDaySql(dialect: SqlDialect, row: RunStateRow, replaced: readonly string[] = []): string[] {
  const table = own(dialect, 'run_state');
  const keys = [row.source, ...replaced.filter((k) => k !== row.source)].map((k) => dialect.stringLiteral(k)).join(', ');
  return [
    `DELETE FROM ${table} WHERE source IN (${keys}) AND date = ${dialect.dateLiteral(row.date)}`,
    `INSERT INTO ${table} VALUES (${dialect.stringLiteral(row.source)}, ${dialect.dateLiteral(row.date)}, ${dialect.stringLiteral(row.status)}, ${dialect.stringLiteral(row.run_id)}, ${dialect.timestampLiteral(instant(row.started_at))}, ${dialect.timestampLiteral(instant(row.finished_at))}, ${textOrNull(dialect, row.input_fingerprint)}, ${dialect.stringLiteral(JSON.stringify(row.rows))}, ${row.final}, ${textOrNull(dialect, row.last_error === null ? null : row.last_error.slice(0, 2000))}, ${dialect.stringLiteral(row.input)})`,
  ];
}

/** Every recorded day under `keys`, oldest first. */
export function readRunStateSql(dialect: SqlDialect, keys: readonly string[]): string {
  return `SELECT * FROM ${own(dialect, 'run_state')} WHERE source IN (${keys.map((k) => dialect.stringLiteral(k)).join(', ')}) ORDER BY date`;
}

// --- quality_daily and published tables, by date ---------------------------------------------

/** The dates among `dates` that `table` (a published table) has rows for, as `YYYY-MM-DD`. */
export function datesWithRowsSql(dialect: SqlDialect, table: string, dates: readonly string[]): string {
  return `SELECT DISTINCT ${dialect.csvText('date', 'date')} AS date FROM ${own(dialect, table)} WHERE date IN ${dialect.dateList(dates)}`;
}

/** A date's row of quality_daily. */
/** Which of `dates` have staged events (cart_recoveries is recomputed only where its inputs are there). */
export function stagedEventDatesSql(dialect: SqlDialect, dates: readonly string[]): string {
  return `SELECT DISTINCT ${dialect.csvText('date', 'event_date')} AS date FROM ${own(dialect, 'stg_events')} WHERE event_date IN ${dialect.dateList(dates)}`;
}

export function qualityOfDateSql(dialect: SqlDialect, date: string): string {
  return `SELECT * FROM ${own(dialect, 'quality_daily')} WHERE date = ${dialect.dateLiteral(date)}`;
}

// --- runs ------------------------------------------------------------------------------------

/** A committed run's row of `runs`. */
export function recordRunSql(dialect: SqlDialect, run: { runId: string; startedAt: Date; committedAt: Date; dates: readonly string[]; source: string; files: number }): string {
  return `INSERT INTO ${own(dialect, 'runs')} VALUES (${dialect.stringLiteral(run.runId)}, ${dialect.timestampLiteral(run.startedAt)}, ${dialect.timestampLiteral(run.committedAt)}, ${dialect.stringLiteral(run.dates.join(','))}, ${dialect.stringLiteral(run.source)}, ${run.files})`;
}

// --- assertion_results -----------------------------------------------------------------------

/** One assertion's outcome on one date. */
export interface AssertionResultRow {
  runId: string;
  date: string;
  model: string;
  assertion: string;
  severity: string;
  blocking: boolean;
  failingRows: number;
  /** The violating rows' sample (JSON), none when it passed. */
  sample: unknown[] | null;
}

function assertionResultValues(dialect: SqlDialect, r: AssertionResultRow): string {
  return `(${dialect.stringLiteral(r.runId)}, ${dialect.dateLiteral(r.date)}, ${dialect.stringLiteral(r.model)}, ${dialect.stringLiteral(r.assertion)}, ${dialect.stringLiteral(r.severity)}, ${r.blocking}, ${r.failingRows}, ${r.sample === null ? 'NULL' : dialect.stringLiteral(JSON.stringify(r.sample))})`;
}

/** Replaces the outcomes of `dates` in assertion_results with `results`. */
export function recordAssertionResultsSql(dialect: SqlDialect, dates: readonly string[], results: readonly AssertionResultRow[]): string[] {
  const table = own(dialect, 'assertion_results');
  return [`DELETE FROM ${table} WHERE date IN ${dialect.dateList(dates)}`, ...(results.length > 0 ? [`INSERT INTO ${table} VALUES ${results.map((r) => assertionResultValues(dialect, r)).join(', ')}`] : [])];
}

// --- guards of published dates (src/pipeline/published-guards.ts) -----------------------------

/** Dates of `source` in published_sessions, as `YYYY-MM-DD`. */
export function publishedDatesSql(dialect: SqlDialect, source: string): string {
  return `SELECT DISTINCT ${dialect.csvText('date', 'date')} AS date FROM ${own(dialect, 'published_sessions')} WHERE source = ${dialect.stringLiteral(source)}`;
}

/** The SHA-256 of every input file `source` has read. */
export function readInputsSql(dialect: SqlDialect, source: string): string {
  return `SELECT sha256 FROM ${own(dialect, 'read_inputs')} WHERE source = ${dialect.stringLiteral(source)}`;
}

/** Records input files as read, by SHA-256 (at least one). */
export function recordReadInputsSql(dialect: SqlDialect, source: string, sha256s: readonly string[], runId: string): string {
  const lit = (text: string) => dialect.stringLiteral(text);
  return `INSERT INTO ${own(dialect, 'read_inputs')} VALUES ${sha256s.map((sha) => `(${lit(source)}, ${lit(sha)}, ${lit(runId)})`).join(', ')}`;
}

/** The lines each of `dates` was staged with (quality_daily), as `YYYY-MM-DD`. */
export function stagedLinesOfDatesSql(dialect: SqlDialect, dates: readonly string[]): string {
  return `SELECT ${dialect.csvText('date', 'date')} AS date, lines FROM ${own(dialect, 'quality_daily')} WHERE date IN ${dialect.dateList(dates)}`;
}

/** Removes the late lines of `dates` of `source`. */
export function clearLateLinesSql(dialect: SqlDialect, source: string, dates: readonly string[]): string {
  return `DELETE FROM ${own(dialect, 'late_lines')} WHERE source = ${dialect.stringLiteral(source)} AND date IN ${dialect.dateList(dates)}`;
}

/** Records late lines (at least one row): per date and input, how many. */
export function recordLateLinesSql(dialect: SqlDialect, source: string, runId: string, rows: readonly { date: string; name: string; sha256: string | null; lines: number }[]): string {
  const lit = (text: string) => dialect.stringLiteral(text);
  return `INSERT INTO ${own(dialect, 'late_lines')} VALUES ${rows.map((r) => `(${lit(source)}, ${dialect.dateLiteral(r.date)}, ${lit(runId)}, ${lit(r.name)}, ${textOrNull(dialect, r.sha256)}, ${r.lines})`).join(', ')}`;
}

/** The late lines waiting for `source`, by date and input. */
export function lateLinesSql(dialect: SqlDialect, source: string): string {
  return `SELECT ${dialect.csvText('date', 'date')} AS date, source_file, lines FROM ${own(dialect, 'late_lines')} WHERE source = ${dialect.stringLiteral(source)} ORDER BY date, source_file`;
}

/** The daily sum of a published table's column over `dates`. */
export function headlineSql(dialect: SqlDialect, headline: { table: string; column: string }, dates: readonly string[]): string {
  return `SELECT ${dialect.csvText('date', 'date')} AS date, SUM(${dialect.quoteIdentifier(headline.column)}) AS value FROM ${own(dialect, headline.table)} WHERE date IN ${dialect.dateList(dates)} GROUP BY date`;
}

/** The sessions each of `dates` of `source` was last published with. */
export function publishedSessionsSql(dialect: SqlDialect, source: string, dates: readonly string[]): string {
  return `SELECT ${dialect.csvText('date', 'date')} AS date, sessions FROM ${own(dialect, 'published_sessions')} WHERE source = ${dialect.stringLiteral(source)} AND date IN ${dialect.dateList(dates)}`;
}

/** Replaces the sessions a date of `source` was published with. */
export function recordPublishedSessionsSql(dialect: SqlDialect, source: string, date: string, runId: string, sessions: number): string[] {
  const table = own(dialect, 'published_sessions');
  return [
    `DELETE FROM ${table} WHERE source = ${dialect.stringLiteral(source)} AND date = ${dialect.dateLiteral(date)}`,
    `INSERT INTO ${table} VALUES (${dialect.stringLiteral(source)}, ${dialect.dateLiteral(date)}, ${dialect.stringLiteral(runId)}, ${Math.round(sessions)})`,
  ];
}

// --- user_key_fingerprint (src/pipeline/user-key.ts) ------------------------------------------

/** The recorded fingerprints of the user key. */
export function userKeyFingerprintsSql(dialect: SqlDialect): string {
  return `SELECT fingerprint FROM ${own(dialect, 'user_key_fingerprint')}`;
}

/** Records a key's fingerprint; `replaces`: the recorded ones go first (a rotation), else it is only added. */
export function recordUserKeyFingerprintSql(dialect: SqlDialect, fingerprint: string, runId: string, replaces: boolean): string[] {
  const table = own(dialect, 'user_key_fingerprint');
  return [...(replaces ? [`DELETE FROM ${table} WHERE TRUE`] : []), `INSERT INTO ${table} VALUES (${dialect.stringLiteral(fingerprint)}, ${dialect.stringLiteral(runId)})`];
}

// --- retention (src/ops/retention.ts) --------------------------------------------------------

export interface PurgeCutoffs {
  /** Loaded GA4 Data API pages (ga4_api_pages) of dates before this go; undefined: not kept in the warehouse. */
  pagesBefore?: string | undefined;
  /** Quarantined lines of dates before this go… */
  quarantinedBefore: string;
  /** …and undated ones landed by a run committed before this instant. */
  quarantinedLandedBefore: Date;
  /** Staged events and items of dates before this go. */
  stagedBefore: string;
}

/** Deletes identifiable raw data past its retention. */
export function purgeExpiredSql(dialect: SqlDialect, cutoffs: PurgeCutoffs): string[] {
  return [
    ...(cutoffs.pagesBefore === undefined ? [] : [`DELETE FROM ${own(dialect, 'ga4_api_pages')} WHERE date < ${dialect.dateLiteral(cutoffs.pagesBefore)}`]),
    // A line without a date (invalid JSON, no event_date) goes with the run that landed it: NULL < cutoff never matches.
    `DELETE FROM ${own(dialect, 'quarantined_events')} WHERE event_date < ${dialect.dateLiteral(cutoffs.quarantinedBefore)} OR (event_date IS NULL AND run_id IN (SELECT run_id FROM ${own(dialect, 'runs')} WHERE committed_at < ${dialect.timestampLiteral(cutoffs.quarantinedLandedBefore)}))`,
    ...['stg_events', 'stg_event_items'].map((table) => `DELETE FROM ${own(dialect, table)} WHERE event_date < ${dialect.dateLiteral(cutoffs.stagedBefore)}`),
    // The abandoned carts' raw user ids (cart_recoveries matches on them) live as long as the staged events.
    `DELETE FROM ${own(dialect, 'recovery_carts')} WHERE date < ${dialect.dateLiteral(cutoffs.stagedBefore)}`,
  ];
}

// --- reconciliation (src/pipeline/reconcile.ts) ----------------------------------------------

/** The additive measures of one day, from the export's published tables and from the Data API's. */
export function reconcileSql(dialect: SqlDialect, date: string): string {
  const at = dialect.dateLiteral(date);
  const table = (name: string) => own(dialect, name);
  return `
    SELECT
      (SELECT SUM(add_to_cart_units) FROM ${table('cart_items_daily')} WHERE date = ${at}) AS export_add_to_cart_units,
      (SELECT SUM(purchased_units) FROM ${table('cart_items_daily')} WHERE date = ${at}) AS export_purchased_units,
      (SELECT SUM(purchases) FROM ${table('cart_funnel_daily')} WHERE date = ${at}) AS export_purchases,
      (SELECT SUM(revenue) FROM ${table('cart_funnel_daily')} WHERE date = ${at}) AS export_revenue,
      (SELECT SUM(items_added_to_cart) FROM ${table('ga4_api_items_daily')} WHERE date = ${at}) AS api_add_to_cart_units,
      (SELECT SUM(items_purchased) FROM ${table('ga4_api_items_daily')} WHERE date = ${at}) AS api_purchased_units,
      (SELECT SUM(ecommerce_purchases) FROM ${table('ga4_api_funnel_daily')} WHERE date = ${at}) AS api_purchases,
      (SELECT SUM(purchase_revenue) FROM ${table('ga4_api_funnel_daily')} WHERE date = ${at}) AS api_revenue`;
}

// --- restatements (src/pipeline/restatements.ts) ---------------------------------------------

/** The run-scoped copy of a published table's rows of `dates` taken before the run's models replace them. */
export const beforeTableName = (table: string) => `_before_${table}`;

/** Copies the rows of `dates` of a published table into its run-scoped snapshot (inside the run's transaction, before the models). */
export function snapshotPublishedSql(dialect: SqlDialect, table: string, dates: readonly string[]): string[] {
  return dialect.createTempTable(beforeTableName(table), `SELECT * FROM ${own(dialect, table)} WHERE date IN ${dialect.dateList(dates)}`);
}

/** Where a comparison reads a published table's rows of `dates` from: the snapshot, or the table as the run left it. */
function rowsOf(dialect: SqlDialect, table: string, dates: readonly string[], side: 'before' | 'after', alias = 't'): string {
  const from = side === 'before' ? dialect.tableName(beforeTableName(table), true) : own(dialect, table);
  return `${from} AS ${alias} WHERE ${alias}.date IN ${dialect.dateList(dates)}`;
}

/** Every column of a published table's rows of `dates`, as the CSV writes it (`before`: the snapshot), in key order. */
export function publishedRowsTextSql(dialect: SqlDialect, table: PublishedTable, dates: readonly string[], side: 'before' | 'after'): string {
  const columns = table.columns.map((c) => `${dialect.csvText(c.kind, dialect.quoteIdentifier(c.name))} AS ${dialect.quoteIdentifier(c.name)}`).join(', ');
  return `SELECT ${columns} FROM ${rowsOf(dialect, table.name, dates, side)} ORDER BY ${table.key.map((k) => dialect.quoteIdentifier(k)).join(', ')}`;
}

/**
 * Per date of `dates`: the rows the run added, removed and changed (by the table's key; values
 * compared as the CSV writes them, an empty cell and NULL alike), the rows before and after, and
 * the sums of `summed` (money and integer measures) before and after, as the CSV writes them.
 */
export function rowChangesSql(dialect: SqlDialect, table: PublishedTable, summed: readonly PublishedColumn[], dates: readonly string[]): string {
  const q = (name: string) => dialect.quoteIdentifier(name);
  const text = (c: PublishedColumn, alias: string) => `COALESCE(${dialect.csvText(c.kind, `${alias}.${q(c.name)}`)}, '')`;
  const keyed = (side: 'before' | 'after') =>
    `SELECT ${table.columns.map((c) => `${text(c, 't')} AS ${q(`c_${c.name}`)}`).join(', ')}${summed.map((c) => `, t.${q(c.name)} AS ${q(`v_${c.name}`)}`).join('')}, 1 AS present FROM ${rowsOf(dialect, table.name, dates, side)}`;
  const on = table.key.map((k) => `b.${q(`c_${k}`)} = a.${q(`c_${k}`)}`).join(' AND ');
  const differs = table.columns.filter((c) => !table.key.includes(c.name)).map((c) => `b.${q(`c_${c.name}`)} <> a.${q(`c_${c.name}`)}`);
  const sums = summed.flatMap((c) => [
    `${dialect.csvText(c.kind, `COALESCE(SUM(b.${q(`v_${c.name}`)}), 0)`)} AS ${q(`before_${c.name}`)}`,
    `${dialect.csvText(c.kind, `COALESCE(SUM(a.${q(`v_${c.name}`)}), 0)`)} AS ${q(`after_${c.name}`)}`,
  ]);
  return `SELECT COALESCE(b.${q('c_date')}, a.${q('c_date')}) AS date,
  SUM(CASE WHEN b.present IS NULL THEN 1 ELSE 0 END) AS rows_added,
  SUM(CASE WHEN a.present IS NULL THEN 1 ELSE 0 END) AS rows_removed,
  SUM(CASE WHEN b.present IS NOT NULL AND a.present IS NOT NULL AND (${differs.length > 0 ? differs.join(' OR ') : 'FALSE'}) THEN 1 ELSE 0 END) AS rows_changed,
  SUM(CASE WHEN b.present IS NULL THEN 0 ELSE 1 END) AS rows_before,
  SUM(CASE WHEN a.present IS NULL THEN 0 ELSE 1 END) AS rows_after${sums.map((s) => `,\n  ${s}`).join('')}
FROM (${keyed('before')}) AS b
FULL OUTER JOIN (${keyed('after')}) AS a ON ${on}
GROUP BY 1`;
}

/** One changed value of a published table on a date, as the CSV writes it (NULL: no row, or an empty cell). */
export interface RestatementRow {
  date: string;
  table: string;
  runId: string;
  previousRunId: string | null;
  column: string;
  before: string | null;
  after: string | null;
}

/** Records restatements (at least one row). */
export function recordRestatementsSql(dialect: SqlDialect, rows: readonly RestatementRow[]): string {
  const lit = (text: string | null) => textOrNull(dialect, text);
  return `INSERT INTO ${own(dialect, 'restatements')} VALUES ${rows.map((r, i) => `(${dialect.dateLiteral(r.date)}, ${lit(r.table)}, ${lit(r.runId)}, ${lit(r.previousRunId)}, ${i}, ${lit(r.column)}, ${lit(r.before)}, ${lit(r.after)})`).join(', ')}`;
}

/** The run that last published each of `dates` of `source` (published_sessions). */
export function publishedRunsSql(dialect: SqlDialect, source: string, dates: readonly string[]): string {
  return `SELECT ${dialect.csvText('date', 'date')} AS date, run_id FROM ${own(dialect, 'published_sessions')} WHERE source = ${dialect.stringLiteral(source)} AND date IN ${dialect.dateList(dates)}`;
}

/** The last run that restated each (date, table) of `dates`. */
export function lastRestatingRunsSql(dialect: SqlDialect, dates: readonly string[]): string {
  return `SELECT ${dialect.csvText('date', 'date')} AS date, table_name, MAX(run_id) AS run_id FROM ${own(dialect, 'restatements')} WHERE date IN ${dialect.dateList(dates)} GROUP BY date, table_name`;
}

/** Every restatement row, oldest run first, in the order each run recorded them. */
export function restatementsSql(dialect: SqlDialect): string {
  return `SELECT ${dialect.csvText('date', 'date')} AS date, table_name, run_id, previous_run_id, column_name, before, after FROM ${own(dialect, 'restatements')} ORDER BY run_id, seq`;
}

/** The restatement rows of `dates` (of `table` alone, when given), oldest run first, in the order each run recorded them: report.html's revised mark, the restatement alert. */
export function restatementsOfDatesSql(dialect: SqlDialect, dates: readonly string[], table?: string): string {
  return `SELECT ${dialect.csvText('date', 'date')} AS date, table_name, run_id, previous_run_id, column_name, before, after FROM ${own(dialect, 'restatements')} WHERE date IN ${dialect.dateList(dates)}${table === undefined ? '' : ` AND table_name = ${dialect.stringLiteral(table)}`} ORDER BY date, run_id, seq`;
}
