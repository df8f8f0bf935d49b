import type { Command } from 'commander';

/** The dates of a run, as `run` and `plan` take them: one date, a range, or every date found. */
export function withDateOptions(command: Command): Command {
  return command
    .option('--date <date>', 'one date (YYYY-MM-DD)')
    .option('--from <date>', 'first date of a range')
    .option('--to <date>', 'last date of a range');
}
