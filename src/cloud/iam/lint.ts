import type { IamPolicy } from './policy.js';

export interface Finding {
  /** Where, as a path into the policy: `bindings[3]`. */
  at: string;
  rule: 'primitive-role' | 'public-member' | 'project-wide-admin' | 'service-account-key';
  message: string;
}

const PRIMITIVE_ROLES = new Set(['roles/owner', 'roles/editor', 'roles/viewer']);
const PUBLIC_MEMBERS = new Set(['allUsers', 'allAuthenticatedUsers']);
/** Roles that create or manage service-account keys. */
const KEY_ROLES = new Set(['roles/iam.serviceAccountKeyAdmin']);

/**
 * The least-privilege rules a cartlens policy must pass: no primitive roles, no public members,
 * no storage or BigQuery admin across the whole project, and no service-account keys (runtime
 * code uses Application Default Credentials).
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
    }
    if (binding.resource.type === 'project' && /^roles\/(storage|bigquery)\.(admin|objectAdmin|dataOwner)$/.test(binding.role)) {
      findings.push({ at, rule: 'project-wide-admin', message: `${binding.role} on the whole project: grant it on the bucket or dataset that needs it` });
    }
    if (KEY_ROLES.has(binding.role)) {
      findings.push({ at, rule: 'service-account-key', message: `${binding.role} manages service-account keys: use Application Default Credentials` });
    }
  });
  policy.service_accounts.forEach((account, i) => {
    if (account.keys !== undefined) {
      findings.push({ at: `service_accounts[${i}] (${account.id})`, rule: 'service-account-key', message: 'declares keys: long-lived keys are not allowed, use Application Default Credentials' });
    }
  });
  return findings;
}
