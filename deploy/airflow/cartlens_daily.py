"""cartlens_daily: cartlens on Cloud Composer (Airflow 2.x and 3.x with the Google provider).

One DAG run per logical date `{{ ds }}` (the day whose GA4 events are processed). Each cartlens
step either calls a private cartlens function (default, `"runner": "function"`) with an OIDC ID
token, or executes the cartlens container as a Cloud Run job (`"runner": "cloud_run_job"`) with
the args `<command> --config ... --date {{ ds }}`.

Without Dataform (the default), one task:

    cartlens_run

- cartlens_run: `cartlens run --date {{ ds }}` (the daily function, `run_function_url`): extract,
  load, models, assertions and publish, in one run.

With `"dataform": true` (BigQuery only), cartlens extracts and publishes, Dataform builds:

    extract_load >> dataform_compile >> dataform_invoke >> publish

- extract_load: `cartlens extract --date {{ ds }}` (the extract-mode function, a deployment with
  CARTLENS_MODE=extract, e.g. `cartlens-extract`, at `extract_function_url`): the GA4 Data API's
  reports fetched and loaded into raw_ga4_api_*; for GA4's BigQuery export, a check that the day's
  daily export table exists (the function answers 503 until it does, so the task is retried with
  back-off: raise `retries` where the export is often late). Nothing is modelled or published.
- dataform_compile, dataform_invoke: a Dataform compilation result for the date (vars
  `{"run_date": "{{ ds }}", ...}`; with `"dataform_user_key": true` also `user_key_secret` from the
  Variable cartlens_dataform_user_key_secret), then a workflow invocation of it (the compilation
  result's name passed by XCom); a compilation with errors fails the task.
- publish: `cartlens publish --date {{ ds }}` (the publish-mode function, CARTLENS_MODE=publish,
  e.g. `cartlens-publish`, at `publish_function_url`): it runs the blocking assertions and
  withholds the files of a failing date.

Settings: the JSON Airflow Variable `cartlens_daily` (keys and defaults in DEFAULTS below, an
example in deploy/airflow/variables.example.json); the alert webhook's URL in the Variable
`cartlens_alert_webhook_secret` (the name holds "secret", so Airflow masks it in logs).

Function answers: 200 is success (a report with `deferred_dates` too: those days are fetched by a
later run); 429/502/503/504 and network errors raise, so Airflow retries with exponential
back-off; 500 and any other answer fail the task at once (retrying cannot help). A Cloud Run job
that exits non-zero fails its task, which Airflow retries the same way.

Grants (deploy/iam.yaml, applied with `cartlens iam plan --with composer,...`): the Composer
environment's account roles/iam.serviceAccountTokenCreator on the pipeline's account; the
pipeline's account roles/run.invoker on the functions it calls (or
roles/run.jobsExecutorWithOverrides on the job) and roles/dataform.editor on the repository.

This file has NOT been run in Airflow: its syntax and structure are checked by
test/airflow-dag.test.ts with python3 (py_compile and ast) and its top level is run against stubs
of the Airflow modules, nothing more.
"""

from __future__ import annotations

import json
import logging
import re
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pendulum

try:  # Airflow 3.x
    from airflow.sdk import DAG, Variable
except ImportError:  # Airflow 2.x
    from airflow import DAG
    from airflow.models import Variable

try:  # Airflow 3.x (the standard provider)
    from airflow.providers.standard.operators.python import PythonOperator
except ImportError:  # Airflow 2.x
    from airflow.operators.python import PythonOperator

try:  # Airflow 3.x
    from airflow.sdk.exceptions import AirflowException, AirflowFailException
except ImportError:  # Airflow 2.x (and 3.x releases without them in the SDK)
    from airflow.exceptions import AirflowException, AirflowFailException

try:  # Airflow 3.1+
    from airflow.sdk import CronDataIntervalTimetable
except ImportError:  # Airflow 2.x, 3.0
    from airflow.timetables.interval import CronDataIntervalTimetable

from airflow.providers.google.cloud.operators.cloud_run import CloudRunExecuteJobOperator
from airflow.providers.google.cloud.operators.dataform import (
    DataformCreateCompilationResultOperator,
    DataformCreateWorkflowInvocationOperator,
)

log = logging.getLogger(__name__)

DAG_ID = "cartlens_daily"
SETTINGS_VARIABLE = "cartlens_daily"
WEBHOOK_VARIABLE = "cartlens_alert_webhook_secret"
USER_KEY_VARIABLE = "cartlens_dataform_user_key_secret"  # read when the task runs, masked in logs

