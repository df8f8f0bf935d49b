import type { Warehouse } from '../warehouse/warehouse.js';
import { readsLandedFiles, type StagedLineCount } from '../warehouse/warehouse.js';
import {
  clearLateLinesSql,
  headlineSql,
  lateLinesSql,
  publishedDatesSql,
  publishedSessionsSql,
  readInputsSql,
  recordLateLinesSql,
  recordPublishedSessionsSql,
  recordReadInputsSql,
  stagedLinesOfDatesSql,
} from '../warehouse/state-sql.js';
import type { AssertionFailure, SetAsideDate } from './report.js';
import type { DayState } from './run-state.js';

/**
 * Guards on dates already published (docs/operations.md, "Published dates are guarded"):
 * - a run that names no dates never recomputes a final date that was published: lines that later
 *   input brings for it are set aside as `late_for_final_date`, counted, and wait for `--date`;
 * - a republish that would lower a date's sessions by more than `guards.max_shrink_share` of what
 *   was published is withheld as a blocking failure, unless the run says `--accept-shrink`.
 */

/** The reason lines of a final, published date are set aside by a run that did not name it. */
export const LATE_FOR_FINAL_DATE = 'late_for_final_date';

/** The blocking check that withholds a republish that would shrink a date. */
export const SESSIONS_SHRINK = 'sessions_shrink';


/** What a source's published dates are measured by: the daily sum of a published table's column. */
export interface Headline {
  table: string;
  column: string;
}

/** Dates of a source that were ever published: a row in published_sessions, or (recorded before it existed) a published state. */
export async function publishedDates(warehouse: Warehouse, source: string, recorded: readonly DayState[]): Promise<Set<string>> {
  const rows = await warehouse.query(publishedDatesSql(warehouse.dialect, source));
  return new Set([...rows.map((r) => String(r.date)), ...recorded.filter((d) => d.status === 'complete' || d.status === 'provisional').map((d) => d.date)]);
}

/**
 * Dates a run committed but did not finish publishing (killed after its commit): their state is
 * still the `publishing` the run's transaction wrote (run.ts). Their files may be a partial set,
 * so they are redone like a date never published, whatever the guards above say. No clock is
 * compared: runs on machines whose clocks disagree cannot confuse it.
 */
export function unfinishedDates(recorded: readonly DayState[]): Set<string> {
  return new Set(recorded.filter((d) => d.status === 'publishing').map((d) => d.date));
}

/**
 * Finds and records the lines this run brought for `closed` dates (final, published, not
 * recomputed). Files: the lines of files no earlier run has read (by SHA-256) — the files that
 * published those dates are read again every day and bring nothing new. Export tables, which have
 * no files: the lines beyond those the date was published with. Every file the run read is then
 * known. Returns the set-aside dates, oldest first.
 */
export async function setAsideLateLines(warehouse: Warehouse, source: string, closed: ReadonlySet<string>, runId: string, lineCounts: readonly StagedLineCount[]): Promise<SetAsideDate[]> {
  const { dialect } = warehouse;
  const found = new Map<string, { lines: number; inputs: { name: string; sha256: string | null; lines: number }[] }>();
  const add = (date: string, input: { name: string; sha256: string | null; lines: number }) => {
    const entry = found.get(date) ?? { lines: 0, inputs: [] };
    entry.lines += input.lines;
    entry.inputs.push(input);
    found.set(date, entry);
  };
  if (readsLandedFiles(warehouse)) {
    const byFile = await warehouse.stagedLinesByFile();
    const known = new Set((await warehouse.query(readInputsSql(dialect, source))).map((r) => String(r.sha256)));
    // A warehouse from before inputs were recorded knows none: its first run takes them all as read.
    if (known.size > 0) for (const f of byFile) if (closed.has(f.date) && !known.has(f.sha256)) add(f.date, { name: f.sourceFile, sha256: f.sha256, lines: f.lines });
    const fresh = [...new Set(byFile.map((f) => f.sha256))].filter((sha) => !known.has(sha));
    if (fresh.length > 0) await warehouse.execute(recordReadInputsSql(dialect, source, fresh, runId));
  } else if (closed.size > 0) {
    const dates = [...closed];
    const now = new Map<string, number>();
    for (const c of lineCounts) if (c.date !== null && closed.has(c.date)) now.set(c.date, (now.get(c.date) ?? 0) + c.lines);
    const published = await warehouse.query(stagedLinesOfDatesSql(dialect, dates));
    for (const row of published) {
      const more = (now.get(String(row.date)) ?? 0) - Number(row.lines);
      if (more > 0) add(String(row.date), { name: `events_${String(row.date).replaceAll('-', '')}`, sha256: null, lines: more });
    }
  }
  if (found.size === 0) return [];
  const dates = [...found.keys()].sort();
  // Export tables are counted afresh each run: their earlier count is replaced, never added to.
  if (!readsLandedFiles(warehouse)) await warehouse.execute(clearLateLinesSql(dialect, source, dates));
  await warehouse.execute(recordLateLinesSql(dialect, source, runId, dates.flatMap((date) => found.get(date)!.inputs.map((i) => ({ date, ...i })))));
  return dates.map((date): SetAsideDate => ({ date, reason: LATE_FOR_FINAL_DATE, lines: found.get(date)!.lines, inputs: found.get(date)!.inputs.map((i) => i.name) }));
}

