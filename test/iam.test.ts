import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintPolicy } from '../src/cloud/iam/lint.js';
import { planPolicy } from '../src/cloud/iam/plan.js';
import { loadPolicy } from '../src/cloud/iam/policy.js';
import { ConfigError } from '../src/util/errors.js';
import { cli } from './support/cli.js';
import { tempDir } from './support/pipeline.js';

const BAD = `project: p1
service_accounts:
  - id: cartlens-pipeline
    keys: [{ algorithm: KEY_ALG_RSA_2048 }]
bindings:
  - { member: "user:owner@example.com", role: roles/owner, resource: { type: project } }
  - { member: allUsers, role: roles/storage.objectViewer, resource: { type: bucket, name: b1 } }
  - { member: "serviceAccount:x@p1.iam.gserviceaccount.com", role: roles/storage.admin, resource: { type: project } }
  - { member: "serviceAccount:x@p1.iam.gserviceaccount.com", role: roles/bigquery.admin, resource: { type: project } }
  - { member: "serviceAccount:x@p1.iam.gserviceaccount.com", role: roles/iam.serviceAccountKeyAdmin, resource: { type: project } }
  - { member: "serviceAccount:x@p1.iam.gserviceaccount.com", role: roles/bigquery.admin, resource: { type: dataset, name: d1 } }
  - { member: "group:g@example.com", role: roles/editor, resource: { type: dataset, name: d1 } }
  - { member: "serviceAccount:x@p1.iam.gserviceaccount.com", role: roles/storage.objectAdmin, resource: { type: bucket, name: b1 } }
  - { member: "serviceAccount:x@p1.iam.gserviceaccount.com", role: roles/bigquery.dataOwner, resource: { type: dataset, name: d1 } }
  - { member: "serviceAccount:x@p1.iam.gserviceaccount.com", role: roles/secretmanager.admin, resource: { type: secret, name: s1 } }
  - { member: "serviceAccount:x@p1.iam.gserviceaccount.com", role: Administrator, resource: { type: ga4_property, name: properties/1 } }
  - { member: "serviceAccount:x@p1.iam.gserviceaccount.com", role: roles/bigquery.dataViewer, resource: { type: dataset, name: d1 } }
  - { member: "serviceAccount:x@p1.iam.gserviceaccount.com", role: roles/run.invoker, resource: { type: run_service, name: r1 } }
`;

/** Every grant deploy/iam.yaml may make: a new or wider one must be added here on purpose. */
const PIPELINE = 'serviceAccount:cartlens-pipeline@my-store-analytics.iam.gserviceaccount.com';
const SCHEDULER = 'serviceAccount:cartlens-scheduler@my-store-analytics.iam.gserviceaccount.com';
const DASHBOARD = 'serviceAccount:cartlens-dashboard@my-store-analytics.iam.gserviceaccount.com';
const BI_READERS = 'group:bi-readers@my-store.example';
const AUDIENCE = 'group:remarketing-audience@my-store.example';
const ALLOWED_GRANTS = [
  [PIPELINE, 'roles/bigquery.jobUser', { type: 'project' }],
  [PIPELINE, 'roles/bigquery.dataEditor', { type: 'dataset', name: 'cartlens_staging' }],
  [PIPELINE, 'roles/bigquery.dataEditor', { type: 'dataset', name: 'cartlens_marts' }],
  [PIPELINE, 'roles/bigquery.dataViewer', { type: 'dataset', name: 'analytics_123456789' }],
  [PIPELINE, 'roles/storage.objectUser', { type: 'bucket', name: 'my-store-cartlens-exports' }],
  [PIPELINE, 'roles/secretmanager.secretAccessor', { type: 'secret', name: 'cartlens-user-key-secret' }],
  [PIPELINE, 'Viewer', { type: 'ga4_property', name: 'properties/123456789' }],
  [SCHEDULER, 'roles/run.invoker', { type: 'run_service', name: 'cartlens-daily' }],
  [DASHBOARD, 'roles/bigquery.jobUser', { type: 'project' }],
  [DASHBOARD, 'roles/bigquery.dataViewer', { type: 'dataset', name: 'cartlens_marts' }],
  [DASHBOARD, 'roles/bigquery.dataViewer', { type: 'table', dataset: 'cartlens_staging', name: 'run_state' }],
  [DASHBOARD, 'roles/bigquery.dataViewer', { type: 'table', dataset: 'cartlens_staging', name: 'quality_daily' }],
  [BI_READERS, 'roles/storage.objectViewer', { type: 'bucket', name: 'my-store-cartlens-exports', prefix: 'exports/' }],
  [BI_READERS, 'roles/bigquery.dataViewer', { type: 'dataset', name: 'cartlens_marts' }],
  // The remarketing audience's readers see it and nothing else.
  [AUDIENCE, 'roles/storage.objectViewer', { type: 'bucket', name: 'my-store-cartlens-exports', prefix: 'exports/remarketing_audience/' }],
  [AUDIENCE, 'roles/bigquery.dataViewer', { type: 'table', dataset: 'cartlens_marts', name: 'remarketing_audience' }],
];

