/** Date literals both dialects share (standard SQL `DATE 'YYYY-MM-DD'`). */
export function dateLiteral(isoDate: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(isoDate)) throw new Error(`not a date: ${isoDate}`);
  return `DATE '${isoDate}'`;
}

/** `(DATE '…', …)`, for `IN`; `(NULL)` matches nothing. */
export function dateList(isoDates: readonly string[]): string {
  return isoDates.length === 0 ? '(NULL)' : `(${isoDates.map(dateLiteral).join(', ')})`;
}

/**
 * A TIMESTAMP literal of an instant, as UTC wall time to the millisecond: `TIMESTAMP 'YYYY-MM-DD
 * HH:MM:SS.sss'`. Both dialects read it as that instant: DuckDB's TIMESTAMP has no zone (cartlens
 * keeps UTC in it), BigQuery's literal without a zone is UTC.
 */
export function timestampLiteral(instant: Date): string {
  const iso = instant.toISOString();
  // Both warehouses' TIMESTAMP holds years 0001–9999.
  if (!/^(?!0000)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(iso)) throw new Error(`not a timestamp of years 0001–9999: ${iso}`);
  return `TIMESTAMP '${iso.slice(0, -1).replace('T', ' ')}'`;
}
