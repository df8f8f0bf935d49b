import type { IamBinding, IamPolicy } from './policy.js';

/**
 * The commands that apply a policy, in order: create the service accounts, then add each
 * binding on its exact resource. Adding a binding that exists is a no-op, so the plan can be run
 * again. Bindings outside IAM (GA4 property access) come out as instructions in comments.
 */
export function planPolicy(policy: IamPolicy): string[] {
  const lines: string[] = ['#!/usr/bin/env bash', 'set -euo pipefail', `# cartlens IAM for project ${policy.project}`];
  for (const account of policy.service_accounts) {
    lines.push(
      `gcloud iam service-accounts describe ${q(`${account.id}@${policy.project}.iam.gserviceaccount.com`)} --project=${q(policy.project)} >/dev/null 2>&1 || ` +
        `gcloud iam service-accounts create ${q(account.id)} --project=${q(policy.project)} --display-name=${q(account.display_name)}`,
    );
  }
  for (const binding of policy.bindings) {
    if (binding.why) lines.push(`# ${binding.why.replaceAll('\n', ' ')}`);
    lines.push(commandFor(policy, binding));
  }
  return lines;
}

function commandFor(policy: IamPolicy, binding: IamBinding): string {
  const grant = `--member=${q(binding.member)} --role=${q(binding.role)}`;
  const { resource } = binding;
  switch (resource.type) {
    case 'project':
      return `gcloud projects add-iam-policy-binding ${q(policy.project)} ${grant} --condition=None`;
    case 'dataset':
      return `bq add-iam-policy-binding ${grant} ${q(`${policy.project}:${resource.name}`)}`;
    case 'table': {
      // Table-level access is granted with BigQuery's GRANT statement (table ACL). The table must
      // exist: the pipeline's first run creates it, so until then the grant waits for the next plan.
      const table = `${policy.project}.${resource.dataset}.${resource.name}`;
      const grantSql = `GRANT \`${binding.role}\` ON TABLE \`${table}\` TO "${binding.member}"`;
      return `bq query --project_id=${q(policy.project)} --nouse_legacy_sql ${q(grantSql)} || echo ${q(`${table} is not there yet (the first run creates it): run this plan again after it`)}`;
    }
    case 'bucket': {
      const condition = resource.prefix
        ? ` --condition=${q(`expression=resource.name.startsWith("projects/_/buckets/${resource.name}/objects/${resource.prefix}"),title=prefix ${resource.prefix}`)}`
        : '';
      return `gcloud storage buckets add-iam-policy-binding ${q(`gs://${resource.name}`)} ${grant}${condition}`;
    }
    case 'secret':
      return `gcloud secrets add-iam-policy-binding ${q(resource.name)} --project=${q(policy.project)} ${grant}`;
    case 'run_service':
      return `gcloud run services add-iam-policy-binding ${q(resource.name)} --project=${q(policy.project)} --region=${q(policy.region)} ${grant}`;
    case 'ga4_property':
      return `# GA4 is not IAM: in Google Analytics, Admin → Property access management of ${resource.name}, add ${binding.member.replace(/^\w+:/, '')} with the role ${binding.role}`;
    default: {
      const unknown: never = resource;
      throw new Error(`unknown resource type ${(unknown as { type: string }).type}`);
    }
  }
}

/** Quotes a value for a POSIX shell. */
function q(value: string): string {
  return /^[A-Za-z0-9_./:@=-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}
