import { stringify } from 'csv-stringify/sync';
import type { PublishedTable } from './published-tables.js';

/** A leading character a spreadsheet reads as the start of a formula. */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * Writes rows (already formatted as text by the warehouse, NULL as null) as the contract's CSV:
 * UTF-8, a header, RFC 4180 quoting, `\n` line ends, empty field for NULL, and a `'` before a
 * text cell that starts like a formula. Numbers are never prefixed.
 */
export function toCsv(table: PublishedTable, rows: Record<string, string | number | boolean | null>[]): string {
  const guarded = new Set(table.columns.filter((c) => c.kind === 'text').map((c) => c.name));
  const records = rows.map((row) =>
    table.columns.map((column) => {
      const value = row[column.name];
      if (value === null || value === undefined) return null;
      const text = String(value);
      return guarded.has(column.name) && FORMULA_START.test(text) ? `'${text}` : text;
    }),
  );
  return stringify(records, {
    header: true,
    columns: table.columns.map((c) => c.name),
    record_delimiter: '\n',
    // RFC 4180: quote a field holding a delimiter, a quote or a line break (CR included).
    quoted_match: /[\r\n]/,
    cast: { boolean: (value) => (value ? 'true' : 'false') },
  });
}
