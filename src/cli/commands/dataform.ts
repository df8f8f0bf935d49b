import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { dataformRepository } from '../../dataform/repository.js';
import { writeRepository } from '../../dataform/write.js';
import { planRun } from '../../pipeline/plan.js';

export function dataformCommand(program: Command): void {
  program
    .command('dataform')
    .description('write the Dataform repository of a BigQuery config: the same models, staging SQL and blocking assertions as `run`')
    .requiredOption('-c, --config <file>', 'the config file (YAML)')
    .requiredOption('--out <dir>', 'the folder to write the repository into (replaces its definitions/ and includes/)')
    .action(async (options: { config: string; out: string }) => {
      const plan = await planRun(await loadConfig(options.config));
      const repository = dataformRepository(plan);
      await writeRepository(repository, options.out);
      const count = (type: string) => repository.actions.filter((a) => a.type === type).length;
      process.stdout.write(
        `wrote ${repository.files.size} files to ${options.out}: ${count('operations')} staging actions, ${count('table') + count('incremental')} models, ${count('assertion')} SQL assertions (plus built-in ones)\n` +
          'compile: dataform compile --vars=user_key_secret=...,run_date=YYYY-MM-DD (run_date defaults to yesterday)\n',
      );
    });
}
