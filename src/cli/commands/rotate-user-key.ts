import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { formatRunTable } from '../../pipeline/report.js';
import { runPipeline } from '../../pipeline/run.js';
import { planRotation } from '../../pipeline/user-key.js';
import { createProgress } from '../progress.js';

export function rotateUserKeyCommand(program: Command): void {
  program
    .command('rotate-user-key')
    .description("change privacy.user_key_secret: republishes every published date with the config's key in one run, then records it (docs/operations.md)")
    .requiredOption('-c, --config <file>', 'the config file (YAML), with the new key')
    .option('--json', 'print the run report as JSON on stdout')
    .action(async (options: { config: string; json?: boolean }) => {
      const loaded = await loadConfig(options.config);
      const rotation = await planRotation(loaded);
      if (rotation.kind === 'unchanged') {
        process.stderr.write('the key is already the one every published date is keyed with: nothing to republish\n');
        return;
      }
      if (rotation.dates.length === 0) {
        process.stderr.write('no date is published yet: the next run records the key\n');
        return;
      }
      process.stderr.write(`rotate-user-key: republishing ${rotation.dates.length} published date(s) with the new key\n`);
      const report = await runPipeline({ loaded, dates: rotation.dates, rotateUserKey: true, progress: createProgress(process.stderr, options.json === true) });
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `\n${formatRunTable(report)}\n\n`);
      // The key is recorded with the run's commit; a date that failed to publish is redone by `run --due` with it.
      const unpublished = report.dates.filter((d) => d.status !== 'published').map((d) => d.date);
      if (unpublished.length > 0) {
        process.stderr.write(`error: ${unpublished.join(', ')} not republished with the new key — run \`cartlens run --due\` once their cause is fixed\n`);
        process.exitCode = 1;
      }
    });
}
