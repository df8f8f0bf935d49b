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
  - { member: "serviceAccount:x@p1.iam.gserviceaccount.com", role: roles/iam.serviceAccountTokenCreator, resource: { type: project } }
  - { member: "serviceAccount:x@p1.iam.gserviceaccount.com", role: roles/iam.serviceAccountUser, resource: { type: run_job, name: j1 } }
  - { member: "serviceAccount:x@p1.iam.gserviceaccount.com", role: roles/iam.serviceAccountTokenCreator, resource: { type: service_account, name: cartlens-pipeline } }
`;

/** Every grant deploy/iam.yaml may make: a new or wider one must be added here on purpose. */
const PIPELINE = 'serviceAccount:cartlens-pipeline@my-store-analytics.iam.gserviceaccount.com';
const SCHEDULER = 'serviceAccount:cartlens-scheduler@my-store-analytics.iam.gserviceaccount.com';
const DASHBOARD = 'serviceAccount:cartlens-dashboard@my-store-analytics.iam.gserviceaccount.com';
const BI_READERS = 'group:bi-readers@my-store.example';
const AUDIENCE = 'group:remarketing-audience@my-store.example';
const COMPOSER = 'serviceAccount:composer-environment@my-store-analytics.iam.gserviceaccount.com';
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
  [DASHBOARD, 'roles/bigquery.dataViewer', { type: 'table', dataset: 'cartlens_staging', name: 'restatements' }],
  [BI_READERS, 'roles/storage.objectViewer', { type: 'bucket', name: 'my-store-cartlens-exports', prefix: 'exports/' }],
  [BI_READERS, 'roles/bigquery.dataViewer', { type: 'dataset', name: 'cartlens_marts' }],
  // The remarketing audience's readers see it and nothing else.
  [AUDIENCE, 'roles/storage.objectViewer', { type: 'bucket', name: 'my-store-cartlens-exports', prefix: 'exports/remarketing_audience/' }],
  [AUDIENCE, 'roles/bigquery.dataViewer', { type: 'table', dataset: 'cartlens_marts', name: 'remarketing_audience' }],
  // Cloud Composer (optional, ONLY_WITH below): impersonation of the pipeline's account alone, and
  // the pipeline's account on exactly the functions, job and repository the DAG uses.
  [COMPOSER, 'roles/iam.serviceAccountTokenCreator', { type: 'service_account', name: 'cartlens-pipeline' }],
  [PIPELINE, 'roles/run.invoker', { type: 'run_service', name: 'cartlens-daily' }],
  [PIPELINE, 'roles/run.invoker', { type: 'run_service', name: 'cartlens-extract' }],
  [PIPELINE, 'roles/run.invoker', { type: 'run_service', name: 'cartlens-publish' }],
  [PIPELINE, 'roles/run.jobsExecutorWithOverrides', { type: 'run_job', name: 'cartlens' }],
  [PIPELINE, 'roles/dataform.editor', { type: 'dataform_repository', name: 'cartlens' }],
];
/** The features each grant of ALLOWED_GRANTS waits for (`only_with`); none: always applied. */
const ONLY_WITH = [...Array<undefined>(17).fill(undefined), ['composer'], ['composer', 'function'], ['composer', 'function', 'dataform'], ['composer', 'function', 'dataform'], ['composer', 'cloud_run_job'], ['composer', 'dataform']];

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
    // The dashboard reads three tables of staging, not the dataset that holds the staged events.
    const dashboard = plan.split('\n').filter((line) => line.includes('cartlens-dashboard@') && !line.includes('service-accounts'));
    expect(dashboard.some((line) => line.includes('cartlens_staging') && !line.includes('ON TABLE'))).toBe(false);
    expect(plan).toContain(
      "bq query --project_id=my-store-analytics --nouse_legacy_sql 'GRANT `roles/bigquery.dataViewer` ON TABLE `my-store-analytics.cartlens_staging.run_state` TO \"serviceAccount:cartlens-dashboard@my-store-analytics.iam.gserviceaccount.com\"' || echo",
    );
    expect(dashboard.some((line) => /storage|dataEditor/.test(line))).toBe(false);
  });

  it('the shipped policy grants exactly the allowed (member, role, resource) triples, no more, the Composer ones only when asked for', async () => {
    const policy = await loadPolicy('deploy/iam.yaml');
    expect(policy.bindings.map((b) => [b.member, b.role, b.resource])).toEqual(ALLOWED_GRANTS);
    expect(policy.bindings.map((b) => b.only_with)).toEqual(ONLY_WITH);
    expect(policy.service_accounts.map((a) => a.id)).toEqual(['cartlens-pipeline', 'cartlens-scheduler', 'cartlens-dashboard']);
  });

  it('applies the optional Composer grants only with --with, each on its exact resource', async () => {
    const policy = await loadPolicy('deploy/iam.yaml');
    const commands = (plan: string[]) => plan.filter((line) => !line.startsWith('#'));
    const base = planPolicy(policy);
    // By default (what deploy/deploy.sh applies) none of them: they are shown, commented out.
    expect(commands(base).filter((line) => /composer-environment|cartlens-extract|cartlens-publish|run jobs|dataform/.test(line))).toEqual([]);
    expect(base).toContain('# Optional grants not applied (commented out below): add --with cloud_run_job,composer,dataform,function (or the ones you use) to apply them.');
    expect(base.filter((line) => line.startsWith('# [only with --with '))).toHaveLength(6);
    expect(commands(base)).toEqual(commands(planPolicy({ ...policy, bindings: policy.bindings.filter((b) => !b.only_with) })));

    const functions = commands(planPolicy(policy, { with: ['composer', 'function', 'dataform'] }));
    expect(functions.slice(-4)).toEqual([
      'gcloud iam service-accounts add-iam-policy-binding cartlens-pipeline@my-store-analytics.iam.gserviceaccount.com --project=my-store-analytics --member=serviceAccount:composer-environment@my-store-analytics.iam.gserviceaccount.com --role=roles/iam.serviceAccountTokenCreator',
      'gcloud run services add-iam-policy-binding cartlens-daily --project=my-store-analytics --region=southamerica-east1 --member=serviceAccount:cartlens-pipeline@my-store-analytics.iam.gserviceaccount.com --role=roles/run.invoker',
      'gcloud run services add-iam-policy-binding cartlens-extract --project=my-store-analytics --region=southamerica-east1 --member=serviceAccount:cartlens-pipeline@my-store-analytics.iam.gserviceaccount.com --role=roles/run.invoker',
      'gcloud run services add-iam-policy-binding cartlens-publish --project=my-store-analytics --region=southamerica-east1 --member=serviceAccount:cartlens-pipeline@my-store-analytics.iam.gserviceaccount.com --role=roles/run.invoker',
    ]);
    // The Dataform repository is granted by hand (an instruction, never half a command).
    expect(planPolicy(policy, { with: ['composer', 'dataform'] })).toContain(
      "# Dataform repository cartlens (southamerica-east1): in the console, BigQuery → Dataform → the repository → Share, add serviceAccount:cartlens-pipeline@my-store-analytics.iam.gserviceaccount.com with the role roles/dataform.editor (or the Dataform API's projects.locations.repositories.setIamPolicy, read-modify-write)",
    );
    const job = commands(planPolicy(policy, { with: ['composer', 'cloud_run_job'] }));
    expect(job.slice(-2)).toEqual([
      'gcloud iam service-accounts add-iam-policy-binding cartlens-pipeline@my-store-analytics.iam.gserviceaccount.com --project=my-store-analytics --member=serviceAccount:composer-environment@my-store-analytics.iam.gserviceaccount.com --role=roles/iam.serviceAccountTokenCreator',
      'gcloud run jobs add-iam-policy-binding cartlens --project=my-store-analytics --region=southamerica-east1 --member=serviceAccount:cartlens-pipeline@my-store-analytics.iam.gserviceaccount.com --role=roles/run.jobsExecutorWithOverrides',
    ]);
    // Still no project-wide grant but the two job users.
    expect(planPolicy(policy, { with: ['composer', 'function', 'cloud_run_job', 'dataform'] }).filter((line) => line.startsWith('gcloud projects add-iam-policy-binding'))).toHaveLength(2);
    const misspelt = (() => {
      try {
        return planPolicy(policy, { with: ['composr'] });
      } catch (error) {
        return error as ConfigError;
      }
    })();
    expect(misspelt).toBeInstanceOf(ConfigError);
    expect((misspelt as ConfigError).oneLine).toBe("--with composr: not a feature of the policy's optional grants (only_with) — choose among cloud_run_job, composer, dataform, function");

    const cliPlan = await cli(['iam', 'plan', 'deploy/iam.yaml', '--with', 'composer,cloud_run_job']);
    expect(cliPlan.code).toBe(0);
    expect(cliPlan.stdout).toContain('\ngcloud run jobs add-iam-policy-binding cartlens ');
  });

  it('names every finding of a bad policy', async () => {
    const dir = await tempDir();
    const file = join(dir, 'bad.yaml');
    await writeFile(file, BAD);
    const findings = lintPolicy(await loadPolicy(file));
    expect(findings.map((f) => [f.at.split(' ')[0], f.rule])).toEqual([
      ['bindings[0]', 'primitive-role'],
      ['bindings[1]', 'public-member'],
      ['bindings[2]', 'project-storage-role'],
      ['bindings[2]', 'admin-role'],
      ['bindings[3]', 'admin-role'],
      ['bindings[4]', 'service-account-key'],
      ['bindings[5]', 'admin-role'], // an admin role on one dataset is still an admin role
      ['bindings[6]', 'primitive-role'],
      ['bindings[7]', 'admin-role'],
      ['bindings[8]', 'admin-role'],
      ['bindings[9]', 'admin-role'],
      ['bindings[10]', 'admin-role'],
      ['bindings[13]', 'impersonation-scope'], // a token creator on the project can act as every account
      ['bindings[14]', 'impersonation-scope'],
      ['service_accounts[0]', 'service-account-key'],
    ]);
    expect(findings.find((f) => f.at.startsWith('bindings[13]'))!.message).toMatch(/^roles\/iam\.serviceAccountTokenCreator on the whole project lets its holder act as every service account in it/);
    expect(findings.find((f) => f.at.startsWith('bindings[5]'))!.message).toMatch(/^roles\/bigquery\.admin administers dataset d1: grant the narrow role/);
    const lint = await cli(['iam', 'lint', file]);
    expect(lint.code).toBe(1);
    expect(lint.stdout).toContain(`${findings.length} finding(s)`);
    const plan = await cli(['iam', 'plan', file]);
    expect(plan.code).toBe(1);
    expect(plan.stdout).toBe('');
  });

  it('refuses project-wide storage roles and whole-domain members, naming the file, role and member', async () => {
    const dir = await tempDir();
    const file = join(dir, 'wide.yaml');
    await writeFile(
      file,
      `project: p1
