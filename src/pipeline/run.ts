import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import type { CartlensConfig } from '../config/schema.js';
import { csvContent } from '../exports/csv.js';
import { exportQuery } from '../exports/export-query.js';
import { completionMarker, completionMarkerPath, type Exporter, type PublishedFile } from '../exports/exporter.js';
import { createExporter } from '../exports/index.js';
import { alertFor, sendAlert, webhookDelivery } from '../ops/alerts.js';
import { checkPublishedDates, notifyAnomalies, recordAnomalyJudgements } from '../ops/anomalies.js';
import { purgeExpired } from '../ops/retention.js';
import { lastRunReportPath, reportPath, runReportPath, type DailyReportOptions } from '../reports/daily-report.js';
import { runStateKeys } from '../sources/source.js';
import { CartlensError, NoEventsError, PublishError } from '../util/errors.js';
import { openWarehouse } from '../warehouse/index.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { checkAssertions } from './check-assertions.js';
import { clearLateLines, describeShrink, headlineOf, publishedDates, publishedSessions, recordPublishedSessions, SESSIONS_SHRINK, shrinkFailures, unfinishedDates, type Headline } from './published-guards.js';
import { crashPoint } from '../util/crash-points.js';
import { addDays, localDate } from '../util/dates.js';
import { dueDates, isFinal, type DayStatus } from './due-dates.js';
import { removeRunScratch } from './landing.js';
import { compilePlan, planRun, type RunPlan } from './plan.js';
import type { AssertionFailure, DateReport, RunReport } from './report.js';
import { readDays, recordDays, type DayState } from './run-state.js';
import { localPagesDir } from './stage-api.js';
import { assertExtractable, stage, stageExtracted, stagePublished, type StagedInput } from './stage.js';
import { StepClock } from './timings.js';
import { applyUserKey, recordUserKeyFingerprint, UserKeyRefusedError } from './user-key.js';

/** Receives what a run is doing, for a progress bar on a terminal or plain lines elsewhere. */
export interface RunProgress {
  /** A step began; `fields` are the structured parts of the log line (run id, step, date, rows…). */
  step(message: string, fields?: Record<string, unknown>): void;
  startBytes(total: number, label: string): void;
  addBytes(bytes: number): void;
  endBytes(): void;
}

export const SILENT_PROGRESS: RunProgress = { step() {}, startBytes() {}, addBytes() {}, endBytes() {} };

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
  mode?: 'run' | 'publish' | 'extract';
  /** Publish a date even when its sessions fall by more than guards.max_shrink_share of what was published. */
  acceptShrink?: boolean;
  /** `cartlens rotate-user-key`: the run's user_key key replaces the recorded one (src/pipeline/user-key.ts); else another key is refused. */
  rotateUserKey?: boolean;
}

/**
 * The one run, for every source: plan → extract/land → load → models → assertions → publish →
 * run state → alerts → reports. The source decides only how its input is extracted and staged
 * (`stage.ts`); the CLI (`run`, `run --due`, `backfill`, `schedule`), the daily function and the
 * dashboard's hints all come here. The model graph is checked before anything is read; every date
 * of the run is replaced inside one warehouse transaction, and files are published after it
 * commits, so they always reflect committed tables.
 */
