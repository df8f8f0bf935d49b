// Live tests against real BigQuery and Cloud Storage: they run only when CARTLENS_GCP_PROJECT is
// set (with CARTLENS_GCP_BUCKET and CARTLENS_GA4_EXPORT_DATASET), using Application Default
// Credentials. CI has no Google account: it skips them, and says so.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './support/cli.js';
import { tempDir } from './support/pipeline.js';

const project = process.env.CARTLENS_GCP_PROJECT;
if (!project) console.warn('live Google Cloud tests skipped: set CARTLENS_GCP_PROJECT (and CARTLENS_GCP_BUCKET, CARTLENS_GA4_EXPORT_DATASET) to run them');

describe.skipIf(!project)('live Google Cloud', () => {
  it('plans, dry-runs and runs one day end to end', async () => {
    const dir = await tempDir();
    const config = join(dir, 'cartlens.yaml');
    const location = process.env.CARTLENS_GCP_LOCATION ?? 'southamerica-east1';
    await writeFile(
      config,
      `source: { type: ga4-export-bigquery, project: ${project}, dataset: ${process.env.CARTLENS_GA4_EXPORT_DATASET} }
warehouse: { type: bigquery, project: ${project}, location: ${location}, staging_dataset: cartlens_live_staging, marts_dataset: cartlens_live_marts }
export: { type: gcs, bucket: ${process.env.CARTLENS_GCP_BUCKET}, prefix: cartlens-live-test/, location: ${location}, delete_after_days: 1 }
privacy: { user_key_secret: "live-test-secret-0123456789" }
`,
    );
    const date = process.env.CARTLENS_LIVE_DATE ?? new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10);
    expect((await cli(['gcp', 'apply', '--config', config])).code).toBe(0);
    const dry = await cli(['plan', '--config', config, '--date', date, '--dry-run']);
    expect(dry.stdout).toMatch(/would process/);
    const run = await cli(['run', '--config', config, '--date', date, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).dates[0].status).toBe('published');
  }, 600_000);
});
