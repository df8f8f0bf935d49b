// Real GA4-export rows from ../shared/external-data (see each folder's PROVENANCE.md).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runOn } from './support/pipeline.js';

// CI lays shared/ beside the clone; CARTLENS_SHARED_DIR points elsewhere when it is not there.
const SHARED = join(process.env.CARTLENS_SHARED_DIR ?? join(process.cwd(), '..', 'shared'), 'external-data');
if (!existsSync(SHARED)) console.warn(`external data not found at ${SHARED}: these tests are skipped`);

describe.skipIf(!existsSync(SHARED))('real GA4 export rows', () => {
  it('reads a real purchase row with INT64s as strings (dataform-ga4-sessions)', async () => {
    const [row] = JSON.parse(await readFile(join(SHARED, 'dataform-ga4-sessions-purchase', 'purchase_input.json'), 'utf8')) as Record<string, unknown>[];
    const run = await runOn({ 'events_20231215.json': [row!] });
    const date = run.report.dates[0]!;
    expect(date.quality.quarantined).toBe(0);
    expect(await run.csv('cart_funnel_daily', '2023-12-15')).toEqual([
      expect.objectContaining({ sessions: '1', sessions_with_purchase: '1', purchases: '1', revenue: '31.00' }),
    ]);
    expect((await run.csv('cart_items_daily', '2023-12-15')).map((r) => [r.item_id, r.purchased_units, r.purchased_revenue])).toEqual([
      ['product_5851_150468', '1', '16.40'],
      ['product_5851_706031', '1', '14.60'],
    ]);
    const [event] = await run.query(`SELECT session_id, transaction_id FROM stg_events`);
    expect(event).toEqual({ session_id: '1702650951', transaction_id: '257059' });
  });

  it('reads 460 real rows of the obfuscated Merchandise Store sample over 92 days', async () => {
    const lines = (await readFile(join(SHARED, 'ga4-obfuscated-sample-spider2', 'ga4_obfuscated_sample_rows.ndjson'), 'utf8')).split('\n').filter(Boolean);
    expect(lines).toHaveLength(460);
    const run = await runOn({ 'sample.json': lines });
    expect(run.report.dates).toHaveLength(92);
    const totals = run.report.dates.reduce(
      (sum, d) => ({ quarantined: sum.quarantined + d.quality.quarantined, included: sum.included + d.quality.included_events }),
      { quarantined: 0, included: 0 },
    );
    expect(totals).toEqual({ quarantined: 0, included: 460 });
    const [sessions] = await run.query(`SELECT sum(sessions)::INTEGER AS n FROM cart_funnel_daily`);
    expect(sessions!.n).toBe(190); // distinct (user_pseudo_id, ga_session_id, event_date), per PROVENANCE.md
  });
});
