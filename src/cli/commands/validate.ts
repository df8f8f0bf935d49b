import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { PUBLISHED_TABLES, PUBLISHED_TABLE_NAMES } from '../../exports/published-tables.js';
import { planAssertions } from '../../models/assertions.js';
import { ModelGraphError } from '../../util/errors.js';
import { planModels, readModels } from '../../models/graph.js';

export function validateCommand(program: Command): void {
  program
    .command('validate')
    .description('check the config and the model graph without running anything')
    .requiredOption('-c, --config <file>', 'the config file (YAML)')
    .action(async (options: { config: string }) => {
      const { config } = await loadConfig(options.config);
      const plan = planModels(await readModels(), PUBLISHED_TABLE_NAMES);
      const { assertions, problems } = planAssertions(plan, PUBLISHED_TABLES, config.assertions);
      if (problems.length > 0) throw new ModelGraphError(problems);
      process.stdout.write(`config ${options.config}: ok\nmodels: ${plan.map((m) => m.name).join(' > ')}\nassertions: ${assertions.length}\n`);
    });
}
