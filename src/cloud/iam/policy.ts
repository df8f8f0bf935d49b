import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../util/errors.js';

const name = z.string().regex(/^[A-Za-z0-9._:/@-]+$/, 'letters, digits and . _ : / @ - only');

const resource = z.discriminatedUnion('type', [
  z.object({ type: z.literal('project') }).strict(),
  z.object({ type: z.literal('dataset'), name }).strict(),
  /** One BigQuery table: for a reader that must not see the rest of its dataset. */
  z.object({ type: z.literal('table'), dataset: name, name }).strict(),
  z.object({ type: z.literal('bucket'), name, prefix: z.string().regex(/^[^'"\\]*$/).optional() }).strict(),
  z.object({ type: z.literal('secret'), name }).strict(),
  z.object({ type: z.literal('run_service'), name }).strict(),
  /** A Cloud Run job (the cartlens container run by Composer with `runner: cloud_run_job`). */
  z.object({ type: z.literal('run_job'), name }).strict(),
  /** A service account of the policy's project, by its id (or its e-mail): who may act as it. */
  z.object({ type: z.literal('service_account'), name }).strict(),
  /** A Dataform repository; its region defaults to the policy's. */
  z.object({ type: z.literal('dataform_repository'), name, region: name.optional() }).strict(),
  z.object({ type: z.literal('ga4_property'), name: z.string().regex(/^properties\/\d+$/, 'properties/<number>') }).strict(),
]);

export const policySchema = z
  .object({
    project: name,
    region: name.default('southamerica-east1'),
    service_accounts: z
      .array(
        z
          .object({
            id: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'a service-account id: 6–30 lowercase letters, digits and hyphens'),
            display_name: z.string().default(''),
            /** Present only to be refused by the lint: keys are long-lived secrets. */
            keys: z.unknown().optional(),
          })
          .strict(),
      )
      .default([]),
    bindings: z.array(
      z
        .object({
          member: z.string().regex(/^(user|serviceAccount|group|domain):[^\s'"]+$|^allUsers$|^allAuthenticatedUsers$/, 'user:, serviceAccount:, group: or domain: then an identity'),
          role: z.string().min(1),
          resource,
          why: z.string().optional(),
          /**
           * Applied only when every feature named is chosen (`cartlens iam plan --with a,b`), e.g.
           * `[composer, dataform]`: a grant for a way of running cartlens that not every store uses.
           */
          only_with: z.array(z.string().regex(/^[a-z][a-z_]*$/, 'a feature: lowercase letters and _')).min(1).optional(),
        })
        .strict(),
    ),
  })
  .strict();

export type IamPolicy = z.infer<typeof policySchema>;
export type IamBinding = IamPolicy['bindings'][number];

/** Every feature the policy's optional grants name (`only_with`), sorted. */
export function policyFeatures(policy: IamPolicy): string[] {
  return [...new Set(policy.bindings.flatMap((b) => b.only_with ?? []))].sort();
}

/** Reads and checks a policy file; errors name the file, the line and the key. */
export async function loadPolicy(file: string): Promise<IamPolicy> {
  const text = await readFile(file, 'utf8').catch((error: unknown) => {
    throw new ConfigError(`${file}: cannot read the policy file`, 'check the path', false, { cause: error });
  });
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  if (doc.errors.length > 0) throw new ConfigError(`${file}: invalid YAML: ${doc.errors[0]!.message.split('\n')[0]}`, 'fix the YAML syntax');
  const parsed = policySchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
      const at = node?.range ? `${file}:${lines.linePos(node.range[0]).line}` : file;
      return `${at}: ${path.join('.') || '(top level)'}: ${issue.message}`;
    });
    throw new ConfigError(problems.join('; '), 'fix the policy file (see deploy/iam.yaml)');
  }
  return parsed.data;
}