# Every key the Variable `cartlens_daily` may hold; None means required.
DEFAULTS = {
    "project": None,  # the Google Cloud project of the functions, the job and Dataform
    "region": "southamerica-east1",
    "service_account": None,  # cartlens-pipeline@PROJECT.iam.gserviceaccount.com: every step runs as it
    "gcp_conn_id": "google_cloud_default",
    "warehouse": "bigquery",  # bigquery | duckdb (duckdb: max_active_runs must be 1, no Dataform)
    "start_date": None,  # YYYY-MM-DD: the first logical date; catch-up runs every missed day since
    "schedule": "30 6 * * *",  # daily cron; the run for day D starts at this time on D+1
    "time_zone": "America/Sao_Paulo",  # of the schedule (the GA4 property's time zone)
    "max_active_runs": 1,  # more than 1 only on BigQuery
    "runner": "function",  # function | cloud_run_job
    "run_function_url": None,  # runner=function, no Dataform: the daily function (cartlens-daily)
    "extract_function_url": None,  # runner=function, Dataform: the extract-mode function (cartlens-extract)
    "publish_function_url": None,  # runner=function, Dataform: the publish-mode function (cartlens-publish)
    "cloud_run_job": "cartlens",  # runner=cloud_run_job: the job running the cartlens image
    "config": "deploy/cartlens.gcp.yaml",  # runner=cloud_run_job: --config inside the image
    "http_timeout_seconds": 3600,  # the functions' own timeout (deploy.sh: --timeout=3600s)
    "dataform": False,  # true: cartlens extracts, Dataform builds the tables, cartlens publishes
    "dataform_repository": "cartlens",
    "dataform_region": None,  # default: region
    "dataform_git_commitish": "main",
    "dataform_date_var": "run_date",  # the compilation variable that carries {{ ds }} (cartlens dataform)
    "dataform_user_key": False,  # true: user_key_secret from the Variable cartlens_dataform_user_key_secret
    "dataform_vars": {},  # more compilation variables (never a secret here: this Variable is not masked)
    "retries": 3,
    "retry_delay_minutes": 5,  # doubled on each retry (exponential back-off) ...
    "max_retry_delay_minutes": 60,  # ... up to this
    "alert_email": None,  # optional: also e-mail failures (needs SMTP/SendGrid set up in Composer)
}
RETRYABLE_STATUSES = {429, 502, 503, 504}
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _load_settings():
    """Reads the Variable once per parse (structure depends on it) and checks it loudly."""
    raw = Variable.get(SETTINGS_VARIABLE, None, deserialize_json=True)
    if not isinstance(raw, dict):
        raise ValueError(f"set the Airflow Variable {SETTINGS_VARIABLE} to a JSON object (see deploy/airflow/variables.example.json)")
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"{SETTINGS_VARIABLE}: unknown keys {unknown}; known: {sorted(DEFAULTS)}")
    settings = {**DEFAULTS, **raw}
    required = ["project", "service_account", "start_date"]
    if settings["runner"] == "function":
        required += ["extract_function_url", "publish_function_url"] if settings["dataform"] else ["run_function_url"]
    missing = [key for key in required if not settings[key]]
    if missing:
        raise ValueError(f"{SETTINGS_VARIABLE}: set {missing}")
    if settings["runner"] not in ("function", "cloud_run_job"):
        raise ValueError(f"{SETTINGS_VARIABLE}: runner must be function or cloud_run_job, not {settings['runner']!r}")
    if settings["warehouse"] not in ("bigquery", "duckdb"):
        raise ValueError(f"{SETTINGS_VARIABLE}: warehouse must be bigquery or duckdb, not {settings['warehouse']!r}")
    if not DATE.match(str(settings["start_date"])):
        raise ValueError(f"{SETTINGS_VARIABLE}: start_date must be YYYY-MM-DD, not {settings['start_date']!r}")
    if len(str(settings["schedule"]).split()) != 5 or str(settings["schedule"]).split()[2:] != ["*", "*", "*"]:
        raise ValueError(f"{SETTINGS_VARIABLE}: schedule must be a daily cron 'M H * * *', not {settings['schedule']!r}")
    settings["max_active_runs"] = int(settings["max_active_runs"])
    if settings["max_active_runs"] < 1:
        raise ValueError(f"{SETTINGS_VARIABLE}: max_active_runs must be at least 1")
    if settings["warehouse"] == "duckdb":
        # One DuckDB file, one writer: runs of different days must never overlap.
        if settings["max_active_runs"] != 1:
            raise ValueError(f"{SETTINGS_VARIABLE}: max_active_runs must be 1 on duckdb (one writer); parallel runs only on bigquery")
        if settings["dataform"]:
            raise ValueError(f"{SETTINGS_VARIABLE}: Dataform builds BigQuery tables; it needs warehouse bigquery")
    return settings


