// The run's transaction (load … commit) and what a run carries from step to step (`RunInProgress`), apart from the step loop of run.ts.
import { performance } from 'node:perf_hooks';
import { type Exporter } from '../exports/exporter.js';
import { checkPublishedDates, recordAnomalyJudgements } from '../ops/anomalies.js';
import { runStateKeys } from '../sources/source.js';
import { recordRunSql, stagedEventDatesSql } from '../warehouse/state-sql.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { AssertionCheck } from './check-assertions.js';
import { clearLateLines, describeShrink, headlineOf, publishedSessions, shrinkFailures } from './published-guards.js';
import { crashPoint } from '../util/crash-points.js';
import { datesAround } from '../util/dates.js';
import { type DayStatus } from './due-dates.js';
import { compareRestatements, existingTables, previousRuns, recordRestatements, restatementScope, snapshotPublished } from './restatements.js';
import { compilePlan, TRANSACTION_STEPS, type RunPlan, type RunStep } from './plan.js';
import { type RunProgress } from './progress.js';
import type { AssertionFailure, DateReport, Restatement, RunReport, StepRecord } from './report.js';
import { recordDays, type DayState } from './run-state.js';
import { type RunMode, type StagedInput } from './staged-input.js';
import { recordUserKeyFingerprint } from './user-key.js';

export const secondsSince = (started: number) => Math.round(performance.now() - started) / 1000;

/** What a run knows as its steps go: each step reads what the ones before it left. */
export interface RunInProgress {
  /** The dates asked for: named, or the due ones once the run state is read. */
  asked: string[] | undefined;
  /** The dates the run replaces, once staged: a failure after that marks them failed, named or not. */
  chosen: string[] | undefined;
  staged: StagedInput | undefined;
  recorded: DayState[];
  /** Dates whose files were published whole before this run (a run killed while publishing: not). */
  published: ReadonlySet<string>;
  failures: Map<string, AssertionFailure[]>;
  dateReports: DateReport[];
  anomalyChecks: Awaited<ReturnType<typeof checkPublishedDates>>;
  anomalyAlerts: Awaited<ReturnType<typeof recordAnomalyJudgements>>;
  days: DayState[];
  closed: boolean;
  exporter: Exporter | undefined;
  swept?: boolean;
  /** The run's report, once the report step wrote it. */
  report?: RunReport;
  /** Dates around the run's with staged events, whose cart_recoveries the run recomputed too. */
  reached: string[];
  republished: string[];
  /** What the committed transaction changed in dates published before (src/pipeline/restatements.ts). */
  restatements: Restatement[];
}

export type TransactionStep = Extract<RunStep, { kind: 'load' | 'model' | 'assert' | 'commit' }>;

export function isTransactionStep(step: RunStep): step is TransactionStep {
  return TRANSACTION_STEPS.has(step.kind);
}

interface TransactionContext {
  runId: string;
  startedAt: Date;
  now: () => Date;
  progress: RunProgress;
  /** The source's identity (run_state, published_sessions, late_lines). */
  source: string;
  mode: RunMode;
  acceptShrink: boolean;
  stateOf: (date: string, status: DayStatus, fields?: Partial<DayState>) => DayState;
}

/** Thrown inside the transaction to undo it: these dates would shrink (published-guards.ts). */
class ShrinkWithheld extends Error {
  constructor(readonly failures: Map<string, AssertionFailure>) {
    super(`withheld: ${[...failures.keys()].join(', ')}`);
  }
}

/**
 * The plan's load … commit steps, in one transaction over the run's dates: the staged input, every
 * model, the assertions, and the run's record. With the shrink guard: a date whose headline would
 * fall by more than the allowed share of what was published is withheld whole (its staged input,
 * tables and files stay as they were) and reported as a blocking failure; the transaction is
 * undone and the steps run again over the other dates. Leaves each date's assertion failures in
 * `run.failures`; returns the steps' records (seconds summed over the attempts).
 */
