import type { PublishedColumn, PublishedTable } from '../contract/tables.js';
import { datesWithRowsSql, lastRestatingRunsSql, publishedRowsTextSql, publishedRunsSql, recordRestatementsSql, restatementsSql, rowChangesSql, snapshotPublishedSql, type RestatementRow } from '../warehouse/state-sql.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import type { Restatement } from './report.js';
import type { DayState } from './run-state.js';

/**
 * The restatement log (issue 23, docs/decisions.md "The restatement log"): when a run republishes
 * a date whose files were published before, what changed. Inside the run's transaction the
 * published tables' rows of those dates are copied to run-scoped tables before the models replace
 * them; at the commit they are compared with what the models left, as the CSV writes each value,
 * and the differences go to the warehouse table `restatements` with the run and the one before.
 * A shrink that undoes the transaction undoes them too; the attempt that commits records its own.
 */

/** A published table and the dates of it the run compares (published before, recomputed now). */
export interface RestatementScope {
  table: PublishedTable;
  dates: string[];
}

/** A table of one row per date (cart_funnel_daily): compared metric by metric; the others row by row. */
const isDaily = (table: PublishedTable) => table.key.length === 1 && table.key[0] === 'date';

/** The money and count measures whose daily sums a row-by-row comparison reports. */
const summed = (table: PublishedTable): PublishedColumn[] => table.columns.filter((c) => c.metric?.additive === true && (c.kind === 'money' || c.kind === 'integer'));

/**
 * The published tables the warehouse has: one a later release added (or a switch turned on) is
 * made by its model's first run, and has nothing published to compare. Outside the transaction.
 */
export async function existingTables(warehouse: Warehouse, tables: readonly PublishedTable[], date: string): Promise<PublishedTable[]> {
  const found: PublishedTable[] = [];
  for (const table of tables) {
    try {
      await warehouse.query(datesWithRowsSql(warehouse.dialect, table.name, [date]));
      found.push(table);
    } catch (error) {
      if (!/does not exist|not found/i.test(String((error as Error)?.message ?? error))) throw error;
    }
  }
  return found;
}

/** Per table: the dates among `dates` (and, for the tables of models that reach other dates, `reached`) published before. */
export function restatementScope(tables: readonly PublishedTable[], published: ReadonlySet<string>, dates: readonly string[], reached: readonly string[], reaching: ReadonlySet<string>): RestatementScope[] {
  return tables
    .map((table) => ({ table, dates: [...new Set([...dates, ...(reaching.has(table.name) ? reached : [])])].filter((d) => published.has(d)).sort() }))
    .filter((s) => s.dates.length > 0);
}

/** Inside the transaction, before the models: the published rows of the scope's dates, copied. */
export async function snapshotPublished(warehouse: Warehouse, scope: readonly RestatementScope[]): Promise<void> {
  for (const { table, dates } of scope) for (const sql of snapshotPublishedSql(warehouse.dialect, table.name, dates)) await warehouse.execute(sql);
}

/**
 * The run that published each (date, table) before this one: the later of the run that last
 * published the date whole (published_sessions; for dates published before it was kept, their
 * recorded state) and the last run that restated that table's date (a reach republishes one file).
 */
export async function previousRuns(warehouse: Warehouse, source: string, dates: readonly string[], recorded: readonly DayState[]): Promise<(date: string, table: string) => string | null> {
  if (dates.length === 0) return () => null;
  const whole = new Map((await warehouse.query(publishedRunsSql(warehouse.dialect, source, dates))).map((r) => [String(r.date), String(r.run_id)]));
  for (const d of recorded) if (!whole.has(d.date) && (d.status === 'complete' || d.status === 'provisional')) whole.set(d.date, d.run_id);
  const restated = new Map((await warehouse.query(lastRestatingRunsSql(warehouse.dialect, dates))).map((r) => [`${String(r.date)} ${String(r.table_name)}`, String(r.run_id)]));
  return (date, table) => {
    const runs = [whole.get(date), restated.get(`${date} ${table}`)].filter((r): r is string => r !== undefined).sort();
    return runs.at(-1) ?? null;
  };
}

/** An empty cell and NULL are written alike. */
const sameCell = (a: string | null | undefined, b: string | null | undefined) => (a ?? '') === (b ?? '');
const cell = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