SETTINGS = _load_settings()


def _id_token(audience, service_account):
    """An OIDC ID token for the function's URL, minted for the pipeline's service account
    (impersonated: the Composer environment's account needs roles/iam.serviceAccountTokenCreator on it)."""
    import google.auth
    from google.auth import impersonated_credentials
    from google.auth.transport.requests import Request

    scopes = ["https://www.googleapis.com/auth/cloud-platform"]
    source, _ = google.auth.default(scopes=scopes)
    target = impersonated_credentials.Credentials(
        source_credentials=source, target_principal=service_account, target_scopes=scopes, lifetime=600
    )
    credentials = impersonated_credentials.IDTokenCredentials(target, target_audience=audience, include_email=True)
    credentials.refresh(Request())
    return credentials.token


def call_cartlens_function(url, date, service_account, timeout_seconds):
    """POSTs {"date": date} to a private cartlens function and judges its answer."""
    if not DATE.match(date):
        raise AirflowFailException(f"not a date: {date!r}")
    request = urllib.request.Request(
        url,
        data=json.dumps({"date": date}).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {_id_token(url, service_account)}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_seconds) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise AirflowException(f"cartlens function unreachable for {date}: {error}; retrying") from error
    try:
        report = json.loads(body or b"{}")
    except ValueError:
        report = {}
    if status == 200:
        deferred = report.get("deferred_dates") or []
        if deferred:
            log.warning("cartlens deferred %s to a later run", ", ".join(d.get("date", "?") for d in deferred))
        log.info("cartlens run %s done for %s", report.get("run_id"), date)
        return {"run_id": report.get("run_id"), "deferred_dates": deferred}
    reason = report.get("error") or body[:300].decode(errors="replace")
    if status in RETRYABLE_STATUSES:
        raise AirflowException(f"cartlens answered {status} for {date} (retryable): {reason}")
    raise AirflowFailException(f"cartlens answered {status} for {date}: {reason}")


def alert_on_failure(context):
    """Posts {"text": ...} (the JSON shape of cartlens' own alerts, which Slack and Google Chat
    accept) to the webhook in the Variable cartlens_alert_webhook_secret. Never fails the task."""
    ti = context.get("task_instance") or context.get("ti")
    error = (str(context.get("exception") or "").strip().splitlines() or ["see the task log"])[0][:300]
    text = f"cartlens_daily failed: task {getattr(ti, 'task_id', '?')} for {context.get('ds', '?')} (try {getattr(ti, 'try_number', '?')}): {error}"
    log.error(text)
    url = Variable.get(WEBHOOK_VARIABLE, None)
    if not url:
        log.warning("no alert sent: the Variable %s is not set", WEBHOOK_VARIABLE)
        return
    payload = json.dumps({"text": text}).encode()
    for attempt in range(3):
        try:
            request = urllib.request.Request(url, data=payload, method="POST", headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=10):
                return
        except urllib.error.HTTPError as error:
            if error.code < 500:
                log.error("alert webhook answered %s; not retried", error.code)  # the URL is a secret: never logged
                return
        except Exception as error:  # noqa: BLE001 - an alert must never fail the task
            log.warning("alert webhook unreachable (%s)", type(error).__name__)
        if attempt < 2:
            time.sleep(2**attempt)
    log.error("alert not delivered after 3 attempts")


class CartlensCloudRunJobOperator(CloudRunExecuteJobOperator):
    """The provider's operator with `overrides` templated (older provider releases do not)."""

    template_fields = tuple(dict.fromkeys((*CloudRunExecuteJobOperator.template_fields, "overrides")))


class CartlensDataformCompileOperator(DataformCreateCompilationResultOperator):
    """The provider's operator with `compilation_result` templated, failing on compilation errors."""

    template_fields = tuple(dict.fromkeys((*DataformCreateCompilationResultOperator.template_fields, "compilation_result")))

    def execute(self, context):
        result = super().execute(context)
        errors = result.get("compilation_errors") or []
        if errors:
            raise AirflowFailException(f"Dataform compilation failed: {errors[0].get('message', errors[0])} ({len(errors)} errors)")
        return result


