import type { Command } from 'commander';
import { lintPolicy } from '../../cloud/iam/lint.js';
import { planPolicy } from '../../cloud/iam/plan.js';
import { loadPolicy } from '../../cloud/iam/policy.js';

export function iamCommand(program: Command): void {
  const iam = program.command('iam').description('permissions as code: check and apply deploy/iam.yaml');
  iam
    .command('lint')
    .description('fail on primitive roles, public members, admin roles on any resource and service-account keys')
    .argument('<file>', 'the policy file')
    .action(async (file: string) => {
      const findings = lintPolicy(await loadPolicy(file));
      for (const f of findings) process.stdout.write(`${file}: ${f.at}: ${f.rule}: ${f.message}\n`);
      process.stdout.write(findings.length === 0 ? `${file}: no findings\n` : `${findings.length} finding(s)\n`);
      if (findings.length > 0) process.exitCode = 1;
    });
  iam
    .command('plan')
    .description('print the gcloud and bq commands that apply the policy (refuses a policy that fails the lint)')
    .argument('<file>', 'the policy file')
    .option('--with <features>', 'also apply the optional grants of these features (comma-separated, e.g. composer,function,dataform)')
    .action(async (file: string, options: { with?: string }) => {
      const policy = await loadPolicy(file);
      const findings = lintPolicy(policy);
      if (findings.length > 0) {
        for (const f of findings) process.stderr.write(`${file}: ${f.at}: ${f.rule}: ${f.message}\n`);
        process.stderr.write('error: the policy fails the lint — fix it before applying\n');
        process.exitCode = 1;
        return;
      }
      const features = (options.with ?? '').split(',').map((f) => f.trim()).filter((f) => f !== '');
      process.stdout.write(`${planPolicy(policy, { with: features }).join('\n')}\n`);
    });
}
