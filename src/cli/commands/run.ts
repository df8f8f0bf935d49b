import type { Command } from 'commander';
import { withDateOptions } from '../date-options.js';
import { loadConfig } from '../../config/load.js';
import { formatRunTable } from '../../pipeline/report.js';
import { describeShrink, SESSIONS_SHRINK } from '../../pipeline/published-guards.js';
import { outcomeOf } from '../../pipeline/outcome.js';
import { restatementLines } from '../../pipeline/restatements.js';
import { runPipeline } from '../../pipeline/run.js';
import { datesFromOptions } from '../../util/dates.js';
import { createProgress } from '../progress.js';
import { shellQuote } from '../shell-quote.js';

export function runCommand(program: Command): void {
  withDateOptions(program.command('run'))
    .description('run the daily job: land → clean → load → models → export')
    .requiredOption('-c, --config <file>', 'the config file (YAML)')
    .option('--json', 'print the run report as JSON on stdout')
    .option('--due', 'compute the due dates: missed days, the lookback window, and days not yet complete (docs/operations.md)')
    .option('--accept-shrink', 'publish dates even when their sessions fall by more than guards.max_shrink_share of what was published')
    .action(async (options: { config: string; date?: string; from?: string; to?: string; json?: boolean; due?: boolean; acceptShrink?: boolean }) => {
      const dates = datesFromOptions(options);
      const loaded = await loadConfig(options.config);
      const report = await runPipeline({ loaded, ...(dates ? { dates } : {}), due: options.due === true, acceptShrink: options.acceptShrink === true, progress: createProgress(process.stderr, options.json === true) });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        // A run that recomputed nothing has no table to show: the note below says why.
        if (report.dates.length > 0) process.stdout.write(`\n${formatRunTable(report)}\n\n`);
        // Dates published before whose numbers this run changed: the headline change of each (the run report has them all).
        for (const line of restatementLines(report.restatements)) process.stdout.write(`${line}\n`);
        const intraday = report.dates.filter((d) => d.provisional).map((d) => d.date);
        if (intraday.length > 0) process.stdout.write(`${intraday.join(', ')}: provisional, from GA4's intraday data (no daily data yet); replaced once it comes.\n`);
        const leftOut = report.dates.reduce((sum, d) => sum + d.left_out_lines, 0);
        if (leftOut > 0) process.stdout.write(`${leftOut} line(s) left out: each date is computed from its daily or its intraday data, never both (the run report's left_out_lines).\n`);
        if (report.ignored_files.length > 0) process.stdout.write(`${report.ignored_files.length} intraday file(s) left out unread: source.intraday is off (the run report's ignored_files).\n`);
        const quarantined = report.dates.reduce((sum, d) => sum + (d.quality?.quarantined ?? 0), 0) + Object.values(report.undated.quarantined_by_reason).reduce((a, b) => a + b, 0);
        if (quarantined > 0) process.stdout.write(`${quarantined} line(s) quarantined: kept in the warehouse table quarantined_events, with their reasons in the run report.\n`);
        process.stdout.write(`CSV files: ${report.export_root}/<table>/dt=<date>/\nDaily reports: ${report.export_root}/report/dt=<date>/report.html\nRun report: ${report.export_root}/run_report/last_run.json\nDashboard: npx cartlens serve --config ${shellQuote(options.config)}\n`);
      }
      for (const d of report.dates) {
        for (const f of d.assertion_failures) {
          if (f.assertion === SESSIONS_SHRINK) process.stderr.write(`error: ${d.date}: ${describeShrink(f)}\n`);
          else process.stderr.write(`${f.blocking ? 'error' : 'warning'}: ${d.date}: assertion ${f.assertion} (${f.severity}) failed on ${f.failing_rows} row(s), e.g. ${JSON.stringify(f.sample[0])}${f.blocking ? ' — the date\'s files were withheld' : ''}\n`);
        }
      }
      const empty = report.dates.filter((d) => d.status === 'no_events').map((d) => d.date);
      if (empty.length > 0) {
        process.stderr.write(`${dates ? 'error' : 'warning'}: no included events for ${empty.join(', ')} (every line quarantined or without a session) — nothing published for them; see the run report\n`);
      }
      if (report.deferred_dates.length > 0) {
        process.stderr.write(`warning: ${report.deferred_dates[0]!.reason}: ${report.deferred_dates.map((d) => d.date).join(', ')} deferred; the next run fetches them\n`);
      }
      if (report.tokens_spent !== undefined) process.stdout.write(`${report.tokens_spent} Data API quota tokens spent\n`);
      const unchanged = report.unchanged_final_dates;
      if (unchanged.length > 0) {
        const which = unchanged.length > 3 ? `${unchanged[0]} … ${unchanged.at(-1)}` : unchanged.join(', ');
        (options.json ? process.stderr : process.stdout).write(`${report.dates.length === 0 ? '\nnothing to compute: ' : ''}${unchanged.length} final date(s) already published left as they are (${which}): name one with --date to recompute it\n`);
      }
      for (const aside of report.set_aside) {
        process.stderr.write(`warning: ${aside.date} is final and published: not recomputed; ${aside.lines} new line(s) for it set aside (${aside.reason}, from ${aside.inputs.join(', ')}) — run with --date ${aside.date} to recompute it\n`);
      }
      for (const k of report.kept_dates) process.stderr.write(`error: no events for ${k.date} in the input — it keeps the files and state it had (${k.reason})\n`);
      if (report.missing_dates.length > 0) {
        process.stderr.write(`error: no events for ${report.missing_dates.join(', ')} — those dates were not computed; add their export files and run again\n`);
      }
      // A date asked for by name that yields nothing is a failure; found in passing, a warning.
      process.exitCode = outcomeOf(report, { named: dates !== undefined }).exitCode;
    });
}