export async function runPipeline(request: RunRequest): Promise<RunReport> {
  const { loaded } = request;
  const { config } = loaded;
  const baseProgress = request.progress ?? SILENT_PROGRESS;
  const now = request.now ?? (() => new Date());
  const startedAt = now();
  const runId = `${startedAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
  // Every log line of the run carries its id; a line naming a step starts that step's clock.
  const clock = new StepClock('plan');
  const progress: RunProgress = {
    ...baseProgress,
    step: (message, fields) => {
      if (typeof fields?.step === 'string') clock.enter(fields.step);
      baseProgress.step(message, { run_id: runId, ...fields });
    },
    startBytes: (total, label) => {
      clock.enter('land');
      baseProgress.startBytes(total, label);
    },
  };

  const plan = await planRun(loaded);
  const { source, calendar } = plan;
  const keys = runStateKeys(source);
  if (request.mode === 'extract') assertExtractable(config);
  const warehouse = await openWarehouse(config.warehouse);
  let closed = false;
  let asked: string[] | undefined = request.dates;
  // The dates the run replaces, once known: a failure after that marks them failed, named or not.
  let chosen: string[] | undefined;
  // What is known when a failure comes: the staged input and the dates already published whole.
  let staged: StagedInput | undefined;
  let publishedBefore = new Set<string>();
  const dateReports: DateReport[] = [];
  /** A published (or withheld) date's state. */
  const stateOfReport = (d: DateReport): DayState => {
    const status: DayStatus = d.status === 'published' ? (d.final ? 'complete' : 'provisional') : 'failed';
    const blocking = d.assertion_failures.find((f) => f.blocking);
    const error = d.status === 'failed' ? (blocking?.assertion === SESSIONS_SHRINK ? describeShrink(blocking) : `assertion ${blocking?.assertion} failed`) : d.status === 'no_events' ? 'no included events' : null;
    return stateOf(d.date, status, { input_fingerprint: staged?.fingerprint ?? null, rows: d.rows, final: d.final, last_error: error });
  };
  // A day whose input is not there yet, or whose quota ran out, is due again next time.
  const deferredStates = (): DayState[] => (staged?.deferred ?? []).map((d) => stateOf(d.date, 'deferred', { input_fingerprint: staged?.fingerprint ?? null, last_error: d.reason }));
  const stateOf = (date: string, status: DayStatus, fields: Partial<DayState> = {}): DayState => ({
    source: source.identity, date, status, run_id: runId, started_at: startedAt.toISOString(), finished_at: now().toISOString(),
    input_fingerprint: null, rows: {}, final: false, last_error: null, ...fields,
  });
  try {
    await warehouse.prepareSchema();
    const purged = await purgeExpired(warehouse, { landingDir: source.kind === 'files' ? config.landing.dir : undefined, pagesDir: source.kind === 'ga4-data-api' ? localPagesDir(config) : undefined }, config.retention, now(), calendar.timeZone);
    if (purged.files > 0) progress.step(`retention: deleted ${purged.files} landed file(s) older than ${config.retention.landed_days} days`);
    const recorded = await readDays(warehouse, keys);
    // A date whose last commit was never published (a run killed while publishing) is redone.
    const unfinished = unfinishedDates(recorded);
    const published = new Set([...(await publishedDates(warehouse, source.identity, recorded))].filter((d) => !unfinished.has(d)));
    publishedBefore = published;
    if (request.due && !asked) {
      asked = [...new Set([...dueDates(now(), calendar.timeZone, recorded, calendar.lookbackDays), ...unfinished])].sort();
      progress.step(`due: ${asked.join(', ')}`);
    }
    const today = localDate(now(), calendar.timeZone);
    staged = await (request.mode === 'publish' ? stagePublished : request.mode === 'extract' ? stageExtracted : stage)(source, warehouse, {
      config,
      runId,
      progress,
      dates: asked,
      lookbackStart: addDays(today, -calendar.lookbackDays),
      yesterday: addDays(today, -1),
      completed: new Set(recorded.filter((d) => d.status === 'complete').map((d) => d.date)),
      published,
      isFinal: (date) => isFinal(date, now(), calendar.timeZone),
      runStartedAt: startedAt,
    });
    const dates = staged.found.map((f) => f.date);
    chosen = dates;

    if (plan.usesUserKey && (request.mode ?? 'run') === 'run') await applyUserKey(warehouse, loaded, { recorded, recomputed: dates, rotate: request.rotateUserKey === true });
    // Publishing tables built elsewhere: only the assertions run before the files.
    // Extracting: the load alone (and the run's record), no model and no assertion.
    const modelled = request.mode === 'publish' ? { ...plan, models: [] } : request.mode === 'extract' ? { ...plan, models: [], assertions: [] } : plan;
    const guard = request.mode === 'extract' ? undefined : { headline: plan.outputs.headline, maxShare: config.guards.max_shrink_share, accept: request.acceptShrink === true, published };
    // Committed with the tables, replaced once the files are published: a kill in between leaves it.
    const markPublishing = request.mode === 'extract' ? undefined : (committed: readonly string[]) => recordDays(warehouse, committed.map((date) => stateOf(date, 'publishing', { input_fingerprint: staged?.fingerprint ?? null })), keys.legacy);
    const failures = dates.length === 0 ? new Map<string, AssertionFailure[]>() : await loadAndModelGuarded(modelled, warehouse, staged, dates, { runId, startedAt, now, progress, source: source.identity, guard, markPublishing });

    clock.enter('export');
    const exporter = request.exporter ?? (await createExporter(config.export));
    const reportOptions = { locale: config.locale, currency: config.property.currency, anomalies: config.anomalies };
    // Holding the warehouse means no other run publishes here: a killed run's temporary files can go.
    const swept = request.mode === 'extract' ? [] : await exporter.sweepTemporaryFiles();
    if (swept.length > 0) progress.step(`deleted ${swept.length} temporary file(s) a killed run left in ${exporter.description}`);
    for (const { date, publishable } of request.mode === 'extract' ? [] : staged.found) {
      progress.step(`publishing ${date}`, { step: 'export', date });
      const publishing = { runId, now, failures: failures.get(date) ?? [], reportOptions, publishable, final: isFinal(date, now(), calendar.timeZone) };
      dateReports.push(await publishDate(plan, warehouse, exporter, staged, date, publishing).catch((error: unknown) => {
        if (error instanceof CartlensError) throw error;
        const message = ((error as Error)?.message ?? String(error)).split('\n')[0];
        throw new PublishError(`publishing ${date} failed after the warehouse commit: ${message}`, 'the warehouse holds the new numbers and the files stay as they were: fix the cause and run again', false, { cause: error });
      }));
      const done = dateReports.at(-1)!;
      progress.step(`${date}: ${done.status}`, { step: 'export', date, status: done.status, rows: done.rows });
    }
    // What each date was published with: a later republish that would shrink it is withheld.
    const publishedNow = dateReports.filter((d) => d.status === 'published').map((d) => d.date);
    if (publishedNow.length > 0) {
      const headline = await headlineOf(warehouse, plan.outputs.headline, publishedNow);
      for (const date of publishedNow) await recordPublishedSessions(warehouse, source.identity, date, runId, headline.get(date) ?? 0);
    }
    for (const aside of staged.setAside ?? []) {
      progress.step(`${aside.date} is final and published: ${aside.lines} new line(s) set aside (${aside.reason}) from ${aside.inputs.join(', ')}; run with --date ${aside.date} to recompute it`, { step: 'stage', date: aside.date });
    }
    // Published dates of the contract's tables against their weekday's last 4 weeks (src/ops/anomalies.ts); the Data API has no abandoned carts.
    const anomalyChecks = plan.outputs.tables.some((t) => t.name === 'cart_funnel_daily') ? await checkPublishedDates(warehouse, dateReports, config.anomalies, progress.step) : [];
    const missing = staged.deferred.filter((d) => d.kind === 'missing').map((d) => d.date);
    const report: RunReport = {
      run_id: runId,
      started_at: startedAt.toISOString(),
      finished_at: now().toISOString(),
      source: source.description,
      warehouse: warehouse.description,
      export_root: exporter.description,
      files: staged.files,
      undated: staged.undated,
      dates: dateReports,
      missing_dates: missing,
      deferred_dates: staged.deferred.filter((d) => d.kind !== 'missing').map(({ date, reason }) => ({ date, reason })),
      settled_dates: staged.settled,
      kept_dates: staged.kept ?? [],
      set_aside: staged.setAside ?? [],
      unchanged_final_dates: staged.unchangedFinal ?? [],
      ...(staged.tokensSpent !== undefined ? { tokens_spent: staged.tokensSpent } : {}),
      ...(request.mode === 'extract' ? { ready_dates: dates } : {}),
      timings: {},
    };
    for (const date of dateReports) {
      await exporter.writeJson(runReportPath(date.date, plan.outputs.namespace), { run_id: runId, ...date });
    }
    progress.step('recording the run', { step: 'record' });
    const days: DayState[] = [...dateReports.map((d) => stateOfReport(d)), ...deferredStates()];
    await recordDays(warehouse, days, keys.legacy);
    const anomalyAlerts = await recordAnomalyJudgements(warehouse, anomalyChecks, runId, progress.step);
    progress.step('closing the warehouse', { step: 'close' });
    closed = true;
    await warehouse.close();
    // Alerts go out once the warehouse is released: a slow webhook never holds the lock.
    await notify(config, days, progress);
    await notifyAnomalies(config.alerts, anomalyAlerts, progress.step);
    // Written last, so that it times every step, the close included.
    report.timings = clock.timings();
    report.finished_at = now().toISOString();
    if (request.mode !== 'extract') await exporter.writeJson(lastRunReportPath(plan.outputs.namespace), report);
    return report;
  } catch (error) {
    // The days the run was for are marked failed with the reason (best effort: the run's own error
    // wins) — but not those already published whole before the failure, nor those still waiting
    // for their input, which keep their own states.
    const done = new Set(dateReports.map((d) => d.date));
    const waiting = new Set(staged?.deferred.map((d) => d.date) ?? []);
    // A date without input that was published keeps its state: nothing about it changed.
    const kept = error instanceof NoEventsError ? publishedBefore : new Set<string>();
    const affected = (asked ?? chosen ?? []).filter((date) => !done.has(date) && !waiting.has(date) && !kept.has(date));
    const message = error instanceof CartlensError ? error.oneLine : (error as Error).message;
    const status: DayStatus = error instanceof NoEventsError ? 'deferred' : 'failed';
    const failedDays = [...affected.map((date) => stateOf(date, status, { last_error: message })), ...dateReports.map((d) => stateOfReport(d)), ...deferredStates()];
    // A run refused for its user_key key changed nothing: its dates keep their states.
    if (failedDays.length > 0 && !(error instanceof UserKeyRefusedError)) {
      await recordDays(warehouse, failedDays, keys.legacy).catch(() => undefined);
      if (!closed) {
        closed = true;
        await warehouse.close().catch(() => undefined);
      }
      await notify(config, failedDays, progress);
    }
    throw error;
  } finally {
    if (!closed) await warehouse.close();
    await removeRunScratch(config.landing.scratch_dir ?? join(config.landing.dir, 'scratch'), runId);
  }
}

interface LoadContext {
  runId: string;
  startedAt: Date;
  now: () => Date;
  progress: RunProgress;
  /** The source's identity (run_state, published_sessions, late_lines). */
  source: string;
  /** Inside the transaction: records the dates it commits as `publishing` (unfinished until published). */
  markPublishing?: (dates: readonly string[]) => Promise<void>;
}

/** Thrown inside the transaction to undo it: these dates would shrink (published-guards.ts). */
class ShrinkWithheld extends Error {
  constructor(readonly failures: Map<string, AssertionFailure>) {
    super(`withheld: ${[...failures.keys()].join(', ')}`);
  }
}

/**
 * loadAndModel, with the shrink guard: a date whose headline would fall by more than the allowed
 * share of what was published is withheld whole (its staged input, tables and files stay as they
 * were) and reported as a blocking failure; the other dates run again without it.
 */
async function loadAndModelGuarded(
  plan: RunPlan,
  warehouse: Warehouse,
  staged: StagedInput,
  dates: string[],
  context: LoadContext & { guard: { headline: Headline; maxShare: number; accept: boolean; published: ReadonlySet<string> } | undefined },
): Promise<Map<string, AssertionFailure[]>> {
  const { guard } = context;
  if (!guard || guard.accept) return loadAndModel(plan, warehouse, staged, dates, context);
  // What was published: its record, or for dates published before it was kept, the tables as they stand.
  const before = await publishedSessions(warehouse, context.source, dates);
  const unrecorded = dates.filter((d) => !before.has(d) && guard.published.has(d));
  if (unrecorded.length > 0) for (const [date, value] of await headlineOf(warehouse, guard.headline, unrecorded)) before.set(date, value);
  const withheld = new Map<string, AssertionFailure>();
  let remaining = dates;
  for (;;) {
    try {
      const failures = remaining.length === 0 ? new Map<string, AssertionFailure[]>() : await loadAndModel(plan, warehouse, staged, remaining, {
        ...context,
        shrinkCheck: async (checked) => shrinkFailures(new Map([...before].filter(([d]) => checked.includes(d))), await headlineOf(warehouse, guard.headline, checked), guard.maxShare, guard.headline),
      });
      for (const [date, failure] of withheld) failures.set(date, [failure]);
      return failures;
    } catch (error) {
      if (!(error instanceof ShrinkWithheld)) throw error;
      for (const [date, failure] of error.failures) withheld.set(date, failure);
      remaining = remaining.filter((d) => !withheld.has(d));
      context.progress.step(`withheld ${[...error.failures.keys()].join(', ')}: ${describeShrink([...error.failures.values()][0]!)}`, { step: 'assertions' });
    }
  }
}

/** In one transaction: the staged input of `dates`, every model, the assertions, and the run's record. Returns the assertion failures by date. */
async function loadAndModel(
  plan: RunPlan,
  warehouse: Warehouse,
  staged: StagedInput,
  dates: string[],
  { runId, startedAt, now, progress, source, shrinkCheck, markPublishing }: LoadContext & { shrinkCheck?: (dates: readonly string[]) => Promise<Map<string, AssertionFailure>> },
): Promise<Map<string, AssertionFailure[]>> {
  const compiled = compilePlan(plan, warehouse.dialect, dates);
  progress.step(`loading ${dates.length} date(s)`, { step: 'load', dates });
  return warehouse.transaction(async () => {
    await staged.load(dates);
    await clearLateLines(warehouse, source, dates);
    for (const step of compiled.models) {
      progress.step(`model ${step.model}`, { step: 'model', model: step.model });
      for (const statement of step.statements) await warehouse.execute(statement);
    }
    progress.step(`checking ${plan.assertions.length} assertions`, { step: 'assertions' });
    // None to check (extract mode): the dates' earlier outcomes in assertion_results stay.
    const failures = plan.assertions.length === 0 ? new Map<string, AssertionFailure[]>() : await checkAssertions(warehouse, plan.assertions, dates, runId);
    const shrunk = (await shrinkCheck?.(dates)) ?? new Map<string, AssertionFailure>();
    // A shrunk date keeps everything it had: the whole transaction goes, and the rest runs again.
    if (shrunk.size > 0) throw new ShrinkWithheld(shrunk);
    progress.step('committing', { step: 'commit' });
    // A timestamp taken here, not CURRENT_TIMESTAMP: inside a transaction that can be its start.
    const literal = (date: Date) => `TIMESTAMP '${date.toISOString().replace('T', ' ').replace('Z', '')}'`;
    const { dialect } = warehouse;
    await warehouse.execute(
      `INSERT INTO ${dialect.tableName('runs', false)} VALUES (${dialect.stringLiteral(runId)}, ${literal(startedAt)}, ${literal(now())}, ${dialect.stringLiteral(dates.join(','))}, ${dialect.stringLiteral(plan.source.description)}, ${staged.files.length})`,
    );
    await recordUserKeyFingerprint(warehouse, runId);
    await markPublishing?.(dates);
    crashPoint('before-commit');
    return failures;
  });
}

/**
 * Publishes a date's files (when it has anything to publish) and reports on it. The date's
 * completion marker goes first and comes back last, naming the new files: a reader never takes a
 * mix of two runs' files for a date's set.
 */
async function publishDate(
  plan: RunPlan,
  warehouse: Warehouse,
  exporter: Exporter,
  staged: StagedInput,
  date: string,
  { runId, now, failures, reportOptions, publishable, final }: { runId: string; now: () => Date; failures: AssertionFailure[]; reportOptions: DailyReportOptions; publishable: boolean; final: boolean },
): Promise<DateReport> {
  const quality = await staged.dateQuality(date);
  const files: PublishedFile[] = [];
  const rows: Record<string, number> = {};
  // A blocking failure withholds the date's files: consumers keep the last ones that passed.
  const blocked = failures.some((f) => f.blocking);
  const { namespace } = plan.outputs;
  if (!blocked) await exporter.deleteFile(completionMarkerPath(date, namespace));
  for (const table of blocked ? [] : plan.outputs.tables) {
    if (!publishable) {
      // Nothing to publish: files of an earlier run for this date must not outlive its rows.
      await exporter.remove(table.name, date);
      continue;
    }
    const published = await exporter.publish(table.name, date, csvContent(table, warehouse.streamRows(exportQuery(warehouse.dialect, table, date))), staged.manifestExtra(date));
    files.push(published);
    rows[table.name] = published.rows;
    crashPoint('mid-export');
  }
  // Drawn after the CSVs, from the same published tables, so it never shows numbers they lack.
  const drawn = publishable ? await plan.outputs.dailyReport(warehouse, date, reportOptions) : null;
  const funnel = drawn?.funnel;
  if (!blocked) {
    if (drawn) await exporter.writeText(reportPath(date, namespace), drawn.html, 'text/html; charset=utf-8');
    else await exporter.deleteFile(reportPath(date, namespace));
    if (files.length > 0) await exporter.writeJson(completionMarkerPath(date, namespace), completionMarker(runId, date, files, now()));
  }
  return {
    date,
    status: blocked ? 'failed' : publishable ? 'published' : 'no_events',
    final,
    assertion_failures: failures,
    rows,
    ...quality,
    summary: funnel
      ? {
          sessions: Number(funnel.sessions),
          sessions_with_add_to_cart: Number(funnel.sessions_with_add_to_cart),
          abandoned_carts: Number(funnel.abandoned_carts),
          cart_abandonment_rate: funnel.cart_abandonment_rate === null ? null : String(funnel.cart_abandonment_rate),
          purchases: Number(funnel.purchases),
          revenue: String(funnel.revenue),
          abandoned_value: String(funnel.abandoned_value),
        }
      : null,
    files,
  };
}

/** Alerts the configured webhook about the days whose status it watches (best effort: never fails the run). */
async function notify(config: CartlensConfig, days: DayState[], progress: RunProgress): Promise<void> {
  if (!config.alerts) return;
  const on = new Set<string>(config.alerts.on);
  const attention = days.filter((d) => on.has(d.status));
  if (attention.length === 0) return;
  const delivered = await sendAlert(config.alerts.webhook_url, alertFor(attention.map((d) => ({ date: d.date, status: d.status, reason: d.last_error }))), webhookDelivery(config.alerts.retries));
  progress.step(delivered ? `alert sent for ${attention.length} day(s)` : 'warning: the alert could not be delivered to the webhook');
}
