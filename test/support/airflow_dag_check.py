"""Checks deploy/airflow/cartlens_daily.py without Airflow (it is not installable here).

  python3 airflow_dag_check.py --batch JOBS_JSON
      runs every job of the JSON list in this one process and prints {"<id>": <result>, ...}:
        {"id": ..., "kind": "check", "file": FILE}
            its structure, with Python's ast: {"errors": [...], "facts": {...}}
        {"id": ..., "kind": "execute", "file": FILE, "variables": {...}}
            runs the file's top level against STUBS of the Airflow modules it imports (not Airflow:
            the stubs only record tasks, their arguments and the >> edges), with the Airflow
            Variables given: {"dag": {...}, "tasks": {...}, "edges": [...], "template_fields": {...}}
            or {"error": "..."}
        {"id": ..., "kind": "compile", "file": FILE, "cfile": BYTECODE}
            py_compile: {"ok": true} or {"ok": false, "error": "..."}
      Each job is independent of the others (fresh stubs and namespace; a job that raises is
      reported as {"crash": "..."}), so one process can check many mutated copies.
  python3 airflow_dag_check.py FILE
  python3 airflow_dag_check.py --execute FILE VARIABLES_JSON
      one check or one stub run, printed alone (exit 1 on errors), for a look by hand.
"""

import ast
import json
import py_compile
import re
import sys
import traceback
import types

DS = "{{ ds }}"


def const(node):
    return node.value if isinstance(node, ast.Constant) else None


def call_name(node):
    if isinstance(node, ast.Call):
        f = node.func
        return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
    return None


def keyword(call, name):
    return next((k.value for k in call.keywords if k.arg == name), None)


def subscript_key(node, of):
    """'key' for of["key"], else None."""
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == of:
        return const(node.slice)
    return None


def strings_in(node):
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def execute(path, variables):
    """The file's top level against stubs of the Airflow modules: what it declared, or its error."""
    recorded = {"dag": None, "tasks": {}, "edges": []}

    class Variable:
        @staticmethod
        def get(key, default=None, deserialize_json=False):
            value = variables.get(key, default)
            if deserialize_json and isinstance(value, str):
                return json.loads(value)
            return value

    class BaseOperator:
        template_fields = ()

        def __init__(self, task_id, **kwargs):
            self.task_id = task_id
            recorded["tasks"][task_id] = {"operator": type(self).__name__, "kwargs": kwargs}

        def __rshift__(self, other):
            for o in other if isinstance(other, list) else [other]:
                recorded["edges"].append([self.task_id, o.task_id])
            return other

    class DAG:
        def __init__(self, **kwargs):
            recorded["dag"] = kwargs

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    class CronDataIntervalTimetable:
        def __init__(self, cron, timezone):
            self.cron, self.timezone = cron, timezone

        def __repr__(self):
            return f"CronDataIntervalTimetable({self.cron!r}, timezone={self.timezone!r})"

    def operator(name, fields=()):
        return type(name, (BaseOperator,), {"template_fields": tuple(fields)})

    class AirflowException(Exception):
        pass

    class AirflowFailException(AirflowException):
        pass

    def module(name, **attrs):
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        sys.modules[name] = m

    module("pendulum", datetime=lambda *a, **k: f"pendulum.datetime{a}{k}")
    module("airflow")
    module("airflow.sdk", DAG=DAG, Variable=Variable, CronDataIntervalTimetable=CronDataIntervalTimetable)
    module("airflow.sdk.exceptions", AirflowException=AirflowException, AirflowFailException=AirflowFailException)
    module("airflow.providers.standard.operators.python", PythonOperator=operator("PythonOperator", ("op_kwargs",)))
    module("airflow.providers.google.cloud.operators.cloud_run",
           CloudRunExecuteJobOperator=operator("CloudRunExecuteJobOperator", ("project_id", "job_name")))
    module("airflow.providers.google.cloud.operators.dataform",
           DataformCreateCompilationResultOperator=operator("DataformCreateCompilationResultOperator", ("project_id",)),
           DataformCreateWorkflowInvocationOperator=operator("DataformCreateWorkflowInvocationOperator", ("workflow_invocation",)))
    try:
        with open(path, encoding="utf-8") as source:
            code = compile(source.read(), path, "exec")
        namespace = {"__name__": "cartlens_daily_under_stubs"}
        exec(code, namespace)
    except Exception as error:  # noqa: BLE001
        return {"error": f"{type(error).__name__}: {error}", "trace": traceback.format_exc()}
    classes_fields = {
        name: list(value.template_fields)
        for name, value in namespace.items()
        if isinstance(value, type) and issubclass(value, BaseOperator)
    }
    # Through JSON, so that what is not JSON (timedelta, the timetable) comes back as its repr.
    return json.loads(json.dumps({**recorded, "template_fields": classes_fields}, default=repr))


