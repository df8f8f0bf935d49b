// Bucket rules as code, planned and applied with the real Storage client against the local fake.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { maximumLifetimeDays } from '../src/cloud/bucket/bucket-rules.js';
import { cli } from './support/cli.js';
import { FakeGcs } from './support/fake-gcs.js';
import { tempDir } from './support/pipeline.js';

let gcs: FakeGcs;
let config: string;

beforeEach(async () => {
  gcs = new FakeGcs();
  const endpoint = await gcs.start();
  const dir = await tempDir();
  config = join(dir, 'cartlens.yaml');
  await writeFile(
    config,
    `source: { type: ga4-export-files, path: "input/*.json" }
export:
  type: gcs
  bucket: store-exports
  prefix: exports/
  project: my-project
  api_endpoint: "${endpoint}"
  delete_after_days: 30
  storage_class_steps: [{ after_days: 7, class: NEARLINE }]
  soft_delete_days: 7
`,
  );
});

afterEach(() => gcs.stop());

describe('cartlens gcp plan / apply', () => {
  it('creates a missing bucket with the rules, then finds nothing to change', async () => {
    const plan = await cli(['gcp', 'plan', '--config', config]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/^\+ bucket: .*gs:\/\/store-exports in SOUTHAMERICA-EAST1/m);
    expect(plan.stdout).toContain('a published file lives at most 38 days (30 + up to 1 for lifecycle + 7 soft-deleted)');
    expect(gcs.buckets.size).toBe(0);

    expect((await cli(['gcp', 'apply', '--config', config])).code).toBe(0);
    const bucket = gcs.buckets.get('store-exports')!;
    expect(bucket).toMatchObject({
      location: 'SOUTHAMERICA-EAST1',
      iamConfiguration: { uniformBucketLevelAccess: { enabled: true }, publicAccessPrevention: 'enforced' },
      softDeletePolicy: { retentionDurationSeconds: String(7 * 86_400) },
      lifecycle: {
        rule: [
          { action: { type: 'SetStorageClass', storageClass: 'NEARLINE' }, condition: { age: 7, matchesPrefix: ['exports/'] } },
          { action: { type: 'Delete' }, condition: { age: 30, matchesPrefix: ['exports/'] } },
          { action: { type: 'Delete' }, condition: { age: 1, matchesPrefix: ['exports/_incoming/'] } },
          // The GA4 Data API's raw pages, outside the export prefix, after retention.landed_days.
          { action: { type: 'Delete' }, condition: { age: 30, matchesPrefix: ['_raw/'] } },
        ],
      },
    });
    const again = await cli(['gcp', 'plan', '--config', config]);
    expect(again.stdout).toContain('gs://store-exports: up to date');
  });

  it('shows and repairs drift', async () => {
    await cli(['gcp', 'apply', '--config', config]);
    const bucket = gcs.buckets.get('store-exports')!;
    bucket.iamConfiguration = { uniformBucketLevelAccess: { enabled: true }, publicAccessPrevention: 'inherited' };
    const plan = await cli(['gcp', 'plan', '--config', config]);
    expect(plan.stdout).toMatch(/^~ iamConfiguration\.publicAccessPrevention: "inherited" → "enforced"$/m);
    await cli(['gcp', 'apply', '--config', config]);
    expect(gcs.buckets.get('store-exports')!.iamConfiguration).toMatchObject({ publicAccessPrevention: 'enforced' });
  });

  it('refuses to move a bucket to another location', async () => {
    gcs.buckets.set('store-exports', { kind: 'storage#bucket', name: 'store-exports', location: 'US', metageneration: '1' });
    const apply = await cli(['gcp', 'apply', '--config', config]);
    expect(apply.stdout).toMatch(/^! location: "US" → "SOUTHAMERICA-EAST1"$/m);
    expect(apply.code).toBe(1);
    expect(apply.stderr).toMatch(/a bucket cannot move/);
  });

  it('states the real lifetime of a file', () => {
    expect(maximumLifetimeDays({ bucket: 'b', location: 'x', deleteAfterDays: 90, storageClassSteps: [], softDeleteDays: 0, exportPrefix: '', incomingPrefix: '_incoming/', rawPrefix: '_raw/', rawDeleteAfterDays: 30 })).toBe(91);
  });
});