/** Late lines waiting per date of a source (until the date is recomputed), for `status`. */
export async function lateLinesWaiting(warehouse: Warehouse, source: string): Promise<Map<string, { lines: number; inputs: string[] }>> {
  const rows = await warehouse.query(lateLinesSql(warehouse.dialect, source));
  const waiting = new Map<string, { lines: number; inputs: string[] }>();
  for (const row of rows) {
    const entry = waiting.get(String(row.date)) ?? { lines: 0, inputs: [] };
    entry.lines += Number(row.lines);
    if (!entry.inputs.includes(String(row.source_file))) entry.inputs.push(String(row.source_file));
    waiting.set(String(row.date), entry);
  }
  return waiting;
}

/** Inside the run's transaction: the recomputed dates' late lines are no longer waiting. */
export async function clearLateLines(warehouse: Warehouse, source: string, dates: readonly string[]): Promise<void> {
  await warehouse.execute(clearLateLinesSql(warehouse.dialect, source, dates));
}

/** The headline per date (the daily sum of its column), as the published table now holds it. */
export async function headlineOf(warehouse: Warehouse, headline: Headline, dates: readonly string[]): Promise<Map<string, number>> {
  const rows = await warehouse.query(headlineSql(warehouse.dialect, headline, dates));
  return new Map(rows.map((r) => [String(r.date), Number(r.value)]));
}

/** The sessions each date was last published with, per source. */
export async function publishedSessions(warehouse: Warehouse, source: string, dates: readonly string[]): Promise<Map<string, number>> {
  const rows = await warehouse.query(publishedSessionsSql(warehouse.dialect, source, dates));
  return new Map(rows.map((r) => [String(r.date), Number(r.sessions)]));
}

/** After a date's files are published: the sessions it was published with. */
export async function recordPublishedSessions(warehouse: Warehouse, source: string, date: string, runId: string, sessions: number): Promise<void> {
  for (const sql of recordPublishedSessionsSql(warehouse.dialect, source, date, runId, sessions)) await warehouse.execute(sql);
}

/**
 * The dates whose new headline falls by more than `maxShare` of what was published (a date now
 * without rows counts as 0), as blocking failures. Dates never published are not compared.
 */
export function shrinkFailures(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>, maxShare: number, headline: Headline): Map<string, AssertionFailure> {
  const failures = new Map<string, AssertionFailure>();
  for (const [date, published] of before) {
    const now = after.get(date) ?? 0;
    if (published <= 0 || now >= published * (1 - maxShare)) continue;
    const change = `${(((now - published) / published) * 100).toFixed(1)}%`;
    failures.set(date, {
      assertion: SESSIONS_SHRINK,
      model: headline.table,
      severity: 'error',
      blocking: true,
      failing_rows: 1,
      sample: [{ date, published_sessions: published, sessions: now, change, max_shrink_share: maxShare }],
    });
  }
  return failures;
}

/** One line for a withheld shrink: what it was, what it would be, and how to accept it. */
export function describeShrink(failure: AssertionFailure): string {
  const sample = failure.sample[0] as { published_sessions: number; sessions: number; change: string; max_shrink_share: number };
  return `${failure.model}.sessions would fall from ${sample.published_sessions} to ${sample.sessions} (${sample.change}), more than guards.max_shrink_share (${sample.max_shrink_share}): withheld; if the input is complete, run again with --accept-shrink`;
}
