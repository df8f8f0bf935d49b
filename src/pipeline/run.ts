import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { LoadedConfig } from '../config/load.js';
import type { CartlensConfig } from '../config/schema.js';
import { type Exporter } from '../exports/exporter.js';
import { createExporter } from '../exports/index.js';
import { alertFor, revisedDays, sendAlert, webhookDelivery, type Alert } from '../ops/alerts.js';
import { checkPublishedDates, notifyAnomalies, recordAnomalyJudgements } from '../ops/anomalies.js';
import { purgeExpired } from '../ops/retention.js';
import { lastRunReportPath, runReportPath } from '../reports/daily-report.js';
import { readsIntraday, runStateKeys } from '../sources/source.js';
import { CartlensError, NoEventsError, PublishError, describeOutOfMemory } from '../util/errors.js';
import { openWarehouse } from '../warehouse/index.js';
import { describeShrink, headlineOf, publishedDates, recordPublishedSessions, SESSIONS_SHRINK, unfinishedDates } from './published-guards.js';
import { addDays, localDate } from '../util/dates.js';
import { dueDates, isFinal, type DayStatus } from './due-dates.js';
import { removeRunScratch } from './run-scratch.js';
import { planRun, type RunStep } from './plan.js';
import { SILENT_PROGRESS, type RunProgress } from './progress.js';
import type { DateReport, RunReport, StepRecord } from './report.js';
import { readDays, recordDays, type DayState } from './run-state.js';
import { localPagesDir } from './stage-api.js';
import { assertExtractable, stagingFor } from './stage.js';
import { stagingPhases, type RunMode, type StagedInput, type Staging, type StagingPhase } from './staged-input.js';
import { PeakRssTracker, StepClock } from './timings.js';
import { applyUserKey, UserKeyRefusedError } from './user-key.js';
import { publishDate, republishReached } from './publish-date.js';
import { isTransactionStep, runTransaction, secondsSince, type RunInProgress, type TransactionStep } from './run-transaction.js';

export interface RunRequest {
  loaded: LoadedConfig;
  /** Dates to compute (`YYYY-MM-DD`); undefined: every date found in the input (or, with `due`, the due dates). */
  dates?: string[];
  /** Compute the due dates (docs/operations.md) instead of every date in the input. */
  due?: boolean;
  progress?: RunProgress;
  now?: () => Date;
  /** Where to publish; default: the config's `export` (a test hands one that fails like a full disk). */
  exporter?: Exporter;
  /**
   * `publish`: the tables are already built (by Dataform, or an earlier run): nothing is extracted,
   * loaded or modelled; the blocking assertions run, then the files, reports and run state are
   * written as a full run writes them. `extract`: the source's raw data for the dates is loaded
   * (GA4's BigQuery export: its daily tables are looked for) and the run recorded; no model, no
   * assertion, nothing published (BigQuery only: Dataform builds on it). Default `run`.
   */
  mode?: RunMode;
  /** Publish a date even when its sessions fall by more than guards.max_shrink_share of what was published. */
  acceptShrink?: boolean;
  /** `cartlens rotate-user-key`: the run's user_key key replaces the recorded one (src/pipeline/user-key.ts); else another key is refused. */
  rotateUserKey?: boolean;
}

/**
 * The one run, for every source: the plan's steps (src/pipeline/plan.ts), executed in order, each
 * recorded with its status and seconds. The source decides only how its input is extracted and
 * staged (`stage.ts`); the CLI (`run`, `run --due`, `backfill`, `schedule`), the daily function
 * and the dashboard's hints all come here. The model graph is checked before anything is read;
 * every date of the run is replaced inside one warehouse transaction (the load … commit steps),
 * and files are published after it commits, so they always reflect committed tables.
 */
