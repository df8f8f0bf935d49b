// Newline-delimited JSON read into a table's columns, line by line, as a BigQuery load job reads
// it: a line that cannot be a row of the table is skipped with the reason.
import type { Column } from './types.js';
import { recordOf, ValueError, type Value } from './values.js';

export interface SkippedLine {
  /** 1-based line number in the file. */
  line: number;
  /** Why, in a form that groups alike lines: `invalid JSON`, `items[].quantity: is not an INT64`… */
  reason: string;
}

export interface ReadLines {
  rows: Value[][];
  /** Lines that are not rows of the table, with why. Blank lines are not counted. */
  skipped: SkippedLine[];
  blankLines: number;
  /** With ignoreUnknownValues: the fields the lines had and the table has not (left out of the rows). */
  unknownFields: string[];
}

export function readNdjson(text: string, columns: Column[], options: { ignoreUnknownValues?: boolean } = {}): ReadLines {
  const unknownFields = options.ignoreUnknownValues ? new Set<string>() : undefined;
  const fields = columns.map((c): [string, Column['type']] => [c.name, c.type]);
  const rows: Value[][] = [];
  const skipped: SkippedLine[] = [];
  let blankLines = 0;
  const lines = text.split('\n');
  // A final line end leaves an empty last piece: no line.
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, index) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') {
      blankLines++;
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      skipped.push({ line: index + 1, reason: 'invalid JSON' });
      return;
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      skipped.push({ line: index + 1, reason: 'not a JSON object' });
      return;
    }
    try {
      rows.push(recordOf(json as Record<string, unknown>, fields, '', unknownFields));
    } catch (error) {
      if (!(error instanceof ValueError)) throw error;
      skipped.push({ line: index + 1, reason: `${error.field.replace(/\[\d+\]/g, '[]')} ${error.problem}` });
    }
  });
  return { rows, skipped, blankLines, unknownFields: [...(unknownFields ?? [])].sort() };
}

/** `12 invalid JSON, 3 event_timestamp is not an INT64 (lines 4, 9, 17)`: skipped lines grouped by reason. */
export function skippedSummary(skipped: SkippedLine[], shownLines = 3): string {
  const byReason = new Map<string, number[]>();
  for (const s of skipped) byReason.set(s.reason, [...(byReason.get(s.reason) ?? []), s.line]);
  return [...byReason.entries()]
    .sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1))
    .map(([reason, lines]) => `${lines.length} ${reason} (line${lines.length > 1 ? 's' : ''} ${lines.slice(0, shownLines).join(', ')}${lines.length > shownLines ? ', …' : ''})`)
    .join('; ');
}
