import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { planRun } from '../../pipeline/plan.js';

export function validateCommand(program: Command): void {
  program
    .command('validate')
    .description('check the config and the run plan (model graph, assertions) without running anything')
    .requiredOption('-c, --config <file>', 'the config file (YAML)')
    .action(async (options: { config: string }) => {
      // The same plan a run executes: its graph and assertion problems are collected, then thrown together.
      const plan = await planRun(await loadConfig(options.config));
      process.stdout.write(`config ${options.config}: ok\nsource: ${plan.source.description}\nmodels: ${plan.models.map((m) => m.name).join(' > ')}\nassertions: ${plan.assertions.length}\npublishes: ${plan.outputs.tables.map((t) => t.name).join(', ')}\n`);
    });
}
