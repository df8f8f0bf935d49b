import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

// deploy/airflow/cartlens_daily.py has never run in Airflow (it is not installable here): these
// tests check its syntax with the machine's python3 (py_compile), its structure with Python's ast,
// and its top level against stubs of the Airflow modules (test/support/airflow_dag_check.py).
// Every check, of the file and of each mutated copy, runs in ONE python3 process (--batch); each
// test then asserts on its own job's result, so each can still fail on its own.
const DAG_FILE = 'deploy/airflow/cartlens_daily.py';
const CHECKER = 'test/support/airflow_dag_check.py';
const python = spawnSync('python3', ['--version'], { encoding: 'utf8' });
const unavailable = python.error || python.status !== 0 ? `python3 not found (${python.error?.message ?? python.stderr})` : '';
/** A fresh folder under the test file's own temporary root (test/support/setup.ts deletes it). */
const tempDir = () => mkdtempSync(join(process.env.CARTLENS_TEST_TMP ?? tmpdir(), 'airflow-'));

if (unavailable && !process.env.CI) process.stderr.write(`\n*** SKIPPED: the Airflow DAG's checks: ${unavailable} ***\n\n`);

interface Checked {
  errors: string[];
  facts: Record<string, unknown>;
}
interface Executed {
  error?: string;
  dag: Record<string, unknown>;
  tasks: Record<string, { operator: string; kwargs: Record<string, unknown> }>;
  edges: string[][];
  template_fields: Record<string, string[]>;
}
interface Compiled {
  ok: boolean;
  error?: string;
}
type Job = { id: string; kind: 'check'; file: string } | { id: string; kind: 'execute'; file: string; variables: Record<string, unknown> } | { id: string; kind: 'compile'; file: string; cfile: string };

const SETTINGS = {
  project: 'my-store-analytics',
  service_account: 'cartlens-pipeline@my-store-analytics.iam.gserviceaccount.com',
  start_date: '2026-01-01',
  run_function_url: 'https://cartlens-daily.example.run.app',
};
const DATAFORM = {
  ...SETTINGS,
  dataform: true,
  extract_function_url: 'https://cartlens-extract.example.run.app',
  publish_function_url: 'https://cartlens-publish.example.run.app',
};
const JOB = { runner: 'cloud_run_job', run_function_url: null };

/** Copies of the DAG with one thing broken: [what, from, to, the error the check must give]. */
const MUTATIONS: [string, string, string, RegExp][] = [
  ['catch-up off', 'catchup=True', 'catchup=False', /catchup is not True/],
  ['a weekly schedule', '"schedule": "30 6 * * *"', '"schedule": "30 6 * * 1"', /schedule is not daily/],
  ['Dataform before the load', '        extract_load >> dataform_compile >> dataform_invoke >> publish\n', '        dataform_compile >> dataform_invoke >> extract_load >> publish\n', /with Dataform the order/],
  ['a full run before Dataform', 'cartlens_step("extract_load", "extract", "extract_function_url")', 'cartlens_step("extract_load", "run", "run_function_url")', /with Dataform the cartlens steps are .*not `cartlens extract`/],
  ['no publish after Dataform', '        extract_load >> dataform_compile >> dataform_invoke >> publish\n', '        extract_load >> dataform_compile >> dataform_invoke\n', /with Dataform the order/],
  [
    'a publish after the full run',
    '        cartlens_run = cartlens_step("cartlens_run", "run", "run_function_url")\n',
    '        cartlens_run = cartlens_step("cartlens_run", "run", "run_function_url")\n        publish = cartlens_step("publish", "publish", "publish_function_url")\n        cartlens_run >> publish\n',
    /without Dataform the steps are .*not one `cartlens run`/,
  ],
  ['an extract instead of the full run', 'cartlens_step("cartlens_run", "run", "run_function_url")', 'cartlens_step("cartlens_run", "extract", "extract_function_url")', /without Dataform the steps/],
  ['a fixed date sent', '"date": "{{ ds }}"', '"date": "2026-01-01"', /sent the date '2026-01-01'/],
  ['a job without --date', '"--date", "{{ ds }}"', '"--date", "yesterday"', /not given --date \{\{ ds \}\}/],
  ['no back-off', '"retry_exponential_backoff": True,', '', /retry_exponential_backoff/],
  ['no retries', '"retries": 3,', '"retries": 0,', /retries is 0/],
  ['no alert', '"on_failure_callback": alert_on_failure,', '', /no on_failure_callback/],
  ['parallel runs by default', '"max_active_runs": 1,', '"max_active_runs": 2,', /does not default to 1/],
  ['DuckDB allowed in parallel', 'if settings["max_active_runs"] != 1:', 'if settings["max_active_runs"] > 8:', /max_active_runs != 1 on duckdb/],
  ['500 retried', 'RETRYABLE_STATUSES = {429, 502, 503, 504}', 'RETRYABLE_STATUSES = {429, 500, 502, 503, 504}', /500 must not/],
  ['an unguarded import', 'try:  # Airflow 3.x\n    from airflow.sdk import DAG, Variable\nexcept ImportError:  # Airflow 2.x\n    from airflow import DAG\n    from airflow.models import Variable', 'from airflow import DAG\nfrom airflow.models import Variable', /not guarded/],
  ['schedule_interval (gone in Airflow 3)', 'catchup=True,', 'catchup=True, schedule_interval="@daily",', /schedule_interval/],
];
const SYNTAX_ERROR: [string, string] = ['def cartlens_step(task_id, command, url_key):', 'def cartlens_step(task_id, command, url_key)'];

