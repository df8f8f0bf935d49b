import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { addDays, localDate } from '../../pipeline/due-dates.js';
import { readDays } from '../../pipeline/run-state.js';
import { createSource } from '../../sources/index.js';
import { openWarehouse } from '../../warehouse/index.js';

export function statusCommand(program: Command): void {
  program
    .command('status')
    .description('where every day stands (complete / provisional / failed / deferred) and how fresh the data is')
    .requiredOption('-c, --config <file>', 'the config file (YAML)')
    .option('--json', 'print the state as JSON')
    .action(async (options: { config: string; json?: boolean }) => {
      const { config, baseDir } = await loadConfig(options.config);
      const source = createSource(config.source, baseDir);
      const warehouse = await openWarehouse(config.warehouse);
      try {
        await warehouse.prepareSchema();
        const days = await readDays(warehouse, source.description);
        const lastComplete = days.filter((d) => d.status === 'complete' || d.status === 'provisional').at(-1)?.date ?? null;
        const yesterday = addDays(localDate(new Date(), config.property.time_zone), -1);
        const lateDays = lastComplete ? Math.max(0, Math.round((Date.parse(yesterday) - Date.parse(lastComplete)) / 86_400_000)) : null;
        const freshness = { last_complete_day: lastComplete, days_late: lateDays, yesterday, time_zone: config.property.time_zone };
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ source: source.description, freshness, days }, null, 2)}\n`);
          return;
        }
        process.stdout.write(`${source.description}\n`);
        for (const d of days) {
          const rows = Object.values(d.rows).reduce((a, b) => a + b, 0);
          process.stdout.write(`${d.date}  ${d.status.padEnd(11)}  ${d.final ? 'final' : '     '}  run ${d.run_id}  ${d.finished_at.slice(0, 19)}  ${String(rows).padStart(8)} rows${d.last_error ? `  ${d.last_error}` : ''}\n`);
        }
        process.stdout.write(lastComplete ? `last day done: ${lastComplete} (${lateDays === 0 ? 'up to date' : `${lateDays} day(s) behind yesterday, ${yesterday}`})\n` : 'no day done yet\n');
      } finally {
        await warehouse.close();
      }
    });
}
