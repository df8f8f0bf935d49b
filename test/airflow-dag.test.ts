import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// deploy/airflow/cartlens_daily.py has never run in Airflow (it is not installable here): these
// tests check its syntax with the machine's python3 (py_compile), its structure with Python's ast,
// and its top level against stubs of the Airflow modules (test/support/airflow_dag_check.py).
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

function py(args: string[], cwd?: string) {
  // Byte code goes to a temporary folder, never into deploy/airflow/__pycache__.
  const env = { ...process.env, PYTHONPYCACHEPREFIX: join(tempDir(), 'pycache'), PYTHONDONTWRITEBYTECODE: '' };
  return spawnSync('python3', args, { encoding: 'utf8', env, ...(cwd ? { cwd } : {}) });
}

function check(file: string): Checked & { status: number | null } {
  const result = py([CHECKER, file]);
  if (!result.stdout.trim().startsWith('{')) throw new Error(`the checker crashed: ${result.stderr}`);
  return { ...(JSON.parse(result.stdout) as Checked), status: result.status };
}

function execute(variables: Record<string, unknown>, file = DAG_FILE) {
  const vars = join(tempDir(), 'variables.json');
  writeFileSync(vars, JSON.stringify(variables));
  const result = py([CHECKER, '--execute', file, vars]);
  if (!result.stdout.trim().startsWith('{')) throw new Error(`the stub run crashed: ${result.stderr}`);
  return { ...(JSON.parse(result.stdout) as { error?: string; dag: Record<string, unknown>; tasks: Record<string, { operator: string; kwargs: Record<string, unknown> }>; edges: string[][]; template_fields: Record<string, string[]> }), status: result.status };
}

function mutated(from: string, to: string): string {
  const source = readFileSync(DAG_FILE, 'utf8');
  // A mutation that finds nothing to change would prove nothing.
  expect(source, `the DAG no longer contains: ${from}`).toContain(from);
  const file = join(tempDir(), 'cartlens_daily.py');
  writeFileSync(file, source.replace(from, to));
  return file;
}

const SETTINGS = {
  project: 'my-store-analytics',
  service_account: 'cartlens-pipeline@my-store-analytics.iam.gserviceaccount.com',
  start_date: '2026-01-01',
  run_function_url: 'https://cartlens-daily.example.run.app',
  publish_function_url: 'https://cartlens-publish.example.run.app',
};

describe('the Airflow DAG (python3 required on CI)', () => {
  it.runIf(unavailable && process.env.CI)('runs (it is never skipped on CI)', () => {
    throw new Error(`python3 is required on CI: ${unavailable}`);
  });
});