/** Airflow Variables to run the top level with: a name → the Variables. */
const RUNS: Record<string, Record<string, unknown>> = {
  default: { cartlens_daily: SETTINGS },
  dataform: { cartlens_daily: { ...DATAFORM, max_active_runs: 3 } },
  dataformKey: { cartlens_daily: { ...DATAFORM, dataform_user_key: true } },
  job: { cartlens_daily: { ...SETTINGS, ...JOB } },
  jobDataform: { cartlens_daily: { ...DATAFORM, ...JOB, extract_function_url: null, publish_function_url: null } },
  noVariable: {},
};
/** Settings refused when Airflow parses the file: [what, settings over SETTINGS, the error]. */
const REFUSALS: [string, Record<string, unknown>, RegExp][] = [
  ['parallel runs on DuckDB', { warehouse: 'duckdb', max_active_runs: 2 }, /max_active_runs must be 1 on duckdb/],
  ['Dataform on DuckDB', { ...DATAFORM, warehouse: 'duckdb' }, /Dataform builds BigQuery tables/],
  ['a misspelt key', { max_active_run: 2 }, /unknown keys \['max_active_run'\]/],
  ['no start date', { start_date: null }, /set \['start_date'\]/],
  ['a weekly schedule', { schedule: '0 6 * * 1' }, /daily cron/],
  ['Dataform without the extract function', { ...DATAFORM, extract_function_url: null }, /set \['extract_function_url'\]/],
  ['no daily function without Dataform', { run_function_url: null }, /set \['run_function_url'\]/],
];

describe('the Airflow DAG (python3 required on CI)', () => {
  it.runIf(unavailable && process.env.CI)('runs (it is never skipped on CI)', () => {
    throw new Error(`python3 is required on CI: ${unavailable}`);
  });
});