def cartlens_step(task_id, command, url_key):
    """`cartlens <command> --date {{ ds }}`: the function (runner=function) or the Cloud Run job."""
    if SETTINGS["runner"] == "cloud_run_job":
        return CartlensCloudRunJobOperator(
            task_id=task_id,
            project_id=SETTINGS["project"],
            region=SETTINGS["region"],
            job_name=SETTINGS["cloud_run_job"],
            overrides={"container_overrides": [{"args": [command, "--config", SETTINGS["config"], "--date", "{{ ds }}"]}]},
            gcp_conn_id=SETTINGS["gcp_conn_id"],
            impersonation_chain=SETTINGS["service_account"],
        )
    return PythonOperator(
        task_id=task_id,
        python_callable=call_cartlens_function,
        op_kwargs={
            "url": SETTINGS[url_key],
            "date": "{{ ds }}",
            "service_account": SETTINGS["service_account"],
            "timeout_seconds": int(SETTINGS["http_timeout_seconds"]),
        },
    )


default_args = {
    "owner": "cartlens",
    "retries": int(SETTINGS["retries"]),
    "retry_delay": timedelta(minutes=int(SETTINGS["retry_delay_minutes"])),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=int(SETTINGS["max_retry_delay_minutes"])),
    "execution_timeout": timedelta(seconds=int(SETTINGS["http_timeout_seconds"]) + 600),
    "on_failure_callback": alert_on_failure,
}
if SETTINGS["alert_email"]:
    default_args.update({"email": [SETTINGS["alert_email"]], "email_on_failure": True, "email_on_retry": False})

start_year, start_month, start_day = (int(part) for part in SETTINGS["start_date"].split("-"))

with DAG(
    dag_id=DAG_ID,
    description="cartlens: GA4 cart events to daily CSV metrics, one run per logical date",
    # A data-interval timetable on both Airflow 2 and 3: the run for day D starts at the cron time
    # on D+1 and {{ ds }} is D (Airflow 3's default cron timetable would make {{ ds }} the run day).
    schedule=CronDataIntervalTimetable(SETTINGS["schedule"], timezone=SETTINGS["time_zone"]),
    start_date=pendulum.datetime(start_year, start_month, start_day, tz=SETTINGS["time_zone"]),
    catchup=True,
    max_active_runs=SETTINGS["max_active_runs"],
    default_args=default_args,
    tags=["cartlens"],
) as dag:
    if SETTINGS["dataform"]:
        # cartlens loads the raw data, Dataform builds every table from it, cartlens publishes.
        extract_load = cartlens_step("extract_load", "extract", "extract_function_url")
        publish = cartlens_step("publish", "publish", "publish_function_url")
        dataform_region = SETTINGS["dataform_region"] or SETTINGS["region"]
        dataform_compile = CartlensDataformCompileOperator(
            task_id="dataform_compile",
            project_id=SETTINGS["project"],
            region=dataform_region,
            repository_id=SETTINGS["dataform_repository"],
            compilation_result={
                "git_commitish": SETTINGS["dataform_git_commitish"],
                "code_compilation_config": {"vars": {
                    **SETTINGS["dataform_vars"],
                    **({"user_key_secret": "{{ var.value.%s }}" % USER_KEY_VARIABLE} if SETTINGS["dataform_user_key"] else {}),
                    SETTINGS["dataform_date_var"]: "{{ ds }}",
                }},
            },
            gcp_conn_id=SETTINGS["gcp_conn_id"],
            impersonation_chain=SETTINGS["service_account"],
        )
        dataform_invoke = DataformCreateWorkflowInvocationOperator(
            task_id="dataform_invoke",
            project_id=SETTINGS["project"],
            region=dataform_region,
            repository_id=SETTINGS["dataform_repository"],
            workflow_invocation={
                "compilation_result": "{{ task_instance.xcom_pull(task_ids='dataform_compile')['name'] }}",
            },
            gcp_conn_id=SETTINGS["gcp_conn_id"],
            impersonation_chain=SETTINGS["service_account"],
        )
        extract_load >> dataform_compile >> dataform_invoke >> publish
    else:
        # One full run: it extracts, loads, models, checks and publishes the day.
        cartlens_run = cartlens_step("cartlens_run", "run", "run_function_url")
