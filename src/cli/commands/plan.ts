import { Option, type Command } from 'commander';
import { withDateOptions } from '../date-options.js';
import { loadConfig } from '../../config/load.js';
import { datesFromOptions } from '../../util/dates.js';
import { planRun } from '../../pipeline/plan.js';
import type { RunMode } from '../../pipeline/staged-input.js';
import { BigQueryWarehouse } from '../../warehouse/bigquery/bigquery-warehouse.js';
import { formatBytes } from '../progress.js';

export function planCommand(program: Command): void {
  withDateOptions(program.command('plan'))
    .description('print the ordered steps of a run without running them (--dry-run: what BigQuery would scan)')
    .requiredOption('-c, --config <file>', 'the config file (YAML)')
    .option('--due', 'plan the scheduled run: the due dates')
    .addOption(new Option('--mode <mode>', 'the run to plan: run, publish (`cartlens publish`) or extract (`cartlens extract`)').choices(['run', 'publish', 'extract']).default('run'))
    .option('--dry-run', 'with the bigquery warehouse: price the read of the export with a dry run (free)')
    .action(async (options: { config: string; date?: string; from?: string; to?: string; due?: boolean; mode: RunMode; dryRun?: boolean }) => {
      const dates = datesFromOptions(options);
      // The very steps `run` executes (and records in its report's `steps`), in order.
      const plan = await planRun(await loadConfig(options.config), { mode: options.mode, dates, due: options.due === true && !dates });
      const { config, source } = plan;
      const which = dates ? dates.join(', ') : options.due ? 'the due dates' : source.kind === 'ga4-data-api' ? 'the lookback window' : 'every date in the input';
      process.stdout.write(`plan (${plan.mode}) for ${which} on ${config.warehouse.type}:\n`);
      plan.steps.forEach(({ name, what }, i) => process.stdout.write(`${String(i + 1).padStart(3)}. ${name.padEnd(Math.max(10, ...plan.steps.map((s) => s.name.length)))}  ${what}\n`));
      if (!options.dryRun) return;
      if (config.warehouse.type !== 'bigquery' || source.kind !== 'bigquery-export') {
        process.stdout.write('dry run: nothing is billed on this warehouse\n');
        return;
      }
      const warehouse = await BigQueryWarehouse.open({
        project: config.warehouse.project,
        location: config.warehouse.location,
        stagingDataset: config.warehouse.staging_dataset,
        martsDataset: config.warehouse.marts_dataset,
        maximumBytesBilled: config.warehouse.maximum_bytes_billed,
        ...(config.warehouse.api_endpoint ? { apiEndpoint: config.warehouse.api_endpoint } : {}),
      }, plan.dialect);
      const bytes = await warehouse.dryRunExportRead(source, dates);
      process.stdout.write(
        `dry run: reading the export would process ${formatBytes(bytes)} (${bytes} bytes); the cost guard stops any query over ${formatBytes(config.warehouse.maximum_bytes_billed)}. The other steps read the run's own small tables.\n`,
      );
    });
}