describe.skipIf(unavailable)('the Cloud Composer DAG deploy/airflow/cartlens_daily.py (never run in Airflow)', () => {
  const source = readFileSync(DAG_FILE, 'utf8');
  let results: Record<string, unknown> = {};
  const result = <T>(id: string): T => {
    const found = results[id] as (T & { crash?: string; trace?: string }) | undefined;
    if (found === undefined) throw new Error(`no result for ${id}`);
    if (found.crash) throw new Error(`the checker crashed on ${id}: ${found.trace}`);
    return found;
  };
  const checked = (id: string) => result<Checked>(id);
  const executed = (id: string) => result<Executed>(id);

  beforeAll(() => {
    const dir = tempDir();
    const copy = (name: string, from: string, to: string) => {
      const file = join(dir, `${name}.py`);
      writeFileSync(file, source.replace(from, to));
      return file;
    };
    const jobs: Job[] = [
      { id: 'compile', kind: 'compile', file: DAG_FILE, cfile: join(dir, 'cartlens_daily.pyc') },
      { id: 'compile-syntax-error', kind: 'compile', file: copy('syntax-error', ...SYNTAX_ERROR), cfile: join(dir, 'syntax-error.pyc') },
      { id: 'check', kind: 'check', file: DAG_FILE },
      ...MUTATIONS.map(([, from, to], i): Job => ({ id: `mutation-${i}`, kind: 'check', file: copy(`mutation-${i}`, from, to) })),
      ...Object.entries(RUNS).map(([name, variables]): Job => ({ id: `run-${name}`, kind: 'execute', file: DAG_FILE, variables })),
      ...REFUSALS.map(([, settings], i): Job => ({ id: `refusal-${i}`, kind: 'execute', file: DAG_FILE, variables: { cartlens_daily: { ...SETTINGS, ...settings } } })),
      { id: 'example', kind: 'execute', file: DAG_FILE, variables: JSON.parse(readFileSync('deploy/airflow/variables.example.json', 'utf8')) as Record<string, unknown> },
    ];
    const jobsFile = join(dir, 'jobs.json');
    writeFileSync(jobsFile, JSON.stringify(jobs));
    // Byte code goes to a temporary folder, never into deploy/airflow/__pycache__.
    const env = { ...process.env, PYTHONPYCACHEPREFIX: join(dir, 'pycache'), PYTHONDONTWRITEBYTECODE: '1' };
    const run = spawnSync('python3', [CHECKER, '--batch', jobsFile], { encoding: 'utf8', env, maxBuffer: 64 * 2 ** 20 });
    if (run.status !== 0 || !run.stdout.trim().startsWith('{')) throw new Error(`the checker crashed (exit ${run.status}): ${run.stderr}`);
    results = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(Object.keys(results).sort()).toEqual(jobs.map((j) => j.id).sort());
  });

  it('compiles with py_compile', () => {
    expect(result<Compiled>('compile')).toEqual({ ok: true });
  });

  it('rejects a copy with a syntax error (py_compile)', () => {
    expect(source.split(SYNTAX_ERROR[0]).length - 1).toBe(1);
    const compiled = result<Compiled>('compile-syntax-error');
    expect(compiled.ok).toBe(false);
    expect(compiled.error).toMatch(/SyntaxError/);
  });

  it('has the id, a daily schedule, catch-up, retries with back-off, the alert and its tasks: a full run, or extract → Dataform → publish', () => {
    const { errors, facts } = checked('check');
    expect(errors).toEqual([]);
    expect(facts).toMatchObject({
      dag_id: 'cartlens_daily',
      settings_variable: 'cartlens_daily',
      schedule: '30 6 * * *',
      catchup: true,
      max_active_runs_default: 1,
      duckdb_rule: true,
      retries: 3,
      on_failure_callback: 'alert_on_failure',
      function_date: '{{ ds }}',
      steps: {
        dataform: [['extract_load', 'extract', 'extract_function_url'], ['publish', 'publish', 'publish_function_url']],
        no_dataform: [['cartlens_run', 'run', 'run_function_url']],
      },
      order: {
        dataform: [['extract_load', 'dataform_compile', 'dataform_invoke', 'publish']],
        no_dataform: [],
      },
    });
    expect(facts.default_args).toEqual(expect.arrayContaining(['retries', 'retry_delay', 'retry_exponential_backoff', 'max_retry_delay', 'on_failure_callback']));
    expect(facts.retryable_statuses).toContain(503);
    expect(facts.retryable_statuses).not.toContain(500);
  });

  it.each(MUTATIONS.map((m, i) => [...m, i] as const))('rejects a copy with %s', (_what, from, _to, expected, i) => {
    // A mutation that finds nothing to change would prove nothing; one that could change another
    // place (the docstring) might not change the code.
    expect(source.split(from).length - 1, `the DAG should contain exactly once: ${from}`).toBe(1);
    const { errors } = checked(`mutation-${i}`);
    expect(errors.join('\n')).toMatch(expected);
  });

  describe('its top level, run against stubs of the Airflow modules (not Airflow)', () => {
    it('by default: one full run, `cartlens run` by the daily function for {{ ds }}, one run at a time, catching up', () => {
      const run = executed('run-default');
      expect(run.error).toBeUndefined();
      expect(run.dag).toMatchObject({ dag_id: 'cartlens_daily', catchup: true, max_active_runs: 1 });
      expect(String(run.dag.schedule)).toBe("CronDataIntervalTimetable('30 6 * * *', timezone='America/Sao_Paulo')");
      expect(Object.keys(run.tasks)).toEqual(['cartlens_run']);
      expect(run.edges).toEqual([]);
      expect(run.tasks.cartlens_run!.kwargs.op_kwargs).toMatchObject({ url: SETTINGS.run_function_url, date: '{{ ds }}', service_account: SETTINGS.service_account });
    });

    it('with Dataform: the extract function, then compile and invoke, then the publish function; the result passed by XCom', () => {
      const run = executed('run-dataform');
      expect(run.error).toBeUndefined();
      expect(run.edges).toEqual([['extract_load', 'dataform_compile'], ['dataform_compile', 'dataform_invoke'], ['dataform_invoke', 'publish']]);
      expect(Object.keys(run.tasks).sort()).toEqual(['dataform_compile', 'dataform_invoke', 'extract_load', 'publish']);
      expect(run.dag.max_active_runs).toBe(3);
      expect(run.tasks.extract_load!.kwargs.op_kwargs).toMatchObject({ url: DATAFORM.extract_function_url, date: '{{ ds }}' });
      expect(run.tasks.publish!.kwargs.op_kwargs).toMatchObject({ url: DATAFORM.publish_function_url, date: '{{ ds }}' });
      expect(run.tasks.dataform_compile!.kwargs).toMatchObject({
        repository_id: 'cartlens',
        impersonation_chain: SETTINGS.service_account,
        compilation_result: { git_commitish: 'main', code_compilation_config: { vars: { run_date: '{{ ds }}' } } },
      });
      expect(run.tasks.dataform_compile!.kwargs.compilation_result).not.toMatchObject({ code_compilation_config: { vars: { user_key_secret: expect.anything() } } });
      const withKey = executed('run-dataformKey');
      expect(withKey.tasks.dataform_compile!.kwargs.compilation_result).toMatchObject({ code_compilation_config: { vars: { run_date: '{{ ds }}', user_key_secret: '{{ var.value.cartlens_dataform_user_key_secret }}' } } });
      expect(run.tasks.dataform_invoke!.kwargs.workflow_invocation).toEqual({ compilation_result: "{{ task_instance.xcom_pull(task_ids='dataform_compile')['name'] }}" });
      // Templated even on provider releases that do not template these fields.
      expect(run.template_fields.CartlensDataformCompileOperator).toContain('compilation_result');
      expect(run.template_fields.CartlensCloudRunJobOperator).toContain('overrides');
    });

    it('as a Cloud Run job: `run`, or `extract` then `publish`, `--config … --date {{ ds }}` under the pipeline account', () => {
      const run = executed('run-job');
      expect(run.error).toBeUndefined();
      expect(run.tasks.cartlens_run).toMatchObject({
        operator: 'CartlensCloudRunJobOperator',
        kwargs: { job_name: 'cartlens', impersonation_chain: SETTINGS.service_account, overrides: { container_overrides: [{ args: ['run', '--config', 'deploy/cartlens.gcp.yaml', '--date', '{{ ds }}'] }] } },
      });
      const dataform = executed('run-jobDataform');
      expect(dataform.error).toBeUndefined();
      expect(dataform.tasks.extract_load!.kwargs.overrides).toEqual({ container_overrides: [{ args: ['extract', '--config', 'deploy/cartlens.gcp.yaml', '--date', '{{ ds }}'] }] });
      expect(dataform.tasks.publish!.kwargs.overrides).toEqual({ container_overrides: [{ args: ['publish', '--config', 'deploy/cartlens.gcp.yaml', '--date', '{{ ds }}'] }] });
    });

    it.each(REFUSALS.map((r, i) => [...r, i] as const))('refuses %s, loudly, when Airflow parses the file', (_what, _settings, expected, i) => {
      expect(executed(`refusal-${i}`).error).toMatch(expected);
    });

    it('refuses to load without its Variable', () => {
      expect(executed('run-noVariable').error).toMatch(/set the Airflow Variable cartlens_daily/);
    });

    it('the example Variables file is accepted', () => {
      const run = executed('example');
      expect(run.error).toBeUndefined();
      expect(Object.keys(run.tasks)).toEqual(['cartlens_run']);
    });
  });
});