/** At the commit: what the models changed in the scope's dates, as the CSV writes each value. */
export async function compareRestatements(warehouse: Warehouse, scope: readonly RestatementScope[], previous: (date: string, table: string) => string | null): Promise<Restatement[]> {
  const { dialect } = warehouse;
  const found: Restatement[] = [];
  for (const { table, dates } of scope) {
    if (isDaily(table)) {
      const byDate = async (side: 'before' | 'after') => new Map((await warehouse.query(publishedRowsTextSql(dialect, table, dates, side))).map((r) => [String(r.date), r]));
      const [before, after] = [await byDate('before'), await byDate('after')];
      for (const date of dates) {
        const b = before.get(date);
        const a = after.get(date);
        if (!b && !a) continue;
        const changes = table.columns
          .filter((c) => c.name !== 'date')
          .map((c) => ({ column: c.name, before: cell(b?.[c.name]), after: cell(a?.[c.name]) }))
          .filter((c) => !b || !a || !sameCell(c.before, c.after));
        if (changes.length > 0) found.push({ date, table: table.name, previous_run_id: previous(date, table.name), changes });
      }
      continue;
    }
    const measures = summed(table);
    for (const row of await warehouse.query(rowChangesSql(dialect, table, measures, dates))) {
      const count = (name: string) => Number(row[name] ?? 0);
      if (count('rows_added') + count('rows_removed') + count('rows_changed') === 0) continue;
      const changes: Restatement['changes'] = [];
      if (count('rows_before') !== count('rows_after')) changes.push({ column: 'rows', before: String(count('rows_before')), after: String(count('rows_after')) });
      for (const name of ['rows_added', 'rows_removed', 'rows_changed']) if (count(name) > 0) changes.push({ column: name, before: '0', after: String(count(name)) });
      for (const c of measures) {
        const [b, a] = [cell(row[`before_${c.name}`]), cell(row[`after_${c.name}`])];
        if (!sameCell(b, a)) changes.push({ column: `sum(${c.name})`, before: b, after: a });
      }
      found.push({ date: String(row.date), table: table.name, previous_run_id: previous(String(row.date), table.name), changes });
    }
  }
  const order = new Map(scope.map((s, i) => [s.table.name, i]));
  return found.sort((x, y) => x.date.localeCompare(y.date) || order.get(x.table)! - order.get(y.table)!);
}

/** Records a run's restatements in the warehouse table `restatements` (inside the transaction). */
export async function recordRestatements(warehouse: Warehouse, restatements: readonly Restatement[], runId: string): Promise<void> {
  const rows: RestatementRow[] = restatements.flatMap((r) => r.changes.map((c) => ({ date: r.date, table: r.table, runId, previousRunId: r.previous_run_id, column: c.column, before: c.before, after: c.after })));
  if (rows.length > 0) await warehouse.execute(recordRestatementsSql(warehouse.dialect, rows));
}

/** A run's restatements of a date, as recorded. */
export interface RecordedRestatements {
  date: string;
  run_id: string;
  restatements: Restatement[];
}

/** Each restated date's latest restatement (the last run that changed it), oldest date first: for `status`. */
export async function latestRestatements(warehouse: Warehouse): Promise<Map<string, RecordedRestatements>> {
  const latest = new Map<string, RecordedRestatements>();
  for (const row of await warehouse.query(restatementsSql(warehouse.dialect))) {
    const date = String(row.date);
    const runId = String(row.run_id);
    let entry = latest.get(date);
    // Rows come oldest run first: a later run's replace the earlier's.
    if (!entry || entry.run_id !== runId) latest.set(date, (entry = { date, run_id: runId, restatements: [] }));
    const table = String(row.table_name);
    let restatement = entry.restatements.find((r) => r.table === table);
    if (!restatement) entry.restatements.push((restatement = { date, table, previous_run_id: cell(row.previous_run_id), changes: [] }));
    restatement.changes.push({ column: String(row.column_name), before: cell(row.before), after: cell(row.after) });
  }
  return new Map([...latest].sort(([a], [b]) => a.localeCompare(b)));
}

/** A number as the CSV writes it, with thousands separators: `3069` → `3,069`, `1234.50` → `1,234.50`. */
export function grouped(value: string | null): string {
  if (value === null || value === '') return '—';
  const match = /^(-?)(\d+)(\.\d+)?$/.exec(value);
  if (!match) return value;
  return `${match[1]}${match[2]!.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${match[3] ?? ''}`;
}

/** `+0.4%`: the change from before to after, when both are numbers and before is not 0. */
export function share(before: string | null, after: string | null): string {
  const [b, a] = [Number(before), Number(after)];
  if (before === null || after === null || before === '' || after === '' || !Number.isFinite(b) || !Number.isFinite(a) || b === 0) return '';
  const pct = ((a - b) / Math.abs(b)) * 100;
  return ` (${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%)`;
}

/**
 * One line per restated date: its headline change — the funnel's sessions, else the funnel's
 * first changed metric, else the first change of the first table — e.g.
 * `2026-11-03 revised: sessions 3,069 → 3,081 (+0.4%)`.
 */
export function restatementLines(restatements: readonly Restatement[]): string[] {
  const dates = [...new Set(restatements.map((r) => r.date))].sort();
  return dates.map((date) => {
    const ofDate = restatements.filter((r) => r.date === date);
    const funnel = ofDate.find((r) => r.table === 'cart_funnel_daily');
    const pick = funnel ? { label: '', change: funnel.changes.find((c) => c.column === 'sessions') ?? funnel.changes[0]! } : { label: `${ofDate[0]!.table} `, change: ofDate[0]!.changes[0]! };
    const { column, before, after } = pick.change;
    return `${date} revised: ${pick.label}${column} ${grouped(before)} → ${grouped(after)}${share(before, after)}`;
  });
}