describe.skipIf(unavailable)('the Cloud Composer DAG deploy/airflow/cartlens_daily.py (never run in Airflow)', () => {
  it('compiles with py_compile', () => {
    const result = py(['-m', 'py_compile', DAG_FILE]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('has the id, a daily schedule, catch-up, retries with back-off, the alert and the order of its tasks', () => {
    const { errors, facts, status } = check(DAG_FILE);
    expect(errors).toEqual([]);
    expect(status).toBe(0);
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
      commands: ['run', 'publish'],
      order: {
        dataform: [['extract_load', 'dataform_compile', 'dataform_invoke', 'publish']],
        no_dataform: [['extract_load', 'publish']],
      },
    });
    expect(facts.default_args).toEqual(expect.arrayContaining(['retries', 'retry_delay', 'retry_exponential_backoff', 'max_retry_delay', 'on_failure_callback']));
    expect(facts.retryable_statuses).toContain(503);
    expect(facts.retryable_statuses).not.toContain(500);
  });

  it.each([
    ['catch-up off', 'catchup=True', 'catchup=False', /catchup is not True/],
    ['a weekly schedule', '"schedule": "30 6 * * *"', '"schedule": "30 6 * * 1"', /schedule is not daily/],
    ['Dataform before the load', 'extract_load >> dataform_compile >> dataform_invoke >> publish', 'dataform_compile >> dataform_invoke >> extract_load >> publish', /with Dataform the order/],
    ['no publish without Dataform', '        extract_load >> publish\n', '        extract_load\n', /without Dataform the order/],
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
  ])('rejects a copy with %s', (_what, from, to, expected) => {
    const { errors, status } = check(mutated(from, to));
    expect(status).toBe(1);
    expect(errors.join('\n')).toMatch(expected);
  });

  it('rejects a copy with a syntax error (py_compile)', () => {
    const result = py(['-m', 'py_compile', mutated('def cartlens_step(task_id, command, url_key):', 'def cartlens_step(task_id, command, url_key)')]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/SyntaxError/);
  });

  describe('its top level, run against stubs of the Airflow modules (not Airflow)', () => {
    it('by default: the function for {{ ds }}, then the publish function, one run at a time, catching up', () => {
      const run = execute({ cartlens_daily: SETTINGS });
      expect(run.error).toBeUndefined();
      expect(run.dag).toMatchObject({ dag_id: 'cartlens_daily', catchup: true, max_active_runs: 1 });
      expect(String(run.dag.schedule)).toBe("CronDataIntervalTimetable('30 6 * * *', timezone='America/Sao_Paulo')");
      expect(run.edges).toEqual([['extract_load', 'publish']]);
      expect(run.tasks.extract_load!.kwargs.op_kwargs).toMatchObject({ url: SETTINGS.run_function_url, date: '{{ ds }}', service_account: SETTINGS.service_account });
      expect(run.tasks.publish!.kwargs.op_kwargs).toMatchObject({ url: SETTINGS.publish_function_url, date: '{{ ds }}' });
    });

    it('with Dataform: compile and invoke between the load and the publish, the result passed by XCom', () => {
      const run = execute({ cartlens_daily: { ...SETTINGS, dataform: true, max_active_runs: 3 } });
      expect(run.edges).toEqual([['extract_load', 'dataform_compile'], ['dataform_compile', 'dataform_invoke'], ['dataform_invoke', 'publish']]);
      expect(run.dag.max_active_runs).toBe(3);
      expect(run.tasks.dataform_compile!.kwargs).toMatchObject({
        repository_id: 'cartlens',
        impersonation_chain: SETTINGS.service_account,
        compilation_result: { git_commitish: 'main', code_compilation_config: { vars: { run_date: '{{ ds }}' } } },
      });
      const withKey = execute({ cartlens_daily: { ...SETTINGS, dataform: true, dataform_user_key: true } });
      expect(withKey.tasks.dataform_compile!.kwargs.compilation_result).toMatchObject({ code_compilation_config: { vars: { run_date: '{{ ds }}', user_key_secret: '{{ var.value.cartlens_dataform_user_key_secret }}' } } });
      expect(run.tasks.dataform_invoke!.kwargs.workflow_invocation).toEqual({ compilation_result: "{{ task_instance.xcom_pull(task_ids='dataform_compile')['name'] }}" });
      // Templated even on provider releases that do not template these fields.
      expect(run.template_fields.CartlensDataformCompileOperator).toContain('compilation_result');
      expect(run.template_fields.CartlensCloudRunJobOperator).toContain('overrides');
    });

    it('as a Cloud Run job: `run|publish --config … --date {{ ds }}` under the pipeline account', () => {
      const run = execute({ cartlens_daily: { ...SETTINGS, runner: 'cloud_run_job', run_function_url: null, publish_function_url: null } });
      expect(run.tasks.extract_load).toMatchObject({
        operator: 'CartlensCloudRunJobOperator',
        kwargs: { job_name: 'cartlens', impersonation_chain: SETTINGS.service_account, overrides: { container_overrides: [{ args: ['run', '--config', 'deploy/cartlens.gcp.yaml', '--date', '{{ ds }}'] }] } },
      });
      expect(run.tasks.publish!.kwargs.overrides).toEqual({ container_overrides: [{ args: ['publish', '--config', 'deploy/cartlens.gcp.yaml', '--date', '{{ ds }}'] }] });
    });

    it.each([
      ['parallel runs on DuckDB', { warehouse: 'duckdb', max_active_runs: 2 }, /max_active_runs must be 1 on duckdb/],
      ['Dataform on DuckDB', { warehouse: 'duckdb', dataform: true }, /Dataform builds BigQuery tables/],
      ['a misspelt key', { max_active_run: 2 }, /unknown keys \['max_active_run'\]/],
      ['no start date', { start_date: null }, /set \['start_date'\]/],
      ['a weekly schedule', { schedule: '0 6 * * 1' }, /daily cron/],
    ])('refuses %s, loudly, when Airflow parses the file', (_what, settings, expected) => {
      const run = execute({ cartlens_daily: { ...SETTINGS, ...settings } });
      expect(run.status).toBe(1);
      expect(run.error).toMatch(expected);
    });

    it('refuses to load without its Variable', () => {
      expect(execute({}).error).toMatch(/set the Airflow Variable cartlens_daily/);
    });

    it('the example Variables file is accepted', () => {
      const example = JSON.parse(readFileSync('deploy/airflow/variables.example.json', 'utf8')) as Record<string, unknown>;
      const run = execute(example);
      expect(run.error).toBeUndefined();
      expect(run.edges).toEqual([['extract_load', 'publish']]);
    });
  });
});