describe('IAM as code', () => {
  it('the shipped policy passes the lint and grants each role on its exact resource', async () => {
    const policy = await loadPolicy('deploy/iam.yaml');
    expect(lintPolicy(policy)).toEqual([]);
    const plan = planPolicy(policy).join('\n');
    expect(plan).toContain('gcloud projects add-iam-policy-binding my-store-analytics --member=serviceAccount:cartlens-pipeline@my-store-analytics.iam.gserviceaccount.com --role=roles/bigquery.jobUser --condition=None');
    expect(plan).toContain('bq add-iam-policy-binding --member=serviceAccount:cartlens-pipeline@my-store-analytics.iam.gserviceaccount.com --role=roles/bigquery.dataEditor my-store-analytics:cartlens_marts');
    expect(plan).toContain('gcloud storage buckets add-iam-policy-binding gs://my-store-cartlens-exports --member=group:bi-readers@my-store.example --role=roles/storage.objectViewer --condition=');
    expect(plan).toContain('--role=roles/run.invoker');
    // The only project-wide grants are the job user roles of the pipeline and the dashboard.
    expect(plan.match(/gcloud projects add-iam-policy-binding .* --role=roles\/bigquery\.jobUser/g)).toHaveLength(2);
    expect(plan.match(/gcloud projects add-iam-policy-binding/g)).toHaveLength(2);
    // The dashboard reads two tables of staging, not the dataset that holds the staged events.
    const dashboard = plan.split('\n').filter((line) => line.includes('cartlens-dashboard@') && !line.includes('service-accounts'));
    expect(dashboard.some((line) => line.includes('cartlens_staging') && !line.includes('ON TABLE'))).toBe(false);
    expect(plan).toContain(
      "bq query --project_id=my-store-analytics --nouse_legacy_sql 'GRANT `roles/bigquery.dataViewer` ON TABLE `my-store-analytics.cartlens_staging.run_state` TO \"serviceAccount:cartlens-dashboard@my-store-analytics.iam.gserviceaccount.com\"' || echo",
    );
    expect(dashboard.some((line) => /storage|dataEditor/.test(line))).toBe(false);
  });

  it('the shipped policy grants exactly the allowed (member, role, resource) triples, no more', async () => {
    const policy = await loadPolicy('deploy/iam.yaml');
    expect(policy.bindings.map((b) => [b.member, b.role, b.resource])).toEqual(ALLOWED_GRANTS);
    expect(policy.service_accounts.map((a) => a.id)).toEqual(['cartlens-pipeline', 'cartlens-scheduler', 'cartlens-dashboard']);
  });

  it('names every finding of a bad policy', async () => {
    const dir = await tempDir();
    const file = join(dir, 'bad.yaml');
    await writeFile(file, BAD);
    const findings = lintPolicy(await loadPolicy(file));
    expect(findings.map((f) => [f.at.split(' ')[0], f.rule])).toEqual([
      ['bindings[0]', 'primitive-role'],
      ['bindings[1]', 'public-member'],
      ['bindings[2]', 'admin-role'],
      ['bindings[3]', 'admin-role'],
      ['bindings[4]', 'service-account-key'],
      ['bindings[5]', 'admin-role'], // an admin role on one dataset is still an admin role
      ['bindings[6]', 'primitive-role'],
      ['bindings[7]', 'admin-role'],
      ['bindings[8]', 'admin-role'],
      ['bindings[9]', 'admin-role'],
      ['bindings[10]', 'admin-role'],
      ['service_accounts[0]', 'service-account-key'],
    ]);
    expect(findings.find((f) => f.at.startsWith('bindings[5]'))!.message).toMatch(/^roles\/bigquery\.admin administers dataset d1: grant the narrow role/);
    const lint = await cli(['iam', 'lint', file]);
    expect(lint.code).toBe(1);
    expect(lint.stdout).toContain(`${findings.length} finding(s)`);
    const plan = await cli(['iam', 'plan', file]);
    expect(plan.code).toBe(1);
    expect(plan.stdout).toBe('');
  });

  it('names the line and key of a malformed policy', async () => {
    const dir = await tempDir();
    const file = join(dir, 'odd.yaml');
    await writeFile(file, 'project: p1\nbindings:\n  - member: "someone"\n    role: roles/viewer\n    resource: { type: project }\n');
    await expect(loadPolicy(file)).rejects.toThrow(ConfigError);
    await expect(loadPolicy(file)).rejects.toThrow(/odd\.yaml:3: bindings\.0\.member/);
  });
});
