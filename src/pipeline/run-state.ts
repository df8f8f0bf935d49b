import type { Warehouse } from '../warehouse/warehouse.js';
import { readRunStateSql, recordDaySql, type RunStateRow } from '../warehouse/state-sql.js';
import type { DayStatus } from './due-dates.js';
import type { RunStateKeys } from '../sources/source.js';

/** A day's run state: its row of run_state, with the status typed. */
export type DayState = Omit<RunStateRow, 'status'> & { status: DayStatus };

/** Replaces the state of each given day of its source (`day.source`, its identity), moving a legacy row of that day to it. */
export async function recordDays(warehouse: Warehouse, days: DayState[], legacy?: string): Promise<void> {
  for (const day of days) {
    for (const sql of recordDaySql(warehouse.dialect, day, legacy === undefined ? [] : [legacy])) await warehouse.execute(sql);
  }
}

/**
 * Every recorded day of a source, oldest first: the rows under its identity, and for days that
 * have none, those under its legacy key (so upgrading keeps `status`, `--due` and backfill's skips).
 */
export async function readDays(warehouse: Warehouse, keys: RunStateKeys): Promise<DayState[]> {
  const wanted = [keys.identity, ...(keys.legacy !== undefined && keys.legacy !== keys.identity ? [keys.legacy] : [])];
  const rows = await warehouse.query(readRunStateSql(warehouse.dialect, wanted));
  const days = rows.map((r) => ({
    source: String(r.source),
    date: String(r.date).slice(0, 10),
    status: String(r.status) as DayStatus,
    run_id: String(r.run_id),
    started_at: String(r.started_at),
    finished_at: String(r.finished_at),
    input_fingerprint: r.input_fingerprint === null ? null : String(r.input_fingerprint),
    rows: JSON.parse(String(r.rows_json ?? '{}')) as Record<string, number>,
    final: r.final === true,
    last_error: r.last_error === null ? null : String(r.last_error),
    // Rows from before intraday have none: they were daily.
    input: r.input === 'intraday' ? ('intraday' as const) : ('daily' as const),
  }));
  const current = new Set(days.filter((d) => d.source === keys.identity).map((d) => d.date));
  return days.filter((d) => d.source === keys.identity || !current.has(d.date));
}
