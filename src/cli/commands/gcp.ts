import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { applyBucket, bucketFromConfig, readLiveBucket, rulesFromConfig } from '../../cloud/bucket/bucket-admin.js';
import { maximumLifetimeDays, planBucket } from '../../cloud/bucket/bucket-rules.js';
import { CartlensError } from '../../util/errors.js';

export function gcpCommand(program: Command): void {
  const gcp = program.command('gcp').description("Google Cloud resources as code: the export bucket's rules");
  for (const verb of ['plan', 'apply'] as const) {
    gcp
      .command(verb)
      .description(verb === 'plan' ? 'show what would change on the live bucket' : 'create the bucket or change it to match the config')
      .requiredOption('-c, --config <file>', 'the config file (YAML)')
      .action(async (options: { config: string }) => {
        const { config } = await loadConfig(options.config);
        if (config.export.type !== 'gcs') throw new CartlensError(`${options.config}: export.type is ${config.export.type}`, 'gcp plan/apply manage a Cloud Storage export: set export.type to gcs');
        const rules = rulesFromConfig(config.export);
        const bucket = bucketFromConfig(config.export);
        const changes = planBucket(rules, await readLiveBucket(bucket));
        for (const change of changes) {
          process.stdout.write(`${change.kind === 'create' ? '+' : change.kind === 'impossible' ? '!' : '~'} ${change.field}: ${JSON.stringify(change.from)} → ${JSON.stringify(change.to)}\n`);
        }
        if (changes.length === 0) process.stdout.write(`gs://${rules.bucket}: up to date\n`);
        process.stdout.write(`a published file lives at most ${maximumLifetimeDays(rules)} days (${rules.deleteAfterDays} + up to 1 for lifecycle + ${rules.softDeleteDays} soft-deleted)\n`);
        if (verb === 'apply' && changes.length > 0) {
          await applyBucket(bucket, rules, changes);
          process.stdout.write(`gs://${rules.bucket}: applied ${changes.length} change(s)\n`);
        }
      });
  }
}
