// `cartlens plan --dry-run` and the warehouse's datasets in `cartlens gcp plan|apply`, with the
// real clients against the local fakes of the BigQuery and Cloud Storage APIs (BigQuery's scripted:
// the dry run's byte count is the test's, a real figure the local BigQuery does not have).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from './support/cli.js';
import { FakeBigQuery } from './support/fake-bigquery.js';
import { FakeGcs } from './support/fake-gcs.js';
import { tempDir } from './support/pipeline.js';

let bigquery: FakeBigQuery;
let gcs: FakeGcs;
let config: string;

beforeEach(async () => {
  // The one job `plan --dry-run` sends: the dry run of the export's read, priced by the test.
  bigquery = new FakeBigQuery((sql) => (sql.includes("_TABLE_SUFFIX IN ('0261101')") ? { fields: [], rows: [], bytesProcessed: 734_003_200 } : undefined));
  gcs = new FakeGcs();
  const [bq, storage] = [await bigquery.start(), await gcs.start()];
  config = join(await tempDir(), 'cartlens.yaml');
  await writeFile(
    config,
    `source: { type: ga4-export-bigquery, project: my-project, dataset: analytics_123 }
warehouse: { type: bigquery, project: my-project, location: southamerica-east1, api_endpoint: "${bq}" }
export: { type: gcs, bucket: store-exports, project: my-project, location: southamerica-east1, api_endpoint: "${storage}" }
`,
  );
});

afterEach(async () => {
  await bigquery.stop();
  await gcs.stop();
});

describe('BigQuery planning', () => {
  it('plan --dry-run prices the read of the export with a dry run and runs nothing', async () => {
    const result = await cli(['plan', '--config', config, '--date', '2026-11-01', '--dry-run']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/\d+\. stage\s+GA4 BigQuery export my-project\.analytics_123\.events_\*/);
    expect(result.stdout).toContain('reading the export would process 700.0 MB (734003200 bytes)');
    expect(bigquery.jobs.size).toBe(0);
    expect(bigquery.inserts).toHaveLength(1);
    expect(bigquery.inserts[0]!.configuration.dryRun).toBe(true);
  });

  it('gcp apply creates the datasets in the bucket\'s location; a dataset elsewhere is refused', async () => {
    const plan = await cli(['gcp', 'plan', '--config', config]);
    expect(plan.stdout).toContain('+ dataset cartlens_staging in southamerica-east1');
    expect(plan.stdout).toContain('+ dataset cartlens_marts in southamerica-east1');
    const apply = await cli(['gcp', 'apply', '--config', config]);
    expect(apply.code, apply.stderr).toBe(0);
    expect([...bigquery.datasets.keys()].sort()).toEqual(['cartlens_marts', 'cartlens_staging']);
    expect(bigquery.datasets.get('cartlens_marts')).toMatchObject({ location: 'southamerica-east1' });

    bigquery.datasets.set('cartlens_marts', { location: 'US' });
    const refused = await cli(['gcp', 'apply', '--config', config]);
    expect(refused.stdout).toContain('! dataset cartlens_marts: location US → southamerica-east1');
    expect(refused.code).toBe(1);
  });
});
