import type { IamPolicy } from './policy.js';

export interface Finding {
  /** Where, as a path into the policy: `bindings[3]`. */
  at: string;
  rule: 'primitive-role' | 'public-member' | 'project-storage-role' | 'admin-role' | 'service-account-key' | 'impersonation-scope';
  message: string;
}

const PRIMITIVE_ROLES = new Set(['roles/owner', 'roles/editor', 'roles/viewer']);
const PUBLIC_MEMBERS = new Set(['allUsers', 'allAuthenticatedUsers']);
/**
 * Cloud Storage roles reach every bucket of what they are granted on: on the project, the landed
 * raw pages (`_raw/`) and every other bucket too. Readers get the export bucket, or its prefix.
 */
const STORAGE_ROLE = /^roles\/storage\./;
/** Roles that create or manage service-account keys. */
const KEY_ROLES = new Set(['roles/iam.serviceAccountKeyAdmin']);
/**
 * Roles that administer what they are granted on, wherever that is: `roles/<service>.admin`,
 * any `…Admin` role (`storage.objectAdmin`, `iam.securityAdmin`…), BigQuery's `dataOwner`
 * (grants access to the dataset), and GA4's Administrator and Editor. cartlens never needs one:
 * an admin grant on a single dataset still lets its holder share that dataset with anyone.
 */
const ADMIN_ROLE = /^roles\/[A-Za-z0-9]+\.(?:admin|[A-Za-z0-9]*Admin|dataOwner)$|^(?:Administrator|Editor)$/;
/**
 * Roles that let their holder act as a service account (mint its tokens, attach it). Granted on the
 * project or anything above one account, they reach every service account there, and so every
 * permission any of them holds: only ever on one service account.
 */
const IMPERSONATION_ROLES = new Set(['roles/iam.serviceAccountTokenCreator', 'roles/iam.serviceAccountOpenIdTokenCreator', 'roles/iam.serviceAccountUser', 'roles/iam.workloadIdentityUser']);

/**
 * The least-privilege rules a cartlens policy must pass: no primitive roles, no public or
 * whole-domain members, no Cloud Storage role on the project, no admin role on any resource,
 * impersonation only of one named service account, and no service-account keys (runtime code uses
 * Application Default Credentials).
 */
export function lintPolicy(policy: IamPolicy): Finding[] {
  const findings: Finding[] = [];
  policy.bindings.forEach((binding, i) => {
    const at = `bindings[${i}] (${binding.member} ${binding.role})`;
    if (PRIMITIVE_ROLES.has(binding.role)) {
      findings.push({ at, rule: 'primitive-role', message: `${binding.role} is a primitive role: grant a predefined role on the exact resource instead` });
    }
    if (PUBLIC_MEMBERS.has(binding.member)) {
      findings.push({ at, rule: 'public-member', message: `${binding.member} makes the resource public` });
    } else if (binding.member.startsWith('domain:')) {
      findings.push({ at, rule: 'public-member', message: `${binding.member} grants ${binding.role} to every account of the domain: grant it to a group of the people who need it` });
    }
    if (STORAGE_ROLE.test(binding.role) && binding.resource.type === 'project') {
      findings.push({ at, rule: 'project-storage-role', message: `${binding.role} on the whole project reaches every bucket and object in it: grant it on the export bucket (type bucket, with the prefix readers need)` });
    }
    if (KEY_ROLES.has(binding.role)) {
      findings.push({ at, rule: 'service-account-key', message: `${binding.role} manages service-account keys: use Application Default Credentials` });
    } else if (IMPERSONATION_ROLES.has(binding.role) && binding.resource.type !== 'service_account') {
      const where = binding.resource.type === 'project' ? 'the whole project lets its holder act as every service account in it' : `${binding.resource.type} ${binding.resource.name} is not a service account`;
      findings.push({ at, rule: 'impersonation-scope', message: `${binding.role} on ${where}: grant it on the one service account it is for (resource type service_account)` });
    } else if (ADMIN_ROLE.test(binding.role)) {
      const where = binding.resource.type === 'project' ? 'the whole project' : `${binding.resource.type} ${binding.resource.name}`;
      findings.push({ at, rule: 'admin-role', message: `${binding.role} administers ${where}: grant the narrow role the job needs (dataEditor, objectUser, jobUser…)` });
    }
  });
  policy.service_accounts.forEach((account, i) => {
    if (account.keys !== undefined) {
      findings.push({ at: `service_accounts[${i}] (${account.id})`, rule: 'service-account-key', message: 'declares keys: long-lived keys are not allowed, use Application Default Credentials' });
    }
  });
  return findings;
}
