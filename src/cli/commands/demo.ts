import type { Command } from 'commander';
import { DEMO_DEFAULTS } from '../../config/schema.js';
import { generateDemoExport } from '../../sources/demo/generator.js';
import { CartlensError } from '../../util/errors.js';
import { parseDate } from '../../util/dates.js';

const positiveInt = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CartlensError(`${name} ${value} is not a positive whole number`, `give ${name} as a number like 7`);
  return n;
};

export function demoCommand(program: Command): void {
  program
    .command('demo')
    .description('write a realistic synthetic GA4 export (one events_YYYYMMDD.json.gz per day)')
    .option('--days <n>', 'number of days', positiveInt('--days'), DEMO_DEFAULTS.days)
    .option('--sessions-per-day <n>', 'sessions per day', positiveInt('--sessions-per-day'), DEMO_DEFAULTS.sessionsPerDay)
    .option('--start-date <date>', 'first day (YYYY-MM-DD)', DEMO_DEFAULTS.startDate)
    .option('--seed <n>', 'random seed: the same seed gives the same files', positiveInt('--seed'), DEMO_DEFAULTS.seed)
    .option('--dirty-rate <share>', "share of events with one of the contract's dirty cases", String(DEMO_DEFAULTS.dirtyRate))
    .requiredOption('--out <dir>', 'folder to write into')
    .action(async (options: { days: number; sessionsPerDay: number; startDate: string; seed: number; dirtyRate: string; out: string }) => {
      const dirtyRate = Number(options.dirtyRate);
      if (!(dirtyRate >= 0 && dirtyRate <= 1)) throw new CartlensError(`--dirty-rate ${options.dirtyRate} is not a share`, 'give a number from 0 to 1');
      const days = await generateDemoExport({
        ...DEMO_DEFAULTS,
        outDir: options.out,
        days: options.days,
        sessionsPerDay: options.sessionsPerDay,
        startDate: parseDate(options.startDate, '--start-date'),
        seed: options.seed,
        dirtyRate,
        onProgress: (events) => process.stderr.write(`  ${events} events written\r`),
      });
      process.stderr.write('\n');
      for (const day of days) process.stdout.write(`${day.file}: ${day.sessions} sessions, ${day.events} events, ${day.lines} lines\n`);
    });
}
