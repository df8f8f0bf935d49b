import type { Command } from 'commander';
import { withDateOptions } from '../date-options.js';
import { loadConfig } from '../../config/load.js';
import { datesFromOptions } from '../../util/dates.js';
import { formatRunTable } from '../../pipeline/report.js';
import { outcomeOf } from '../../pipeline/outcome.js';
import { runPipeline } from '../../pipeline/run.js';
import { CartlensError } from '../../util/errors.js';
import { createProgress } from '../progress.js';

export function publishCommand(program: Command): void {
  withDateOptions(program.command('publish'))
    .description('publish the files, manifests and reports of tables built outside the run (Dataform): blocking assertions first')
    .requiredOption('-c, --config <file>', 'the config file (YAML)')
    .option('--json', 'print the run report as JSON on stdout')
    .action(async (options: { config: string; date?: string; from?: string; to?: string; json?: boolean }) => {
      const dates = datesFromOptions(options);
      if (!dates) throw new CartlensError('publish needs the dates to publish', 'give --date D, or --from D --to D');
      const report = await runPipeline({ loaded: await loadConfig(options.config), dates, mode: 'publish', progress: createProgress(process.stderr, options.json === true) });
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `\n${formatRunTable(report)}\n\nCSV files: ${report.export_root}/<table>/dt=<date>/\n`);
      for (const d of report.dates) {
        for (const f of d.assertion_failures.filter((a) => a.blocking)) process.stderr.write(`error: ${d.date}: assertion ${f.assertion} failed on ${f.failing_rows} row(s) — the date's files were withheld\n`);
      }
      if (report.missing_dates.length > 0) process.stderr.write(`error: nothing built for ${report.missing_dates.join(', ')} — build those dates first\n`);
      process.exitCode = outcomeOf(report, { named: true, mode: 'publish' }).exitCode;
    });
}
