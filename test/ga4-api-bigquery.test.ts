// GA4 Data API pages on BigQuery: pages land in the bucket's `_raw/` prefix (the real Storage
// client), a load job appends them to `ga4_api_pages` (the real BigQuery client), and SQL in the
// run's session fills the raw report table — all on the local Google Cloud (src/dev/gcp/), whose
// reference engine computes the raw table's rows from the landed pages.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openBucket } from '../src/exports/gcs/storage-client.js';
import type { FetchedReport } from '../src/sources/ga4-data-api/fetcher.js';
import { GcsPageLanding } from '../src/sources/ga4-data-api/page-landing.js';
import { DEFAULT_REPORTS } from '../src/sources/ga4-data-api/reports.js';
import { BigQueryWarehouse } from '../src/warehouse/bigquery/bigquery-warehouse.js';
import { dialectFor } from '../src/warehouse/index.js';
import { RecordingGcp } from './support/local-gcp.js';
import { expectOrder } from './support/order.js';
import { describeWithZetaSql } from './support/zetasql/guard.js';

const ITEMS = DEFAULT_REPORTS.find((r) => r.name === 'items')!;
const QUALITY = { subjectToThresholding: false, samplingMetadatas: [], dataLossFromOtherRow: false, emptyReason: null };

function fetched(pages: number): FetchedReport {
  return {
    report: 'items',
    date: '2026-11-01',
    pages: Array.from({ length: pages }, (_, page) => ({
      request: { property: 'properties/123', offset: page * 2, limit: 2 },
      response: { rows: [{ dimensionValues: [{ value: '20261101' }, { value: `SKU-${page}` }, { value: 'Mug' }, { value: 'Kitchen' }], metricValues: ['10', '3', '2', '1', '12.5'].map((value) => ({ value })) }], rowCount: pages },
    })),
    rowCount: pages,
    quality: QUALITY,
    tokens: 7,
  };
}

let gcp: RecordingGcp;
let warehouse: BigQueryWarehouse;
let landing: GcsPageLanding;
/** A landed object's text. */
const landedText = (name: string) => gcp.objects('shop-exports').get(name)?.data.toString('utf8');

beforeEach(async () => {
  gcp = await RecordingGcp.start({ project: 'shop', dataset: 'analytics_1' });
  landing = new GcsPageLanding(openBucket({ bucket: 'shop-exports', apiEndpoint: gcp.endpoint, maxRetries: 2, maxRetryDelaySeconds: 1 }));
  warehouse = await BigQueryWarehouse.open({ project: 'shop', location: 'US', stagingDataset: 'cartlens_staging', martsDataset: 'cartlens_marts', maximumBytesBilled: 1e9, apiEndpoint: gcp.endpoint }, dialectFor({ type: 'bigquery', project: 'shop', staging_dataset: 'cartlens_staging', marts_dataset: 'cartlens_marts' }));
});
afterEach(async () => {
  await gcp?.stop();
});

