import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { createExporter } from '../../exports/index.js';
import { parseDate } from '../../util/dates.js';
import { reconcile } from '../../pipeline/reconcile.js';
import { CartlensError } from '../../util/errors.js';
import { dialectFor, openWarehouse } from '../../warehouse/index.js';

export function reconcileCommand(program: Command): void {
  program
    .command('reconcile')
    .description("compare a day's export numbers with the Data API's, in the same warehouse")
    .requiredOption('-c, --config <file>', 'the config file (YAML) whose warehouse holds both')
    .requiredOption('--date <date>', 'the date (YYYY-MM-DD)')
    .option('--tolerance <share>', 'drift beyond this share is a warning', '0.02')
    .option('--json', 'print the reconciliation as JSON')
    .action(async (options: { config: string; date: string; tolerance: string; json?: boolean }) => {
      const tolerance = Number(options.tolerance);
      if (!(tolerance >= 0)) throw new CartlensError(`--tolerance ${options.tolerance} is not a share`, 'give a number such as 0.02');
      const { config } = await loadConfig(options.config);
      const date = parseDate(options.date, '--date');
      const warehouse = await openWarehouse(config.warehouse, dialectFor(config.warehouse));
      try {
        const result = await reconcile(warehouse, date, tolerance);
        await (await createExporter(config.export)).writeJson(join('run_report', `dt=${date}`, `reconcile_${date.replaceAll('-', '')}.json`), result);
        if (options.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else for (const d of result.drifts) process.stdout.write(`${d.measure.padEnd(18)} export ${String(d.export).padStart(12)}  api ${String(d.api).padStart(12)}  drift ${(d.drift * 100).toFixed(2).padStart(7)}%${d.beyond_tolerance ? '  ← beyond tolerance' : ''}\n`);
        for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
      } finally {
        await warehouse.close();
      }
    });
}
