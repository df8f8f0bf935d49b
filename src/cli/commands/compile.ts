import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { parseDate } from '../../util/dates.js';
import { compilePlan, planRun } from '../../pipeline/plan.js';
import { CartlensError } from '../../util/errors.js';
import { DIALECT_NAMES, dialectFor } from '../../warehouse/index.js';

export function compileCommand(program: Command): void {
  program
    .command('compile')
    .description('print the SQL each model step and assertion runs for a date, without running it')
    .requiredOption('-c, --config <file>', 'the config file (YAML)')
    .requiredOption('--date <date>', 'the date (YYYY-MM-DD)')
    .option('--dialect <name>', "the warehouse whose SQL to print: duckdb or bigquery (default: the config's)")
    .action(async (options: { config: string; date: string; dialect?: string }) => {
      const plan = await planRun(await loadConfig(options.config));
      const name = options.dialect ?? plan.config.warehouse.type;
      if (!(DIALECT_NAMES as readonly string[]).includes(name)) throw new CartlensError(`--dialect ${name} is not a warehouse cartlens knows`, `use ${DIALECT_NAMES.join(' or ')}`);
      const dialect = dialectFor(plan.config.warehouse, name as (typeof DIALECT_NAMES)[number]);
      const compiled = compilePlan(plan, dialect, [parseDate(options.date, '--date')]);
      for (const step of compiled.models) process.stdout.write(`-- step: ${step.model} (${step.materialized})\n${step.statements.join(';\n')};\n\n`);
      for (const assertion of compiled.assertions) process.stdout.write(`-- assert: ${assertion.name} (returns the violating rows)\n${assertion.sql};\n\n`);
    });
}
