/**
 * A revised date as report.html and the dashboard draw it (issue 23): the latest revision of each
 * date from the warehouse table `restatements`, the "revised" and "provisional (intraday)" marks
 * beside its title, and the before → after of what changed.
 */

import { publishedTable } from '../contract/tables.js';
import { escapeHtml, isBlank, type Formats, type Row } from './render.js';

/** One value a revision changed, as the CSV writes it (null: no row, or an empty cell). */
export interface RevisionChange {
  column: string;
  before: string | null;
  after: string | null;
}

/**
 * A date's latest revision (the warehouse table `restatements`, docs/decisions.md "The
 * restatement log"): the last run that changed its files, the run before it, and what changed,
 * per table in the order recorded; `count`: how many runs have revised the date.
 */
export interface Revision {
  date: string;
  run_id: string;
  /** The run before: the funnel's (else the first table's). */
  previous_run_id: string | null;
  count: number;
  tables: { table: string; previous_run_id: string | null; changes: RevisionChange[] }[];
}

const FUNNEL_TABLE = 'cart_funnel_daily';

/** Each date's latest revision, from restatement rows ordered by date, run and the order each run recorded them. */
export function latestRevisions(rows: readonly Row[]): Revision[] {
  const byDate = new Map<string, Revision & { runs: Set<string> }>();
  const text = (value: unknown) => (value === null || value === undefined ? null : String(value));
  for (const row of rows) {
    const date = String(row.date);
    const runId = String(row.run_id);
    let revision = byDate.get(date);
    if (!revision) byDate.set(date, (revision = { date, run_id: runId, previous_run_id: null, count: 0, tables: [], runs: new Set() }));
    // A later run's rows replace the earlier's.
    if (revision.run_id !== runId) Object.assign(revision, { run_id: runId, tables: [] });
    revision.runs.add(runId);
    const name = String(row.table_name);
    let table = revision.tables.find((t) => t.table === name);
    if (!table) revision.tables.push((table = { table: name, previous_run_id: text(row.previous_run_id), changes: [] }));
    table.changes.push({ column: String(row.column_name), before: text(row.before), after: text(row.after) });
  }
  return [...byDate.values()].map(({ runs, ...revision }) => {
    const leading = revision.tables.find((t) => t.table === FUNNEL_TABLE) ?? revision.tables[0];
    return { ...revision, count: runs.size, previous_run_id: leading?.previous_run_id ?? null };
  });
}

/** The funnel's changes of a revision (its metrics, before and after). */
export function funnelChanges(revision: Revision): RevisionChange[] {
  return revision.tables.find((t) => t.table === FUNNEL_TABLE)?.changes ?? [];
}

/** A funnel metric's change: counts and money in percent of before, a rate in percentage points; '' when either side is empty or before is 0. */
export function revisionDelta(change: RevisionChange, formats: Formats): string {
  const { before, after } = change;
  if (isBlank(before) || isBlank(after)) return '';
  const [b, a] = [Number(before), Number(after)];
  if (!Number.isFinite(b) || !Number.isFinite(a)) return '';
  const kind = publishedTable(FUNNEL_TABLE).columns.find((c) => c.name === change.column)?.kind;
  const sign = (x: number) => (x >= 0 ? '+' : '−');
  if (kind === 'rate') return `${sign(a - b)}${formats.pointsFormat.format(Math.abs(a - b) * 100)} p.p.`;
  if (b === 0) return '';
  return `${sign(a - b)}${formats.percentFormat.format(Math.abs((a - b) / b))}`;
}

/** `sessions 3069 → 3081 (+0.4%)`: a funnel change in one line, values as the CSV writes them. */
export function funnelChangeText(change: RevisionChange, formats: Formats): string {
  const delta = revisionDelta(change, formats);
  return `${change.column} ${change.before ?? '—'} → ${change.after ?? '—'}${delta ? ` (${delta})` : ''}`;
}

/** One line for a table compared row by row: `abandoned_carts: rows 7 → 8; rows added 2; rows removed 1; sum(units) 14 → 16`. */
export function tableChangeText(table: Revision['tables'][number], formats: Formats): string {
  const { text } = formats;
  const counts: Record<string, string> = { rows_added: text.rowsAdded, rows_removed: text.rowsRemoved, rows_changed: text.rowsChanged };
  const parts = table.changes.map((c) => (counts[c.column] ? `${counts[c.column]} ${c.after ?? '0'}` : `${c.column === 'rows' ? text.rows : c.column} ${c.before ?? '—'} → ${c.after ?? '—'}`));
  return `${table.table}: ${parts.join('; ')}`;
}

/** The run that changed a revised date and the one before it. */
export function revisionRunsText(revision: Revision, formats: Formats): string {
  const { text } = formats;
  const count = revision.count > 1 ? ` (${formats.integer(revision.count)} ${text.revisions})` : '';
  return `${text.revisedBy} ${revision.run_id}${revision.previous_run_id ? `; ${text.revisedBefore} ${revision.previous_run_id}` : ''}${count}`;
}

/** The "revised" and "provisional (intraday)" marks. */
export const MARK_STYLE = `.mark { display: inline-block; font-size: 0.8rem; font-weight: 600; border-radius: 4px; padding: 0.1rem 0.4rem; vertical-align: middle; }
.mark.revised { background: #fff4e5; color: #8a4b00; } .mark.intraday { background: #e8f1fd; color: #1849a9; }`;

/** The mark beside a date's title: revised, provisional (intraday), or both. */
export function dateMarksHtml(revision: Revision | undefined, intraday: boolean, formats: Formats): string {
  const { text } = formats;
  return [
    intraday ? ` <span class="mark intraday" data-mark="intraday">${text.intraday}</span>` : '',
    revision ? ` <span class="mark revised" data-mark="revised" title="${escapeHtml(revisionRunsText(revision, formats))}">${text.revised}</span>` : '',
  ].join('');
}

/**
 * report.html's section on a revised date: the funnel's changed metrics before and after (each
 * row carries them raw in `data-before` / `data-after`), the other tables one line each, and the
 * runs.
 */
export function revisionHtml(revision: Revision, formats: Formats): string {
  const { text } = formats;
  const funnel = funnelChanges(revision)
    .map(
      (c) =>
        `<tr data-column="${escapeHtml(c.column)}" data-before="${escapeHtml(c.before ?? '')}" data-after="${escapeHtml(c.after ?? '')}"><td>${escapeHtml(c.column)}</td>` +
        `<td class="num">${escapeHtml(c.before ?? '—')}</td><td class="num">${escapeHtml(c.after ?? '—')}</td><td class="num">${escapeHtml(revisionDelta(c, formats))}</td></tr>`,
    )
    .join('\n');
  const others = revision.tables.filter((t) => t.table !== FUNNEL_TABLE).map((t) => `<li data-table="${escapeHtml(t.table)}">${escapeHtml(tableChangeText(t, formats))}</li>`);
  return `<section class="revision" data-revised-run="${escapeHtml(revision.run_id)}" data-previous-run="${escapeHtml(revision.previous_run_id ?? '')}">
<h2>${text.revisedTitle}</h2>
<p class="note">${text.revisedNote} ${escapeHtml(revisionRunsText(revision, formats))}.</p>
${funnel ? `<table class="revision"><thead><tr><th>${text.metric}</th><th class="num">${text.before}</th><th class="num">${text.after}</th><th class="num">${text.change}</th></tr></thead><tbody>\n${funnel}\n</tbody></table>\n` : ''}${others.length > 0 ? `<ul class="revised-tables">${others.join('')}</ul>\n` : ''}</section>
`;
}
