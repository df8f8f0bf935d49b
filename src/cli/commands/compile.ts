import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { PUBLISHED_TABLE_NAMES } from '../../exports/published-tables.js';
import { compileModels } from '../../models/compile.js';
import { planModels, readModels } from '../../models/graph.js';
import { DuckDbDialect } from '../../warehouse/duckdb/duckdb-dialect.js';
import { BigQueryDialect } from '../../warehouse/bigquery/bigquery-dialect.js';
import { CartlensError } from '../../util/errors.js';
import { parseDate } from '../../pipeline/dates.js';

export function compileCommand(program: Command): void {
  program
    .command('compile')
    .description('print the SQL each model step runs for a date, without running it')
    .requiredOption('-c, --config <file>', 'the config file (YAML)')
    .requiredOption('--date <date>', 'the date (YYYY-MM-DD)')
    .option('--dialect <name>', "the warehouse whose SQL to print: duckdb or bigquery (default: the config's)")
    .action(async (options: { config: string; date: string; dialect?: string }) => {
      const { config } = await loadConfig(options.config);
      const name = options.dialect ?? config.warehouse.type;
      const bq = config.warehouse.type === 'bigquery' ? config.warehouse : { project: 'PROJECT', staging_dataset: 'cartlens_staging', marts_dataset: 'cartlens_marts' };
      const dialect =
        name === 'duckdb'
          ? new DuckDbDialect()
          : name === 'bigquery'
            ? new BigQueryDialect({ staging: `${bq.project}.${bq.staging_dataset}`, marts: `${bq.project}.${bq.marts_dataset}`, published: PUBLISHED_TABLE_NAMES })
            : undefined;
      if (!dialect) throw new CartlensError(`--dialect ${name} is not a warehouse cartlens knows`, 'use duckdb or bigquery');
      const steps = compileModels(planModels(await readModels(), PUBLISHED_TABLE_NAMES), dialect, [parseDate(options.date, '--date')]);
      for (const step of steps) process.stdout.write(`-- step: ${step.model} (${step.materialized})\n${step.statements.join(';\n')};\n\n`);
    });
}
