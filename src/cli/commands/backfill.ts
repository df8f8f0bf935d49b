import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { dateRange } from '../../util/dates.js';
import { parseDate } from '../../util/dates.js';
import { readDays } from '../../pipeline/run-state.js';
import { runPipeline } from '../../pipeline/run.js';
import { createSource } from '../../sources/index.js';
import { runStateKeys } from '../../sources/source.js';
import { CartlensError } from '../../util/errors.js';
import { dialectFor, openWarehouse, warehouseCapabilities } from '../../warehouse/index.js';
import { inPool } from '../../util/pool.js';
import { createProgress } from '../progress.js';

export function backfillCommand(program: Command): void {
  program
    .command('backfill')
    .description('compute a range of days, one day per unit of work, resumably: complete final days are skipped')
    .requiredOption('-c, --config <file>', 'the config file (YAML)')
    .requiredOption('--from <date>', 'first day')
    .requiredOption('--to <date>', 'last day')
    .option('--force', 'compute complete final days again too')
    .option('--parallel <n>', 'days computed at once, where the warehouse allows several runs (BigQuery)', '1')
    .action(async (options: { config: string; from: string; to: string; force?: boolean; parallel: string }) => {
      const loaded = await loadConfig(options.config);
      const [from, to] = [parseDate(options.from, '--from'), parseDate(options.to, '--to')];
      if (from > to) throw new CartlensError(`--from ${from} is after --to ${to}`, 'swap them');
      const source = createSource(loaded.config.source, loaded.baseDir);
      // The state says which days are done, so a second call continues where the first stopped.
      const warehouse = await openWarehouse(loaded.config.warehouse, dialectFor(loaded.config.warehouse));
      let done: Set<string>;
      try {
        await warehouse.prepareSchema();
        done = new Set((await readDays(warehouse, runStateKeys(source))).filter((d) => d.status === 'complete' && d.final).map((d) => d.date));
      } finally {
        await warehouse.close();
      }
      const todo = dateRange(from, to).filter((d) => options.force || !done.has(d));
      const asked = Math.max(1, Math.floor(Number(options.parallel) || 1));
      const parallel = warehouseCapabilities(loaded.config.warehouse).concurrentRuns ? asked : 1;
      process.stderr.write(`backfill: ${todo.length} day(s) to compute, ${dateRange(from, to).length - todo.length} already complete${asked > parallel ? `; one at a time (${loaded.config.warehouse.type} has one writer)` : parallel > 1 ? `; ${parallel} at a time` : ''}\n`);
      // A day is the unit that commits or not; a failed day is reported and the others still run.
      let failures = 0;
      await inPool(todo, parallel, async (date) => {
        try {
          const report = await runPipeline({ loaded, dates: [date], progress: createProgress(process.stderr, true) });
          const day = report.dates[0];
          process.stdout.write(`${date}  ${day?.status ?? 'missing'}\n`);
          if (!day || day.status !== 'published') failures++;
        } catch (error) {
          failures++;
          process.stdout.write(`${date}  failed: ${error instanceof CartlensError ? error.oneLine : (error as Error).message}\n`);
        }
      });
      if (failures > 0) process.exitCode = 1;
    });
}