describeWithZetaSql('GA4 Data API pages on BigQuery', () => {
  it('lands each page unchanged in the bucket, loads them with a load job, and fills the raw table in the transaction', async () => {
    const report = fetched(2);
    const uris = await landing.land(report, { runId: 'run-1', property: 'properties/123' });
    expect(uris).toEqual([0, 1].map((n) => `gs://shop-exports/_raw/ga4-api/123/2026-11-01/items/run-1/page-0000${n}.json`));
    // One JSON document per page, on one line, holding the response and its request as exchanged.
    const landed = landedText('_raw/ga4-api/123/2026-11-01/items/run-1/page-00001.json')!;
    expect(landed.endsWith('}\n') && landed.split('\n')).toHaveLength(2);
    expect(JSON.parse(landed)).toMatchObject({ run_id: 'run-1', property: 'properties/123', report: 'items', date: '2026-11-01', page: 1, request: report.pages[1]!.request, response: report.pages[1]!.response });

    await warehouse.prepareSchema();
    const load = { property: 'properties/123', report: ITEMS, date: '2026-11-01', pageFiles: uris, runId: 'run-1', rowCount: 2, tokens: 7, final: false, quality: QUALITY };
    await warehouse.stageApiPages(load);
    await warehouse.transaction(() => warehouse.loadApiPages(load));
    await warehouse.close();

    const loads = gcp.inserts.filter((job) => job.configuration.load);
    expect(loads).toHaveLength(1);
    expect(loads[0]!.configuration.load).toMatchObject({
      sourceUris: uris,
      sourceFormat: 'NEWLINE_DELIMITED_JSON',
      writeDisposition: 'WRITE_APPEND',
      destinationTable: { projectId: 'shop', datasetId: 'cartlens_staging', tableId: 'ga4_api_pages' },
    });
    // Every landed object a load job names exists in the bucket.
    for (const uri of uris) expect(landedText(uri.replace('gs://shop-exports/', ''))).toBeDefined();

    const sqls = gcp.inserts.map((job) => String(job.configuration.query?.query ?? '(load)'));
    const at = (pattern: RegExp) => sqls.findIndex((sql) => pattern.test(sql));
    expectOrder(sqls, /CREATE TABLE IF NOT EXISTS `shop\.cartlens_staging\.raw_ga4_api_items`/, /^\(load\)$/);
    expect(at(/^\(load\)$/)).toBeLessThan(at(/^BEGIN TRANSACTION$/));
    expect(at(/^BEGIN TRANSACTION$/)).toBeLessThan(at(/^INSERT INTO `shop\.cartlens_staging\.raw_ga4_api_items`/));
    expect(sqls[at(/^INSERT INTO `shop\.cartlens_staging\.raw_ga4_api_items`/)]).toContain("p.run_id = 'run-1'");
    expectOrder(sqls, /^INSERT INTO `shop\.cartlens_staging\.ga4_api_fetches`/, /^COMMIT TRANSACTION$/);

    // The raw table holds the pages' rows as the engine read them out of the landed JSON.
    expect(await gcp.query('SELECT * FROM `shop.cartlens_staging.raw_ga4_api_items` ORDER BY item_id')).toEqual(
      ['SKU-0', 'SKU-1'].map((sku) => ({ date: '2026-11-01', item_id: sku, item_name: 'Mug', item_category: 'Kitchen', items_viewed: '10', items_added_to_cart: '3', items_checked_out: '2', items_purchased: '1', item_revenue: '12.5', run_id: 'run-1' })),
    );
    expect(await gcp.query('SELECT report, date, run_id, final, row_count, tokens FROM `shop.cartlens_staging.ga4_api_fetches`')).toEqual([{ report: 'items', date: '2026-11-01', run_id: 'run-1', final: false, row_count: '2', tokens: '7' }]);
  });

  it('writes a page once: a retried write of the same page is accepted, another page under its name is refused', async () => {
    const report = fetched(1);
    const first = await landing.land(report, { runId: 'run-2', property: 'properties/123' });
    expect(await landing.land(report, { runId: 'run-2', property: 'properties/123' })).toEqual(first);
    report.pages[0]!.response.rowCount = 99;
    await expect(landing.land(report, { runId: 'run-2', property: 'properties/123' })).rejects.toThrow(/already holds another page/);
  });

  it('refuses pages that are not in Cloud Storage, saying which export to use', async () => {
    await warehouse.prepareSchema();
    const load = { property: 'properties/123', report: ITEMS, date: '2026-11-01', pageFiles: ['/tmp/page-00000.json'], runId: 'run-3', rowCount: 1, tokens: 1, final: false, quality: QUALITY };
    await expect(warehouse.stageApiPages(load)).rejects.toMatchObject({ oneLine: expect.stringMatching(/is not there — use export type gcs/) });
    await warehouse.close();
  });
});
