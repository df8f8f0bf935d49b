import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { maximumLifetimeDays, planBucket } from '../../cloud/bucket/bucket-rules.js';
import { CartlensError } from '../../util/errors.js';

export function gcpCommand(program: Command): void {
  const gcp = program.command('gcp').description("Google Cloud resources as code: the export bucket's rules and the warehouse's datasets");
  for (const verb of ['plan', 'apply'] as const) {
    gcp
      .command(verb)
      .description(verb === 'plan' ? 'show what would change on the live bucket' : 'create the bucket or change it to match the config')
      .requiredOption('-c, --config <file>', 'the config file (YAML)')
      .action(async (options: { config: string }) => {
        const { config } = await loadConfig(options.config);
        if (config.export.type !== 'gcs') throw new CartlensError(`${options.config}: export.type is ${config.export.type}`, 'gcp plan/apply manage a Cloud Storage export: set export.type to gcs');
        // Google's client libraries load only for this command, not with every cartlens command.
        const [{ applyBucket, bucketFromConfig, readLiveBucket, rulesFromConfig }, { applyDatasets, planDatasets }, { BigQuery }] = await Promise.all([
          import('../../cloud/bucket/bucket-admin.js'),
          import('../../cloud/datasets/datasets.js'),
          import('@google-cloud/bigquery'),
        ]);
        const rules = rulesFromConfig(config.export, config.retention.landed_days);
        const bucket = bucketFromConfig(config.export);
        const changes = planBucket(rules, await readLiveBucket(bucket));
        for (const change of changes) {
          process.stdout.write(`${change.kind === 'create' ? '+' : change.kind === 'impossible' ? '!' : '~'} ${change.field}: ${JSON.stringify(change.from)} → ${JSON.stringify(change.to)}\n`);
        }
        if (changes.length === 0) process.stdout.write(`gs://${rules.bucket}: up to date\n`);
        process.stdout.write(`a published file lives at most ${maximumLifetimeDays(rules)} days (${rules.deleteAfterDays} + up to 1 for lifecycle + ${rules.softDeleteDays} soft-deleted)\n`);
        const warehouse = config.warehouse.type === 'bigquery' ? config.warehouse : undefined;
        const bigquery = warehouse && new BigQuery({ projectId: warehouse.project, ...(warehouse.api_endpoint ? { apiEndpoint: warehouse.api_endpoint } : {}) });
        const datasetChanges = warehouse && bigquery ? await planDatasets(bigquery, [warehouse.staging_dataset, warehouse.marts_dataset], warehouse.location) : [];
        for (const change of datasetChanges) {
          process.stdout.write(change.kind === 'create' ? `+ dataset ${change.dataset} in ${change.to}\n` : `! dataset ${change.dataset}: location ${change.from} → ${change.to}\n`);
        }
        // Nothing is applied when anything cannot be: a half-applied plan is worse than none.
        if (verb === 'apply' && datasetChanges.some((c) => c.kind === 'impossible') && bigquery) await applyDatasets(bigquery, datasetChanges);
        if (verb === 'apply' && changes.length > 0) {
          await applyBucket(bucket, rules, changes);
          process.stdout.write(`gs://${rules.bucket}: applied ${changes.length} change(s)\n`);
        }
        if (verb === 'apply' && bigquery && datasetChanges.length > 0) {
          await applyDatasets(bigquery, datasetChanges);
          process.stdout.write(`datasets: applied ${datasetChanges.length} change(s)\n`);
        }
      });
  }
}
