import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QUARANTINE_REASONS } from '../src/contract/quarantine.js';

/** The reasons a staging's SQL writes (`THEN 'reason'`, `ELSE 'reason'`) or compares with (`reason = '…'`), in order of appearance. */
async function reasonsIn(folder: string): Promise<string[]> {
  const files = (await readdir(folder)).filter((f) => f.endsWith('.sql')).sort();
  const reasons: string[] = [];
  for (const file of files) {
    const sql = (await readFile(join(folder, file), 'utf8')).replace(/--.*$/gm, '');
    for (const match of sql.matchAll(/\b(?:THEN|ELSE|reason\s*=)\s*'([^']*)'/g)) reasons.push(match[1]!);
  }
  return reasons;
}

const CONTRACT = QUARANTINE_REASONS.map((r) => r.reason);
/** The line's shape: GA4's BigQuery export is typed, so its rows are objects with arrays where arrays belong. */
const SHAPE_OF_A_JSON_LINE = ['invalid_json', 'items_not_array', 'event_params_not_array'];

describe("the contract's quarantine reasons are the ones the warehouses write", () => {
  it('DuckDB (files): every reason its ingest SQL writes is in the contract, and it writes every one of them', async () => {
    const written = await reasonsIn('src/warehouse/duckdb/ingest');
    expect(written.filter((r) => !CONTRACT.includes(r as never))).toEqual([]);
    expect([...new Set(written)].sort()).toEqual([...CONTRACT].sort());
  });

  it("BigQuery (the export): every reason its staging SQL writes is in the contract, in the contract's order, all but the JSON line's shape", async () => {
    const written = await reasonsIn('src/warehouse/bigquery/sql');
    expect(written.filter((r) => !CONTRACT.includes(r as never))).toEqual([]);
    // Its CASE is the contract's list: the first rule broken is the reason.
    const firstWritten = written.filter((r, i) => written.indexOf(r) === i);
    expect(firstWritten).toEqual(CONTRACT.filter((r) => !SHAPE_OF_A_JSON_LINE.includes(r) && firstWritten.includes(r)));
    expect(new Set(written)).toEqual(new Set(CONTRACT.filter((r) => !SHAPE_OF_A_JSON_LINE.includes(r))));
  });

  it('every reason has its doc, once', () => {
    expect(new Set(CONTRACT).size).toBe(CONTRACT.length);
    for (const { reason, doc } of QUARANTINE_REASONS) expect(doc.length, reason).toBeGreaterThan(10);
  });
});
