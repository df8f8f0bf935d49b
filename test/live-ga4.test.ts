// Live test of the Data API source: runs only when CARTLENS_GA4_PROPERTY is set (properties/<id>),
// with Application Default Credentials that have Viewer on the property. CI skips it, and says so.
import { describe, expect, it } from 'vitest';
import { openDataClient } from '../src/sources/ga4-data-api/data-api-client.js';
import { FETCHER_DEFAULTS, ReportFetcher } from '../src/sources/ga4-data-api/fetcher.js';
import { DEFAULT_REPORTS } from '../src/sources/ga4-data-api/reports.js';

const property = process.env.CARTLENS_GA4_PROPERTY;
if (!property) console.warn('live GA4 Data API test skipped: set CARTLENS_GA4_PROPERTY=properties/<id> to run it');

describe.skipIf(!property)('live GA4 Data API', () => {
  it('fetches both default reports for a recent day, paged to rowCount', async () => {
    const fetcher = new ReportFetcher(openDataClient(), { ...FETCHER_DEFAULTS, property: property!, tokenBudget: 2_000 });
    const date = new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10);
    for (const report of DEFAULT_REPORTS) {
      const fetched = await fetcher.fetch(report, date);
      const rows = fetched.pages.reduce((sum, p) => sum + ((p.response.rows as unknown[] | undefined) ?? []).length, 0);
      expect(rows).toBe(fetched.rowCount);
    }
  }, 120_000);
});