export async function runTransaction(plan: RunPlan, warehouse: Warehouse, steps: TransactionStep[], staged: StagedInput, run: RunInProgress, context: TransactionContext): Promise<StepRecord[]> {
  const { progress, runId } = context;
  const dates = run.chosen ?? [];
  if (dates.length === 0) return steps.map((s) => ({ name: s.name, kind: s.kind, status: 'skipped', seconds: 0, reason: 'no date to load' }));
  const seconds = new Map<string, number>();
  const timed = async (step: TransactionStep, work: () => Promise<void>) => {
    const started = performance.now();
    await work();
    seconds.set(step.name, (seconds.get(step.name) ?? 0) + secondsSince(started));
  };
  // Extract mode builds nothing, so nothing can shrink.
  const guard = context.mode === 'extract' || context.acceptShrink ? undefined : plan.outputs.headline;
  // What was published: its record, or for dates published before it was kept, the tables as they stand.
  const before = guard ? await publishedSessions(warehouse, context.source, dates) : new Map<string, number>();
  const unrecorded = dates.filter((d) => !before.has(d) && run.published.has(d));
  if (guard && unrecorded.length > 0) for (const [date, value] of await headlineOf(warehouse, guard, unrecorded)) before.set(date, value);
  const withheld = new Map<string, AssertionFailure>();
  let remaining = dates;
  const reaching = steps.flatMap((s) => (s.kind === 'model' && s.model.reach ? [s.model.reach] : []))[0];
  // The restatement log: only a run's models change published rows (publish mode builds nothing).
  const reachingTables = new Set(steps.flatMap((s) => (s.kind === 'model' && s.model.reach ? [s.model.name] : [])));
  let restating: typeof plan.outputs.tables | undefined;
  for (;;) {
    const attempt = remaining;
    // A model that reads other dates (cart_recoveries) is computed for the run's dates and the dates around them that have staged events.
    const around = reaching && attempt.length > 0 ? datesAround(attempt, -reaching.before, reaching.after).filter((d) => !attempt.includes(d)) : [];
    run.reached = around.length === 0 ? [] : (await warehouse.query(stagedEventDatesSql(warehouse.dialect, around))).map((row) => String(row.date)).sort();
    const compiled = compilePlan(plan, warehouse.dialect, attempt, reaching ? [...attempt, ...run.reached].sort() : undefined);
    const statementsOf = new Map(compiled.models.map((m) => [m.model, m.statements]));
    let failures = new Map<string, AssertionFailure[]>();
    const check = new AssertionCheck(warehouse, attempt, runId);
    const lastAssert = steps.filter((s) => s.kind === 'assert').at(-1);
    // Published dates the attempt recomputes: their rows are compared before and after the models.
    let scope = context.mode === 'run' ? restatementScope(plan.outputs.tables, run.published, attempt, run.reached, reachingTables) : [];
    if (scope.length > 0) {
      restating ??= await existingTables(warehouse, plan.outputs.tables, scope[0]!.dates[0]!);
      const present = new Set(restating.map((t) => t.name));
      scope = scope.filter((s) => present.has(s.table.name));
    }
    const previous = await previousRuns(warehouse, context.source, [...new Set(scope.flatMap((s) => s.dates))], run.recorded);
    try {
      if (attempt.length > 0) {
        await warehouse.transaction(async () => {
          if (scope.length > 0) await snapshotPublished(warehouse, scope);
          for (const step of steps) {
            await timed(step, async () => {
              switch (step.kind) {
                case 'load':
                  progress.step(`loading ${attempt.length} date(s)`, { step: 'load', dates: attempt });
                  await staged.load(attempt);
                  return;
                case 'model':
                  progress.step(`model ${step.model.name}`, { step: 'model', model: step.model.name });
                  for (const statement of statementsOf.get(step.model.name) ?? []) await warehouse.execute(statement);
                  return;
                case 'assert':
                  if (step === steps.find((s) => s.kind === 'assert')) progress.step(`checking ${plan.assertions.length} assertions`, { step: 'assertions' });
                  await check.run(step.assertion);
                  // Kept together once all ran (none to check, extract mode: the dates' earlier outcomes stay).
                  if (step === lastAssert) failures = await check.record();
                  return;
                case 'commit': {
                  const shrunk = guard ? shrinkFailures(new Map([...before].filter(([d]) => attempt.includes(d))), await headlineOf(warehouse, guard, attempt), plan.config.guards.max_shrink_share, guard) : new Map<string, AssertionFailure>();
                  // A shrunk date keeps everything it had: the whole transaction goes, and the rest runs again.
                  if (shrunk.size > 0) throw new ShrinkWithheld(shrunk);
                  progress.step('committing', { step: 'commit' });
                  // A date whose files a blocking assertion withholds is not republished: nothing restated.
                  const blocked = new Set([...failures].filter(([, f]) => f.some((x) => x.blocking)).map(([d]) => d));
                  run.restatements = await compareRestatements(warehouse, scope.map((s) => ({ table: s.table, dates: s.dates.filter((d) => !blocked.has(d)) })).filter((s) => s.dates.length > 0), previous);
                  await recordRestatements(warehouse, run.restatements, runId);
                  await clearLateLines(warehouse, context.source, attempt);
                  await warehouse.execute(recordRunSql(warehouse.dialect, { runId, startedAt: context.startedAt, committedAt: context.now(), dates: attempt, source: plan.source.description, files: staged.files.length }));
                  await recordUserKeyFingerprint(warehouse, runId);
                  // Committed with the tables, replaced once the files are published: a kill in between leaves it.
                  if (context.mode !== 'extract') await recordDays(warehouse, attempt.map((date) => context.stateOf(date, 'publishing', { input_fingerprint: staged.fingerprint })), runStateKeys(plan.source).legacy);
                  crashPoint('before-commit');
                  return;
                }
              }
            });
          }
        });
      }
      for (const [date, failure] of withheld) failures.set(date, [failure]);
      run.failures = failures;
      return steps.map((s) => ({ name: s.name, kind: s.kind, status: 'done', seconds: Math.round((seconds.get(s.name) ?? 0) * 1000) / 1000 }));
    } catch (error) {
      if (!(error instanceof ShrinkWithheld)) throw error;
      for (const [date, failure] of error.failures) withheld.set(date, failure);
      remaining = remaining.filter((d) => !withheld.has(d));
      progress.step(`withheld ${[...error.failures.keys()].join(', ')}: ${describeShrink([...error.failures.values()][0]!)}`, { step: 'assertions' });
    }
  }
}
