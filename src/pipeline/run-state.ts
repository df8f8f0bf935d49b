import type { Warehouse } from '../warehouse/warehouse.js';
import type { DayStatus } from './due-dates.js';

export interface DayState {
  source: string;
  date: string;
  status: DayStatus;
  run_id: string;
  started_at: string;
  finished_at: string;
  input_fingerprint: string | null;
  rows: Record<string, number>;
  final: boolean;
  last_error: string | null;
}

const timestamp = (iso: string) => `TIMESTAMP '${iso.replace('T', ' ').replace('Z', '')}'`;

/** Where a source's days are kept: its identity, and the key of rows recorded before (sources/source.ts runStateKeys). */
export interface RunStateKeys {
  identity: string;
  legacy?: string | undefined;
}

/** Replaces the state of each given day of its source (`day.source`, its identity), moving a legacy row of that day to it. */
export async function recordDays(warehouse: Warehouse, days: DayState[], legacy?: string): Promise<void> {
  const { dialect } = warehouse;
  const table = dialect.tableName('run_state', false);
  for (const day of days) {
    const keys = [day.source, ...(legacy !== undefined && legacy !== day.source ? [legacy] : [])].map((k) => dialect.stringLiteral(k)).join(', ');
    await warehouse.execute(`DELETE FROM ${table} WHERE source IN (${keys}) AND date = ${dialect.dateLiteral(day.date)}`);
    await warehouse.execute(
      `INSERT INTO ${table} VALUES (${dialect.stringLiteral(day.source)}, ${dialect.dateLiteral(day.date)}, ${dialect.stringLiteral(day.status)}, ${dialect.stringLiteral(day.run_id)}, ${timestamp(day.started_at)}, ${timestamp(day.finished_at)}, ${day.input_fingerprint === null ? 'NULL' : dialect.stringLiteral(day.input_fingerprint)}, ${dialect.stringLiteral(JSON.stringify(day.rows))}, ${day.final}, ${day.last_error === null ? 'NULL' : dialect.stringLiteral(day.last_error.slice(0, 2000))})`,
    );
  }
}

/**
 * Every recorded day of a source, oldest first: the rows under its identity, and for days that
 * have none, those under its legacy key (so upgrading keeps `status`, `--due` and backfill's skips).
 */
export async function readDays(warehouse: Warehouse, keys: RunStateKeys): Promise<DayState[]> {
  const { dialect } = warehouse;
  const wanted = [keys.identity, ...(keys.legacy !== undefined && keys.legacy !== keys.identity ? [keys.legacy] : [])];
  const rows = await warehouse.query(`SELECT * FROM ${dialect.tableName('run_state', false)} WHERE source IN (${wanted.map((k) => dialect.stringLiteral(k)).join(', ')}) ORDER BY date`);
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
  }));
  const current = new Set(days.filter((d) => d.source === keys.identity).map((d) => d.date));
  return days.filter((d) => d.source === keys.identity || !current.has(d.date));
}