bindings:
  - { member: "group:bi-readers@my-store.example", role: roles/storage.objectViewer, resource: { type: project } }
  - { member: "domain:my-store.example", role: roles/storage.objectViewer, resource: { type: bucket, name: b1, prefix: exports/ } }
  - { member: "domain:my-store.example", role: roles/bigquery.dataViewer, resource: { type: dataset, name: d1 } }
  - { member: "group:bi-readers@my-store.example", role: roles/storage.objectViewer, resource: { type: bucket, name: b1, prefix: exports/ } }
  - { member: "group:bi-readers@my-store.example", role: roles/bigquery.jobUser, resource: { type: project } }
`,
    );
    const findings = lintPolicy(await loadPolicy(file));
    expect(findings.map((f) => [f.at, f.rule])).toEqual([
      ['bindings[0] (group:bi-readers@my-store.example roles/storage.objectViewer)', 'project-storage-role'],
      ['bindings[1] (domain:my-store.example roles/storage.objectViewer)', 'public-member'],
      ['bindings[2] (domain:my-store.example roles/bigquery.dataViewer)', 'public-member'],
    ]);
    expect(findings[0]!.message).toMatch(/^roles\/storage\.objectViewer on the whole project reaches every bucket/);
    expect(findings[1]!.message).toMatch(/^domain:my-store\.example grants roles\/storage\.objectViewer to every account of the domain/);

    const lint = await cli(['iam', 'lint', file]);
    expect(lint.code).toBe(1);
    expect(lint.stdout.split('\n').slice(0, 3)).toEqual(findings.map((f) => `${file}: ${f.at}: ${f.rule}: ${f.message}`));
  });

  it('names the line and key of a malformed policy', async () => {
    const dir = await tempDir();
    const file = join(dir, 'odd.yaml');
    await writeFile(file, 'project: p1\nbindings:\n  - member: "someone"\n    role: roles/viewer\n    resource: { type: project }\n');
    await expect(loadPolicy(file)).rejects.toThrow(ConfigError);
    await expect(loadPolicy(file)).rejects.toThrow(/odd\.yaml:3: bindings\.0\.member/);
  });
});
