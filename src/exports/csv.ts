import { stringify } from 'csv-stringify/sync';
import { withControlPictures } from '../util/control-pictures.js';
import type { PublishedTable } from '../contract/tables.js';

/** A leading character a spreadsheet reads as the start of a formula (or hides one behind). */
const FORMULA_START = /^[=+\-@\t\r\n]/;

/** Cells as the warehouse formatted them (text, or null for NULL), in the table's column order. */
export type CsvRow = (string | null)[];

/** A CSV file as it is produced: text chunks, and the number of rows once they are consumed. */
export interface CsvContent {
  chunks: AsyncIterable<string>;
  rowCount(): number;
}

/**
 * Writes batches of rows as the contract's CSV, streaming: UTF-8, a header, RFC 4180 quoting,
 * `\n` line ends, empty field for NULL, a `'` before a text cell that starts like a formula, and
 * control characters (but tab, CR, LF) as visible pictures. Numbers are never prefixed.
 */
export function csvContent(table: PublishedTable, batches: AsyncIterable<CsvRow[]>): CsvContent {
  let rows = 0;
  async function* chunks(): AsyncGenerator<string> {
    yield formatCsv(table, [], true);
    for await (const batch of batches) {
      rows += batch.length;
      if (batch.length > 0) yield formatCsv(table, batch, false);
    }
  }
  return { chunks: chunks(), rowCount: () => rows };
}

export function formatCsv(table: PublishedTable, rows: CsvRow[], header: boolean): string {
  const guarded = table.columns.map((c) => c.kind === 'text');
  const records = rows.map((row) =>
    row.map((cell, i) => {
      if (cell === null) return cell;
      const visible = withControlPictures(cell);
      return guarded[i] && FORMULA_START.test(visible) ? `'${visible}` : visible;
    }),
  );
  return stringify(records, {
    header,
    columns: table.columns.map((c) => c.name),
    record_delimiter: '\n',
    // RFC 4180: quote a field holding a delimiter, a quote or a line break (CR included).
    quoted_match: /[\r\n]/,
  });
}
