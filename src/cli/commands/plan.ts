import type { Command } from 'commander';
import { withDateOptions } from '../date-options.js';
import { loadConfig } from '../../config/load.js';
import { PUBLISHED_TABLES, PUBLISHED_TABLE_NAMES } from '../../exports/published-tables.js';
import { planAssertions } from '../../models/assertions.js';
import { planModels, readModels } from '../../models/graph.js';
import { datesFromOptions } from '../../pipeline/dates.js';
import { createSource } from '../../sources/index.js';
import { BigQueryWarehouse } from '../../warehouse/bigquery/bigquery-warehouse.js';
import { formatBytes } from '../progress.js';

export function planCommand(program: Command): void {
  withDateOptions(program.command('plan'))
    .description('print the ordered steps of a run without running them (--dry-run: what BigQuery would scan)')
    .requiredOption('-c, --config <file>', 'the config file (YAML)')
    .option('--dry-run', 'with the bigquery warehouse: price the read of the export with a dry run (free)')
    .action(async (options: { config: string; date?: string; from?: string; to?: string; dryRun?: boolean }) => {
      const dates = datesFromOptions(options);
      const { config, baseDir } = await loadConfig(options.config);
      const source = createSource(config.source, baseDir);
      const models = planModels(await readModels(), PUBLISHED_TABLE_NAMES);
      const exportRoot = config.export.type === 'local' ? config.export.dir : `gs://${config.export.bucket}/${config.export.prefix}`;
      const steps: [string, string][] = [
        ['extract', source.description],
        ...(source.kind === 'files' ? ([['land', `unchanged, content-addressed, into ${config.landing.dir}/objects`]] as [string, string][]) : []),
        ['clean', 'dedupe identical lines, quarantine with reasons, sessions (the contract\'s rules)'],
        ['load', 'stg_events, stg_event_items, quarantined_events, quality_daily — the run\'s dates, in one transaction'],
        ...models.map((m): [string, string] => ['model', `${m.name} (${m.materialized}) ← ${m.dependsOn.join(', ')}`]),
        ...planAssertions(models, PUBLISHED_TABLES, config.assertions).assertions.map((a): [string, string] => ['assert', `${a.name} (${a.severity}${a.blocking ? ', blocks the export' : ''}): ${a.kind} ${a.args}`]),
        ['export', `${PUBLISHED_TABLE_NAMES.join(', ')} → ${exportRoot}, after the commit, for dates whose blocking assertions passed`],
      ];
      process.stdout.write(`plan for ${dates ? dates.join(', ') : 'every date in the input'} on ${config.warehouse.type}:\n`);
      steps.forEach(([kind, what], i) => process.stdout.write(`${String(i + 1).padStart(3)}. ${kind.padEnd(7)} ${what}\n`));
      if (!options.dryRun) return;
      if (config.warehouse.type !== 'bigquery' || source.kind !== 'bigquery-export') {
        process.stdout.write('dry run: nothing is billed on this warehouse\n');
        return;
      }
      const warehouse = BigQueryWarehouse.open({
        project: config.warehouse.project,
        location: config.warehouse.location,
        stagingDataset: config.warehouse.staging_dataset,
        martsDataset: config.warehouse.marts_dataset,
        maximumBytesBilled: config.warehouse.maximum_bytes_billed,
        ...(config.warehouse.api_endpoint ? { apiEndpoint: config.warehouse.api_endpoint } : {}),
      });
      const bytes = await warehouse.dryRunExportRead(source, dates);
      process.stdout.write(
        `dry run: reading the export would process ${formatBytes(bytes)} (${bytes} bytes); the cost guard stops any query over ${formatBytes(config.warehouse.maximum_bytes_billed)}. The other steps read the run's own small tables.\n`,
      );
    });
}
