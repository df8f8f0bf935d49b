import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { PUBLISHED_TABLE_NAMES } from '../../exports/published-tables.js';
import { compileModels } from '../../models/compile.js';
import { planModels, readModels } from '../../models/graph.js';
import { DuckDbDialect } from '../../warehouse/duckdb/duckdb-dialect.js';
import { parseDate } from '../dates.js';

export function compileCommand(program: Command): void {
  program
    .command('compile')
    .description('print the SQL each model step runs for a date, without running it')
    .requiredOption('-c, --config <file>', 'the config file (YAML)')
    .requiredOption('--date <date>', 'the date (YYYY-MM-DD)')
    .action(async (options: { config: string; date: string }) => {
      const { config } = await loadConfig(options.config);
      const dialect = { duckdb: new DuckDbDialect() }[config.warehouse.type];
      const steps = compileModels(planModels(await readModels(), PUBLISHED_TABLE_NAMES), dialect, [parseDate(options.date, '--date')]);
      for (const step of steps) process.stdout.write(`-- step: ${step.model} (${step.materialized})\n${step.statements.join(';\n')};\n\n`);
    });
}
