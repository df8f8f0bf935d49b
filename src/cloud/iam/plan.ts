import { ConfigError } from '../../util/errors.js';
import { policyFeatures, type IamBinding, type IamPolicy } from './policy.js';

export interface PlanOptions {
  /** The features whose optional grants (`only_with`) are applied, e.g. `['composer', 'dataform']`. */
  with?: readonly string[];
}

/**
 * The commands that apply a policy, in order: create the service accounts, then add each
 * binding on its exact resource. Adding a binding that exists is a no-op, so the plan can be run
 * again. Bindings outside IAM (GA4 property access, Dataform repositories) come out as instructions
 * in comments. An optional grant (`only_with`) is applied only when every feature it names is
 * chosen; otherwise it is printed as a comment, so the plan still shows it.
 */
export function planPolicy(policy: IamPolicy, options: PlanOptions = {}): string[] {
  const known = policyFeatures(policy);
  const chosen = new Set(options.with ?? []);
  const unknown = [...chosen].filter((feature) => !known.includes(feature));
  if (unknown.length > 0) {
    throw new ConfigError(`--with ${unknown.join(',')}: not a feature of the policy's optional grants (only_with)`, known.length > 0 ? `choose among ${known.join(', ')}` : 'leave --with out: the policy has no optional grant');
  }
  const lines: string[] = ['#!/usr/bin/env bash', 'set -euo pipefail', `# cartlens IAM for project ${policy.project}`];
  const skipped = known.filter((feature) => !chosen.has(feature));
  if (skipped.length > 0) lines.push(`# Optional grants not applied (commented out below): add --with ${skipped.join(',')} (or the ones you use) to apply them.`);
  for (const account of policy.service_accounts) {
    lines.push(
      `gcloud iam service-accounts describe ${q(`${account.id}@${policy.project}.iam.gserviceaccount.com`)} --project=${q(policy.project)} >/dev/null 2>&1 || ` +
        `gcloud iam service-accounts create ${q(account.id)} --project=${q(policy.project)} --display-name=${q(account.display_name)}`,
    );
  }
  for (const binding of policy.bindings) {
    if (binding.why) lines.push(`# ${binding.why.replaceAll('\n', ' ')}`);
    const needs = binding.only_with ?? [];
    const command = commandFor(policy, binding);
    lines.push(needs.every((feature) => chosen.has(feature)) ? command : `# [only with --with ${needs.join(',')}] ${command.replace(/^# /, '')}`);
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
    case 'run_job':
      return `gcloud run jobs add-iam-policy-binding ${q(resource.name)} --project=${q(policy.project)} --region=${q(policy.region)} ${grant}`;
    case 'service_account': {
      const email = resource.name.includes('@') ? resource.name : `${resource.name}@${policy.project}.iam.gserviceaccount.com`;
      return `gcloud iam service-accounts add-iam-policy-binding ${q(email)} --project=${q(policy.project)} ${grant}`;
    }
    case 'dataform_repository':
      // No gcloud command is known to grant on one repository, and the API's setIamPolicy replaces the
      // whole policy (read, modify, write): an instruction, as for GA4, rather than a risky one-liner.
      return `# Dataform repository ${resource.name} (${resource.region ?? policy.region}): in the console, BigQuery → Dataform → the repository → Share, add ${binding.member} with the role ${binding.role} (or the Dataform API's projects.locations.repositories.setIamPolicy, read-modify-write)`;
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
