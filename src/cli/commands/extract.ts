import type { Command } from 'commander';
import { withDateOptions } from '../date-options.js';
import { loadConfig } from '../../config/load.js';
import { datesFromOptions } from '../../util/dates.js';
import { outcomeOf } from '../../pipeline/outcome.js';
import { runPipeline } from '../../pipeline/run.js';
import { CartlensError } from '../../util/errors.js';
import { createProgress } from '../progress.js';

export function extractCommand(program: Command): void {
  withDateOptions(program.command('extract'))
    .description("extract and load the source's raw data for Dataform to build on (BigQuery): no model, no assertion, nothing published")
    .requiredOption('-c, --config <file>', 'the config file (YAML)')
    .option('--json', 'print the run report as JSON on stdout')
    .action(async (options: { config: string; date?: string; from?: string; to?: string; json?: boolean }) => {
      const dates = datesFromOptions(options);
      if (!dates) throw new CartlensError('extract needs the dates to extract', 'give --date D, or --from D --to D');
      // Nothing is modelled, so the user_key secret is never read: it need not be set here.
      const report = await runPipeline({ loaded: await loadConfig(options.config, process.env, { withoutUserKeySecret: true }), dates, mode: 'extract', progress: createProgress(process.stderr, options.json === true) });
      const ready = report.ready_dates ?? [];
      if (options.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        const lines = [
          ...ready.map((date) => `${date}  ready`),
          ...report.settled_dates.map((date) => `${date}  ready (fetched before, already final)`),
          ...report.deferred_dates.map(({ date, reason }) => `${date}  deferred: ${reason}`),
          ...report.missing_dates.map((date) => `${date}  not ready`),
        ].sort();
        process.stdout.write(`\n${lines.join('\n')}\n\n${report.tokens_spent !== undefined ? `${report.tokens_spent} Data API quota tokens spent\n` : ''}Nothing was modelled or published: build the tables (Dataform), then \`cartlens publish\`.\n`);
      }
      if (report.deferred_dates.length > 0) {
        process.stderr.write(`warning: ${report.deferred_dates[0]!.reason}: ${report.deferred_dates.map((d) => d.date).join(', ')} deferred; the next run fetches them\n`);
      }
      if (report.missing_dates.length > 0) {
        process.stderr.write(`error: not ready: ${report.missing_dates.join(', ')} — the source has no data for them yet (GA4's daily export table is not there); run again later\n`);
      }
      process.exitCode = outcomeOf(report, { named: true, mode: 'extract' }).exitCode;
    });
}