def compile_file(path, cfile):
    try:
        py_compile.compile(path, cfile=cfile, doraise=True)
        return {"ok": True}
    except py_compile.PyCompileError as error:
        return {"ok": False, "error": error.msg}


def check(path):
    """The file's structure, with Python's ast: {"errors": [...], "facts": {...}}."""
    errors = []
    facts = {}
    fail = errors.append

    with open(path, encoding="utf-8") as source:
        tree = ast.parse(source.read(), path)
    module_assigns = {
        t.id: s.value for s in tree.body if isinstance(s, ast.Assign) for t in s.targets if isinstance(t, ast.Name)
    }
    functions = {s.name: s for s in ast.walk(tree) if isinstance(s, ast.FunctionDef)}
    classes = {s.name: s for s in ast.walk(tree) if isinstance(s, ast.ClassDef)}

    # Imports that moved between Airflow 2 and 3 are guarded: try the 3.x path, fall back to 2.x.
    guarded = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            isinstance(h.type, ast.Name) and h.type.id == "ImportError" for h in node.handlers
        ):
            first = [f"{s.module}:{','.join(a.name for a in s.names)}" for s in node.body if isinstance(s, ast.ImportFrom)]
            fallback = [
                f"{s.module}:{','.join(a.name for a in s.names)}"
                for h in node.handlers
                for s in h.body
                if isinstance(s, ast.ImportFrom)
            ]
            guarded.append({"try": first, "except": fallback})
    facts["guarded_imports"] = guarded
    if not any("airflow.sdk:DAG" in ",".join(g["try"]) for g in guarded) or not any(
        "airflow:DAG" in g["except"] for g in guarded
    ):
        fail("the DAG import is not guarded (airflow.sdk on 3.x, airflow on 2.x)")

    # Settings: DEFAULTS holds every key and its default.
    defaults = module_assigns.get("DEFAULTS")
    default_values = {}
    if isinstance(defaults, ast.Dict):
        default_values = {const(k): const(v) for k, v in zip(defaults.keys, defaults.values)}
    else:
        fail("no DEFAULTS dict of settings")
    facts["settings_variable"] = const(module_assigns.get("SETTINGS_VARIABLE"))

    # The DAG itself: `with DAG(...) as dag:`.
    dag_with = next(
        (s for s in tree.body if isinstance(s, ast.With) and any(call_name(i.context_expr) == "DAG" for i in s.items)),
        None,
    )
    if dag_with is None:
        fail("no `with DAG(...)` block at module level")
        dag_call = ast.Call(func=ast.Name("DAG"), args=[], keywords=[])
        dag_body = []
    else:
        dag_call = next(i.context_expr for i in dag_with.items if call_name(i.context_expr) == "DAG")
        dag_body = dag_with.body

    dag_id = keyword(dag_call, "dag_id")
    if isinstance(dag_id, ast.Name):
        dag_id = module_assigns.get(dag_id.id)
    facts["dag_id"] = const(dag_id)
    if facts["dag_id"] != "cartlens_daily":
        fail(f"dag_id is {facts['dag_id']!r}, not 'cartlens_daily'")

    if keyword(dag_call, "schedule_interval") is not None:
        fail("schedule_interval is gone in Airflow 3: use schedule")
    schedule = keyword(dag_call, "schedule")
    cron = None
    if call_name(schedule) == "CronDataIntervalTimetable" and schedule.args:
        key = subscript_key(schedule.args[0], "SETTINGS")
        cron = default_values.get(key) if key else const(schedule.args[0])
    elif schedule is not None and const(schedule) in ("@daily", "0 0 * * *"):
        cron = const(schedule)
    facts["schedule"] = cron
    if not isinstance(cron, str) or not (cron == "@daily" or re.fullmatch(r"\d{1,2} \d{1,2} \* \* \*", cron)):
        fail(f"the schedule is not daily: {cron!r}")

    catchup = keyword(dag_call, "catchup")
    facts["catchup"] = const(catchup)
    if const(catchup) is not True:
        fail("catchup is not True")

    start = keyword(dag_call, "start_date")
    if start is None or not any(
        subscript_key(n, "SETTINGS") == "start_date" or (isinstance(n, ast.Name) and n.id.startswith("start_"))
        for n in ast.walk(start)
    ):
        fail("start_date does not come from the settings Variable")
    if default_values.get("start_date", "absent") is not None and "start_date" in default_values:
        fail("start_date has a default: it must be set in the Variable")

    max_runs = keyword(dag_call, "max_active_runs")
    facts["max_active_runs_default"] = default_values.get("max_active_runs")
    if subscript_key(max_runs, "SETTINGS") != "max_active_runs":
        fail("max_active_runs does not come from the settings Variable")
    if default_values.get("max_active_runs") != 1:
        fail("max_active_runs does not default to 1")

    def duckdb_rule(func):
        """An `if ...warehouse... == "duckdb":` holding `if ...max_active_runs... != 1: raise`."""
        for node in ast.walk(func):
            if isinstance(node, ast.If) and isinstance(node.test, ast.Compare):
                texts = strings_in(node.test)
                if "warehouse" in texts and "duckdb" in texts and isinstance(node.test.ops[0], ast.Eq):
                    for inner in ast.walk(node):
                        if (
                            isinstance(inner, ast.If)
                            and isinstance(inner.test, ast.Compare)
                            and "max_active_runs" in strings_in(inner.test)
                            and any(isinstance(op, ast.NotEq) for op in inner.test.ops)
                            and 1 in [const(c) for c in inner.test.comparators]
                            and any(isinstance(s, ast.Raise) for s in inner.body)
                        ):
                            return True
        return False

    facts["duckdb_rule"] = any(duckdb_rule(f) for f in functions.values())
    if not facts["duckdb_rule"]:
        fail("no rule refusing max_active_runs != 1 on duckdb")

    # default_args: retries with exponential back-off and the failure callback.
    default_args_node = keyword(dag_call, "default_args")
    if isinstance(default_args_node, ast.Name):
        default_args_node = module_assigns.get(default_args_node.id)
    args = {}
    if isinstance(default_args_node, ast.Dict):
        args = {const(k): v for k, v in zip(default_args_node.keys, default_args_node.values)}
    else:
        fail("default_args is not a dict")
    facts["default_args"] = sorted(k for k in args if k)
    for key in ("retries", "retry_delay", "max_retry_delay", "on_failure_callback"):
        if key not in args:
            fail(f"default_args has no {key}")
    if const(args.get("retry_exponential_backoff")) is not True:
        fail("default_args has no retry_exponential_backoff=True")
    retries_key = next(
        (subscript_key(n, "SETTINGS") for n in ast.walk(args.get("retries", ast.Constant(0))) if subscript_key(n, "SETTINGS")),
        None,
    )
    retries = default_values.get(retries_key) if retries_key else const(args.get("retries"))
    facts["retries"] = retries
    if not isinstance(retries, int) or retries < 1:
        fail(f"retries is {retries!r}: at least 1")
    callback = args.get("on_failure_callback")
    callback_name = callback.id if isinstance(callback, ast.Name) else None
    facts["on_failure_callback"] = callback_name
    callback_func = functions.get(callback_name)
    if callback_func is None:
        fail("on_failure_callback is not a function of the file")
    else:
        posts_text = any(isinstance(n, ast.Dict) and "text" in [const(k) for k in n.keys] for n in ast.walk(callback_func))
        reads_variable = any(
            isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "get"
            and isinstance(n.func.value, ast.Name) and n.func.value.id == "Variable"
            for n in ast.walk(callback_func)
        )
        if not posts_text or not reads_variable:
            fail("on_failure_callback does not post {\"text\": ...} to a webhook read from a Variable")

    # The function's answers: 503 retried, 500 not.
    retryable = module_assigns.get("RETRYABLE_STATUSES")
    codes = {const(e) for e in retryable.elts} if isinstance(retryable, (ast.Set, ast.Tuple, ast.List)) else set()
    facts["retryable_statuses"] = sorted(c for c in codes if c is not None)
    if 503 not in codes or 500 in codes:
        fail("503 must be retried and 500 must not")

    # Tasks: variable name -> (task_id, how it is built).
    tasks = {}
    for node in ast.walk(dag_with or tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and len(node.targets) == 1:
            target, call = node.targets[0], node.value
            task_id = const(keyword(call, "task_id"))
            if task_id is None and call_name(call) == "cartlens_step" and call.args:
                task_id = const(call.args[0])
            if isinstance(target, ast.Name) and task_id:
                tasks[target.id] = {"task_id": task_id, "call": call}
    facts["tasks"] = sorted(t["task_id"] for t in tasks.values())
    for expected in ("cartlens_run", "extract_load", "dataform_compile", "dataform_invoke", "publish"):
        if expected not in facts["tasks"]:
            fail(f"no task {expected}")

    def chain(node):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift):
            return chain(node.left) + chain(node.right)
        if isinstance(node, ast.Name):
            return [tasks.get(node.id, {"task_id": f"?{node.id}"})["task_id"]]
        if isinstance(node, (ast.List, ast.Tuple)):
            return [[c for e in node.elts for c in chain(e)]]
        return ["?"]

    def chains(statements):
        return [chain(s.value) for s in statements if isinstance(s, ast.Expr) and isinstance(s.value, ast.BinOp)]

    def steps(statements):
        """[task_id, command, url_key] of each cartlens_step(...) the statements call, in order."""
        found = []
        for s in statements:
            for n in ast.walk(s):
                if call_name(n) == "cartlens_step":
                    found.append([const(a) for a in n.args[:3]])
        return found

    dataform_if = next((s for s in dag_body if isinstance(s, ast.If) and subscript_key(s.test, "SETTINGS") == "dataform"), None)
    if dataform_if is None:
        fail("the Dataform steps are not behind `if SETTINGS[\"dataform\"]:`")
        branches = {"dataform": dag_body, "no_dataform": []}
    else:
        branches = {"dataform": dataform_if.body, "no_dataform": dataform_if.orelse}
        outside = steps([s for s in dag_body if s is not dataform_if])
        if outside:
            fail(f"cartlens steps outside the Dataform switch: {outside}")
    facts["order"] = {name: chains(body) for name, body in branches.items()}
    facts["steps"] = {name: steps(body) for name, body in branches.items()}
    # With Dataform: cartlens extracts (no model, nothing published), Dataform builds, cartlens publishes.
    if facts["order"]["dataform"] != [["extract_load", "dataform_compile", "dataform_invoke", "publish"]]:
        fail(f"with Dataform the order is {facts['order']['dataform']}, not extract_load >> dataform_compile >> dataform_invoke >> publish")
    if facts["steps"]["dataform"] != [["extract_load", "extract", "extract_function_url"], ["publish", "publish", "publish_function_url"]]:
        fail(f"with Dataform the cartlens steps are {facts['steps']['dataform']}, not `cartlens extract` (extract_function_url) then `cartlens publish` (publish_function_url)")
    # Without Dataform: one full run, followed by nothing.
    if facts["steps"]["no_dataform"] != [["cartlens_run", "run", "run_function_url"]] or facts["order"]["no_dataform"]:
        fail(f"without Dataform the steps are {facts['steps']['no_dataform']} ordered {facts['order']['no_dataform']}, not one `cartlens run` (run_function_url) alone")
    if default_values.get("dataform") is not False:
        fail("Dataform is not off by default")

    def base_names(class_name):
        node = classes.get(class_name)
        if node is None:
            return {class_name}
        names = {class_name}
        for b in node.bases:
            if isinstance(b, ast.Name):
                names |= base_names(b.id)
        return names

    by_id = {t["task_id"]: t["call"] for t in tasks.values()}
    compile_call, invoke_call = by_id.get("dataform_compile"), by_id.get("dataform_invoke")
    if compile_call is not None:
        if "DataformCreateCompilationResultOperator" not in base_names(call_name(compile_call)):
            fail("dataform_compile is not the provider's DataformCreateCompilationResultOperator")
        if DS not in strings_in(keyword(compile_call, "compilation_result") or ast.Constant(None)):
            fail("the Dataform compilation does not get {{ ds }}")
    if invoke_call is not None:
        if "DataformCreateWorkflowInvocationOperator" not in base_names(call_name(invoke_call)):
            fail("dataform_invoke is not the provider's DataformCreateWorkflowInvocationOperator")
        texts = " ".join(strings_in(keyword(invoke_call, "workflow_invocation") or ast.Constant(None)))
        if not re.search(r"xcom_pull\(task_ids='dataform_compile'\)", texts):
            fail("dataform_invoke does not take the compilation result from dataform_compile by XCom")

    # The cartlens steps: `cartlens <command>` for {{ ds }}, by the function or the job.
    step = functions.get("cartlens_step")
    if step is None:
        fail("no cartlens_step(task_id, command, url_key)")
    else:
        operators = {call_name(n): n for n in ast.walk(step) if call_name(n) and "Operator" in call_name(n)}
        facts["step_operators"] = sorted(operators)
        python_op = operators.get("PythonOperator")
        job_op = next((c for name, c in operators.items() if "CloudRunExecuteJobOperator" in base_names(name)), None)
        if python_op is None or job_op is None:
            fail("cartlens_step does not offer both the function (PythonOperator) and the Cloud Run job")
        else:
            op_kwargs = keyword(python_op, "op_kwargs")
            date_sent = None
            if isinstance(op_kwargs, ast.Dict):
                date_sent = dict(zip([const(k) for k in op_kwargs.keys], [const(v) for v in op_kwargs.values])).get("date")
            facts["function_date"] = date_sent
            if date_sent != DS:
                fail(f"the function is sent the date {date_sent!r}, not {DS!r}")
            job_args = [n for n in ast.walk(keyword(job_op, "overrides") or ast.Constant(None)) if isinstance(n, ast.List)]
            facts["job_args"] = [strings_in(a) for a in job_args]
            if not any(DS in strings_in(a) and "--date" in strings_in(a) for a in job_args):
                fail("the Cloud Run job is not given --date {{ ds }}")

    # No date is written into the file: every date is the run's {{ ds }}.
    hard_dates = [s for s in strings_in(tree) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s)]
    if hard_dates:
        fail(f"hard-coded dates: {hard_dates}")

    return {"errors": errors, "facts": facts}


def run_job(job):
    kind = job["kind"]
    if kind == "check":
        return check(job["file"])
    if kind == "execute":
        return execute(job["file"], job["variables"])
    if kind == "compile":
        return compile_file(job["file"], job["cfile"])
    raise ValueError(f"unknown job kind {kind!r}")


def main(argv):
    if argv[1] == "--batch":
        with open(argv[2], encoding="utf-8") as jobs_file:
            jobs = json.load(jobs_file)
        results = {}
        for job in jobs:
            try:
                results[job["id"]] = run_job(job)
            except Exception as error:  # noqa: BLE001 - one job's crash is its result, not the batch's
                results[job["id"]] = {"crash": f"{type(error).__name__}: {error}", "trace": traceback.format_exc()}
        print(json.dumps(results, indent=1, default=str))
        return 0
    if argv[1] == "--execute":
        with open(argv[3], encoding="utf-8") as variables_file:
            result = execute(argv[2], json.load(variables_file))
        print(json.dumps(result, indent=1, default=repr))
        return 1 if "error" in result else 0
    result = check(argv[1])
    print(json.dumps(result, indent=1, default=str))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
