/** Date literals both dialects share (standard SQL `DATE 'YYYY-MM-DD'`). */
export function dateLiteral(isoDate: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(isoDate)) throw new Error(`not a date: ${isoDate}`);
  return `DATE '${isoDate}'`;
}

/** `(DATE '…', …)`, for `IN`; `(NULL)` matches nothing. */
export function dateList(isoDates: readonly string[]): string {
  return isoDates.length === 0 ? '(NULL)' : `(${isoDates.map(dateLiteral).join(', ')})`;
}
