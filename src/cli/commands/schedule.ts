import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { startScheduler } from '../../ops/scheduler.js';
import { runPipeline } from '../../pipeline/run.js';
import { CartlensError } from '../../util/errors.js';
import { createProgress } from '../progress.js';

export function scheduleCommand(program: Command): void {
  program
    .command('schedule')
    .description('run the due dates every day at schedule.at (one time or several; property time zone) until stopped (SIGTERM / Ctrl-C)')
    .requiredOption('-c, --config <file>', 'the config file (YAML)')
    .option('--run-now', 'also run the due dates once at start')
    .action(async (options: { config: string; runNow?: boolean }) => {
      const loaded = await loadConfig(options.config);
      const { schedule, property } = loaded.config;
      const log = (message: string) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), component: 'scheduler', message })}\n`);
      const scheduler = startScheduler({
        at: schedule.at,
        timeZone: property.time_zone,
        retries: schedule.retries,
        retryWaitMs: schedule.retry_wait_seconds * 1000,
        job: async () => {
          const report = await runPipeline({ loaded, due: true, progress: createProgress(process.stderr) });
          log(`run ${report.run_id} done: ${report.dates.map((d) => `${d.date} ${d.status}`).join(', ')}`);
        },
        // Another run holding the warehouse, a network error: transient. Bad config, no input: not.
        isTransient: (error) => error instanceof CartlensError && error.transient,
        onEvent: log,
      });
      // Listen for the stop signals before announcing the schedule: a supervisor that stops us as
      // soon as it reads that line must get a clean stop, not the default kill.
      const stopSignal = new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      log(`scheduled daily at ${[schedule.at].flat().join(', ')} ${property.time_zone}; next run ${scheduler.next()?.toISOString() ?? 'never'}`);
      if (options.runNow) scheduler.trigger();
      await stopSignal;
      log('stopping: waiting for a run in progress to finish');
      await scheduler.stop();
      log('stopped');
    });
}
