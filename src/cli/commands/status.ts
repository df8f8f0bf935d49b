import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { isHandledDate } from '../../util/dates.js';
import { addDays, localDate } from '../../util/dates.js';
import { freshnessOf, lastDueDate } from '../../pipeline/due-dates.js';
import { lateLinesWaiting } from '../../pipeline/published-guards.js';
import { latestRestatements, restatementLines } from '../../pipeline/restatements.js';
import { readDays } from '../../pipeline/run-state.js';
import { createSource } from '../../sources/index.js';
import { readsIntraday, runStateKeys } from '../../sources/source.js';
import { dialectFor, openWarehouse } from '../../warehouse/index.js';

/** `status`'s exit codes, for a monitor: fresh, behind past `freshness.warn_days_behind`, past `error_days_behind` (or nothing done). */
export const FRESHNESS_EXIT_CODES = { ok: 0, warn: 3, error: 4 } as const;
export type FreshnessLevel = keyof typeof FRESHNESS_EXIT_CODES;

/** How fresh the data is, against the configured thresholds. */
export function freshnessLevel(daysBehind: number | null, thresholds: { warn_days_behind: number; error_days_behind: number }): FreshnessLevel {
  if (daysBehind === null || daysBehind > thresholds.error_days_behind) return 'error';
  return daysBehind > thresholds.warn_days_behind ? 'warn' : 'ok';
}

export function statusCommand(program: Command): void {
  program
    .command('status')
    .description(`where every day stands (complete / provisional / failed / deferred) and how fresh the data is; exits ${FRESHNESS_EXIT_CODES.warn} or ${FRESHNESS_EXIT_CODES.error} past the freshness thresholds`)
    .requiredOption('-c, --config <file>', 'the config file (YAML)')
    .option('--json', 'print the state as JSON')
    .action(async (options: { config: string; json?: boolean }) => {
      const { config, baseDir } = await loadConfig(options.config);
      const source = createSource(config.source, baseDir);
      const warehouse = await openWarehouse(config.warehouse, dialectFor(config.warehouse));
      try {
        await warehouse.prepareSchema();
        const days = await readDays(warehouse, runStateKeys(source));
        const waiting = await lateLinesWaiting(warehouse, source.identity);
        // Dates a republish changed after they were published: their latest restatement.
        const revised = await latestRestatements(warehouse);
        const yesterday = addDays(localDate(new Date(), config.property.time_zone), -1);
        const { lastDone, daysBehind } = freshnessOf(days, yesterday);
        const level = freshnessLevel(daysBehind, config.freshness);
        // A day recorded after yesterday (after today, when intraday data is read) is a corrupt date (the input's event_date): shown, never counted as fresh.
        const last = lastDueDate(new Date(), config.property.time_zone, readsIntraday(source));
        const future = days.filter((d) => !isHandledDate(d.date) || d.date > last).map((d) => d.date);
        const freshness = { last_complete_day: lastDone, days_late: daysBehind, yesterday, time_zone: config.property.time_zone, level, ...config.freshness, days_after_yesterday: future };
        process.exitCode = FRESHNESS_EXIT_CODES[level];
        if (options.json) {
          const late = [...waiting].map(([date, w]) => ({ date, lines: w.lines, inputs: w.inputs }));
          const revisions = days.flatMap((d) => (revised.has(d.date) ? [revised.get(d.date)!] : []));
          process.stdout.write(`${JSON.stringify({ source: source.description, freshness, days, late_lines: late, revised: revisions }, null, 2)}\n`);
          return;
        }
        process.stdout.write(`${source.description}\n`);
        for (const d of days) {
          const rows = Object.values(d.rows).reduce((a, b) => a + b, 0);
          const late = waiting.get(d.date);
          const lateNote = late ? `  ${late.lines} late line(s) waiting (${late.inputs.join(', ')}): run --date ${d.date} to recompute` : '';
          const revision = revised.get(d.date);
          const intradayNote = d.input === 'intraday' ? '  from intraday data: provisional until its daily data comes (not counted as done)' : '';
          const revisedNote = revision ? `  ${restatementLines(revision.restatements)[0]!.slice(d.date.length + 1)} (run ${revision.run_id}, before: run ${revision.restatements[0]!.previous_run_id ?? 'unknown'})` : '';
          process.stdout.write(`${d.date}  ${d.status.padEnd(11)}  ${d.final ? 'final' : '     '}  run ${d.run_id}  ${d.finished_at.slice(0, 19)}  ${String(rows).padStart(8)} rows${d.last_error ? `  ${d.last_error}` : ''}${intradayNote}${revisedNote}${lateNote}\n`);
        }
        if (future.length > 0) process.stdout.write(`warning: ${future.length} day(s) recorded after ${last === yesterday ? 'yesterday' : 'today'} (${future.slice(0, 3).join(', ')}): a corrupt event_date in the input; not counted as done\n`);
        const behind = daysBehind === 0 ? 'up to date' : `${daysBehind} day(s) behind yesterday, ${yesterday}`;
        const verdict = { ok: '', warn: ` — warning: more than ${config.freshness.warn_days_behind} day(s) behind (freshness.warn_days_behind)`, error: ` — error: more than ${config.freshness.error_days_behind} day(s) behind (freshness.error_days_behind)` }[level];
        process.stdout.write(lastDone ? `last day done: ${lastDone} (${behind})${verdict}\n` : 'no day done yet — error: nothing is published (run `cartlens run --due`)\n');
      } finally {
        await warehouse.close();
      }
    });
}