export async function runPipeline(request: RunRequest): Promise<RunReport> {
  const { loaded } = request;
  const { config } = loaded;
  const mode = request.mode ?? 'run';
  const baseProgress = request.progress ?? SILENT_PROGRESS;
  const now = request.now ?? (() => new Date());
  const startedAt = now();
  const runId = `${startedAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
  // Every log line of the run carries its id; a line naming a step starts that step's clock.
  const clock = new StepClock('plan');
  const peakRss = new PeakRssTracker('planning');
  // What the run was last doing, as its log said: an out-of-memory error names it.
  let lastStep = 'planning';
  const progress: RunProgress = {
    ...baseProgress,
    step: (message, fields) => {
      lastStep = message;
      peakRss.enter(message);
      if (typeof fields?.step === 'string') clock.enter(fields.step);
      baseProgress.step(message, { run_id: runId, ...fields });
    },
    startBytes: (total, label) => {
      clock.enter('land');
      peakRss.enter(label);
      baseProgress.startBytes(total, label);
    },
  };

  const plan = await planRun(loaded, { mode, dates: request.dates, due: request.due });
  const { source, calendar } = plan;
  const keys = runStateKeys(source);
  if (mode === 'extract') assertExtractable(config);
  const warehouse = await openWarehouse(config.warehouse, plan.dialect);
  const run: RunInProgress = { asked: request.dates, chosen: undefined, staged: undefined, published: new Set(), recorded: [], failures: new Map(), dateReports: [], anomalyChecks: [], days: [], anomalyAlerts: [], closed: false, exporter: undefined, reached: [], republished: [], restatements: [] };
  /** A published (or withheld) date's state. */
  const stateOfReport = (d: DateReport): DayState => {
    const status: DayStatus = d.status === 'published' ? (d.final ? 'complete' : 'provisional') : 'failed';
    const blocking = d.assertion_failures.find((f) => f.blocking);
    const error = d.status === 'failed' ? (blocking?.assertion === SESSIONS_SHRINK ? describeShrink(blocking) : `assertion ${blocking?.assertion} failed`) : d.status === 'no_events' ? 'no included events' : null;
    return stateOf(d.date, status, { input_fingerprint: run.staged?.fingerprint ?? null, rows: d.rows, final: d.final, last_error: error, input: d.source });
  };
  // A day whose input is not there yet, or whose quota ran out, is due again next time.
  // Today without intraday data yet (source.intraday, early in the day) is not late: it is due again, and not recorded (nor alerted) as deferred.
  const deferredStates = (): DayState[] =>
    (run.staged?.deferred ?? []).filter((d) => d.date < localDate(now(), calendar.timeZone)).map((d) => stateOf(d.date, 'deferred', { input_fingerprint: run.staged?.fingerprint ?? null, last_error: d.reason }));
  const stateOf = (date: string, status: DayStatus, fields: Partial<DayState> = {}): DayState => ({
    source: source.identity, date, status, run_id: runId, started_at: startedAt.toISOString(), finished_at: now().toISOString(),
    input_fingerprint: null, rows: {}, final: false, last_error: null, input: 'daily', ...fields,
  });
  const staged = (): StagedInput => {
    if (!run.staged) throw new Error('a step needs the staged input before the staging ran');
    return run.staged;
  };
  const exporter = async (): Promise<Exporter> => (run.exporter ??= request.exporter ?? (await createExporter(config.export)));
  const reportOptions = { locale: config.locale, currency: config.property.currency, anomalies: config.anomalies };
  let staging: Staging | undefined;
  /** Restated dates beyond alerts.on_restatement_above_pct, read before the warehouse is released. */
  let revised: Alert['days'] = [];

  /** What each step of the plan does; a step returns why it was skipped, or nothing when done. */
  const execute: { [K in OutsideStep['kind']]: (step: Extract<OutsideStep, { kind: K }>) => Promise<string | void> } = {
    open: async () => {
      await warehouse.prepareSchema();
      run.recorded = await readDays(warehouse, keys);
      // A date whose last commit was never published (a run killed while publishing) is redone.
      const unfinished = unfinishedDates(run.recorded);
      run.published = new Set([...(await publishedDates(warehouse, source.identity, run.recorded))].filter((d) => !unfinished.has(d)));
      if (request.due && !run.asked) {
        run.asked = [...new Set([...dueDates(now(), calendar.timeZone, run.recorded, calendar.lookbackDays, { intraday: readsIntraday(source) }), ...unfinished])].sort();
        progress.step(`due: ${run.asked.join(', ')}`);
      }
    },
    retention: async () => {
      const purged = await purgeExpired(warehouse, { landingDir: source.kind === 'files' ? config.landing.dir : undefined, pagesDir: source.kind === 'ga4-data-api' ? localPagesDir(config) : undefined }, config.retention, now(), calendar.timeZone);
      if (purged.files > 0) progress.step(`retention: deleted ${purged.files} landed file(s) older than ${config.retention.landed_days} days`);
    },
    extract: (step) => stagingPhase(step.kind),
    land: (step) => stagingPhase(step.kind),
    stage: (step) => stagingPhase(step.kind),
    'user-key': async () => {
      await applyUserKey(warehouse, loaded, { recorded: run.recorded, recomputed: run.chosen ?? [], rotate: request.rotateUserKey === true });
    },
    publish: async (step) => {
      const target = await exporter();
      // Holding the warehouse means no other run publishes here: a killed run's temporary files can go (once per run).
      if (!run.swept) {
        run.swept = true;
        const swept = await target.sweepTemporaryFiles();
        if (swept.length > 0) progress.step(`deleted ${swept.length} temporary file(s) a killed run left in ${target.description}`);
      }
      const found = staged().found.filter((f) => step.date === undefined || f.date === step.date);
      if (found.length === 0) return step.date === undefined ? 'no date to publish' : `${step.date} has nothing to publish (${whyNotFound(staged(), step.date)})`;
      for (const { date, publishable, input = 'daily', leftOut = 0 } of found) {
        progress.step(`publishing ${date}${input === 'intraday' ? ' (provisional: from intraday data)' : ''}`, { step: 'export', date });
        // A date computed from intraday data is never final: its daily data replaces it.
        const final = input === 'daily' && isFinal(date, now(), calendar.timeZone);
        const publishing = { runId, now, failures: run.failures.get(date) ?? [], reportOptions: { ...reportOptions, input }, publishable, final, input, leftOut };
        const done = await publishDate(plan, warehouse, target, staged(), date, publishing).catch((error: unknown) => {
          if (error instanceof CartlensError) throw error;
          const message = ((error as Error)?.message ?? String(error)).split('\n')[0];
          throw new PublishError(`publishing ${date} failed after the warehouse commit: ${message}`, 'the warehouse holds the new numbers and the files stay as they were: fix the cause and run again', false, { cause: error });
        });
        run.dateReports.push(done);
        progress.step(`${date}: ${done.status}`, { step: 'export', date, status: done.status, rows: done.rows });
        // What the date was published with: a later republish that would shrink it is withheld.
        if (done.status === 'published') await recordPublishedSessions(warehouse, source.identity, date, runId, (await headlineOf(warehouse, plan.outputs.headline, [date])).get(date) ?? 0);
      }
    },
    republish: async () => {
      // Dates published before whose cart_recoveries the run recomputed: that file again, and the completion marker naming it.
      const dates = run.reached.filter((d) => run.published.has(d));
      if (dates.length === 0) return 'no published date is reached';
      // Those whose recoveries did not change keep their files and marker as they are.
      const target = await exporter();
      for (const date of dates) {
        progress.step(`republishing ${date}'s cart_recoveries: the run's carts reach it`, { step: 'export', date });
        if (await republishReached(plan, warehouse, target, date, runId, now, staged().manifestExtra(date))) run.republished.push(date);
      }
    },
    anomalies: async () => {
      // Published dates of the contract's tables against their weekday's last 4 weeks (src/ops/anomalies.ts).
      run.anomalyChecks = await checkPublishedDates(warehouse, run.dateReports, config.anomalies, progress.step);
    },
    record: async () => {
      for (const aside of staged().setAside ?? []) {
        progress.step(`${aside.date} is final and published: ${aside.lines} new line(s) set aside (${aside.reason}) from ${aside.inputs.join(', ')}; run with --date ${aside.date} to recompute it`, { step: 'stage', date: aside.date });
      }
      progress.step('recording the run', { step: 'record' });
      run.days = [...run.dateReports.map((d) => stateOfReport(d)), ...deferredStates()];
      await recordDays(warehouse, run.days, keys.legacy);
      run.anomalyAlerts = await recordAnomalyJudgements(warehouse, run.anomalyChecks, runId, progress.step);
      revised = await revisedDays(warehouse, run.restatements, config.alerts?.on_restatement_above_pct);
      progress.step('closing the warehouse', { step: 'close' });
      run.closed = true;
      await warehouse.close();
    },
    alert: async () => {
      // Alerts go out once the warehouse is released: a slow webhook never holds the lock.
      await notify(config, run.days, progress, revised);
      await notifyAnomalies(config.alerts, run.anomalyAlerts, progress.step);
    },
    report: async () => {
      const target = await exporter();
      for (const date of run.dateReports) await target.writeJson(runReportPath(date.date, plan.outputs.namespace), { run_id: runId, ...date });
      // Written last, so that it times every step before it, the close included.
      run.report = await runReport();
      await target.writeJson(lastRunReportPath(plan.outputs.namespace), run.report);
    },
  };

  async function stagingPhase(phase: StagingPhase): Promise<void> {
    staging ??= stagingFor(source, warehouse, {
      config,
      runId,
      progress,
      dates: run.asked,
      lookbackStart: addDays(localDate(now(), calendar.timeZone), -calendar.lookbackDays),
      yesterday: addDays(localDate(now(), calendar.timeZone), -1),
      completed: new Set(run.recorded.filter((d) => d.status === 'complete').map((d) => d.date)),
      published: run.published,
      publishedFromIntraday: new Set(run.recorded.filter((d) => d.input === 'intraday').map((d) => d.date)),
      isFinal: (date) => isFinal(date, now(), calendar.timeZone),
      runStartedAt: startedAt,
    }, mode);
    await staging.run(phase);
    if (phase === stagingPhases(source.kind, mode).at(-1)) {
      run.staged = staging.result();
      run.chosen = run.staged.found.map((f) => f.date);
    }
  }

  const records: StepRecord[] = [];
  async function runReport(): Promise<RunReport> {
    const input = staged();
    const target = await exporter();
    return {
      run_id: runId,
      started_at: startedAt.toISOString(),
      finished_at: now().toISOString(),
      source: source.description,
      warehouse: warehouse.description,
      export_root: target.description,
      files: input.files,
      undated: input.undated,
      dates: run.dateReports,
      missing_dates: input.deferred.filter((d) => d.kind === 'missing').map((d) => d.date),
      deferred_dates: input.deferred.filter((d) => d.kind !== 'missing').map(({ date, reason }) => ({ date, reason })),
      settled_dates: input.settled,
      kept_dates: input.kept ?? [],
      ignored_files: input.ignoredFiles ?? [],
      set_aside: input.setAside ?? [],
      unchanged_final_dates: input.unchangedFinal ?? [],
      republished_dates: run.republished,
      restatements: run.restatements,
      ...(input.tokensSpent !== undefined ? { tokens_spent: input.tokensSpent } : {}),
      ...(mode === 'extract' ? { ready_dates: run.chosen ?? [] } : {}),
      timings: clock.timings(),
      peak_rss: peakRss.peak(),
      steps: [...records],
    };
  }

  try {
    for (let i = 0; i < plan.steps.length; ) {
      const step = plan.steps[i]!;
      if (isTransactionStep(step)) {
        // load … commit: one transaction, undone and run again without a date that would shrink.
        let end = i;
        while (end < plan.steps.length && isTransactionStep(plan.steps[end]!)) end++;
        records.push(...(await runTransaction(plan, warehouse, plan.steps.slice(i, end) as TransactionStep[], staged(), run, { runId, startedAt, now, progress, source: source.identity, mode, acceptShrink: request.acceptShrink === true, stateOf })));
        i = end;
        continue;
      }
      const started = performance.now();
      const skipped = await (execute[step.kind] as (s: RunStep) => Promise<string | void>)(step);
      records.push({ name: step.name, kind: step.kind, status: skipped ? 'skipped' : 'done', seconds: secondsSince(started), ...(skipped ? { reason: skipped } : {}) });
      i++;
    }
    // The report step's report is the one returned, with that step's own record (last_run.json,
    // written by it, lists every step before it).
    if (run.report) run.report.steps = [...records];
    return run.report ?? (await runReport());
  } catch (thrown) {
    const error = config.warehouse.type === 'duckdb' ? describeOutOfMemory(thrown, `"${lastStep}"`, { memoryLimit: config.warehouse.memory_limit, threads: config.warehouse.threads }) : thrown;
    // The days the run was for are marked failed with the reason (best effort: the run's own error
    // wins) — but not those already published whole before the failure, nor those still waiting
    // for their input, which keep their own states.
    const done = new Set(run.dateReports.map((d) => d.date));
    const waiting = new Set(run.staged?.deferred.map((d) => d.date) ?? []);
    // A date without input that was published keeps its state: nothing about it changed.
    const kept = error instanceof NoEventsError ? run.published : new Set<string>();
    const affected = (run.asked ?? run.chosen ?? []).filter((date) => !done.has(date) && !waiting.has(date) && !kept.has(date));
    const message = error instanceof CartlensError ? error.oneLine : (error as Error).message;
    const status: DayStatus = error instanceof NoEventsError ? 'deferred' : 'failed';
    const failedDays = [...affected.map((date) => stateOf(date, status, { last_error: message })), ...run.dateReports.map((d) => stateOfReport(d)), ...deferredStates()];
    // A run refused for its user_key key changed nothing: its dates keep their states.
    if (failedDays.length > 0 && !(error instanceof UserKeyRefusedError) && !run.closed) {
      await recordDays(warehouse, failedDays, keys.legacy).catch(() => undefined);
      run.closed = true;
      await warehouse.close().catch(() => undefined);
      await notify(config, failedDays, progress);
    }
    throw error;
  } finally {
    if (!run.closed) await warehouse.close();
    await removeRunScratch(config.landing.scratch_dir ?? join(config.landing.dir, 'scratch'), runId);
  }
}

type OutsideStep = Exclude<RunStep, TransactionStep>;

/** Why a named date has nothing to publish: the staged input says. */
function whyNotFound(staged: StagedInput, date: string): string {
  const deferred = staged.deferred.find((d) => d.date === date);
  if (deferred) return `deferred: ${deferred.reason}`;
  if (staged.settled.includes(date)) return 'settled: fetched before, and final';
  const kept = staged.kept?.find((k) => k.date === date);
  if (kept) return kept.reason;
  return 'not in the input';
}

/** Alerts the configured webhook about the days whose status it watches (best effort: never fails the run). */
async function notify(config: CartlensConfig, days: DayState[], progress: RunProgress, revised: Alert['days'] = []): Promise<void> {
  if (!config.alerts) return;
  const on = new Set<string>(config.alerts.on);
  const attention = [...days.filter((d) => on.has(d.status)).map((d) => ({ date: d.date, status: d.status, reason: d.last_error })), ...revised];
  if (attention.length === 0) return;
  const delivered = await sendAlert(config.alerts.webhook_url, alertFor(attention), webhookDelivery(config.alerts.retries));
  progress.step(delivered ? `alert sent for ${attention.length} day(s)` : 'warning: the alert could not be delivered to the webhook');
}
