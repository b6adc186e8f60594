"""A run built in the tests, with everything a report has to show (no Airflow needed).

Two property results fail the same check on different operations (one group in
report.html; one on a successful answer, a contract break, one on an error's body), one deviation is excused in two results (one group, with its
upstream link), a scenario fails with a curl, an error, a skip, a result of a
kind the reports have never heard of, and cells full of long unbreakable text
(the URLs and generated strings that used to push tables off the page).
"""

from __future__ import annotations

from conformance.reporting.results import Result, RunResults, operations_table

SECRET = "pw-4c1d-never-shown"
LONG = "acf_" + "x" * 380  # a generated name without a single place to break
CURL = (
    f"curl -X PATCH 'http://airflow.test/api/v2/dags/{LONG}?update_mask=is_paused' "
    f"-u 'admin:{SECRET}' --data '{{\"is_paused\": true}}'"
)
DEVIATION = {
    "id": "v2-example-order-by",
    "upstream": "apache/airflow#15150",
    "summary": "order_by is refused with 400",
    "checks": ["status_code_conformance"],
    "count": 2,
    "class": "undocumented_status",
}
SCHEMA_CHECK = {
    "name": "response_schema_conformance",
    "status": "failed",
    "judged": 4,
    "must": "A response body MUST match the schema the reference spec documents.",
    "classes": ["contract_break"],
}
ERROR_SCHEMA_CHECK = {**SCHEMA_CHECK, "classes": ["error_shape"]}  # the same check, failed on a 404's body
OPERATIONS = {
    "patch_dag": "DAG",
    "post_dag_run": "DagRun",
    "get_pools": "Pool",
    "get_pool": "Pool",
    "get_dag": "DAG",
    "get_dags": "DAG",
    "get_variables": "Variable",
    "get_roles": "Role",
}


def results() -> list[Result]:
    return [
        Result(
            "scenario.dags.patch_paused",
            "scenario",
            "Pause via update_mask",
            ["patch_dag"],
            "passed",
            must="MUST pause",
        ),
        Result(
            "scenario.dag_runs.state_is_read_only",
            "scenario",
            "state is read-only",
            ["post_dag_run"],
            "failed",
            message=f"POST answered 200, expected 400 (password {SECRET}) for {LONG}",
            reproduce=CURL,
            must="MUST refuse state",
        ),
        Result(
            "property.get_dags",
            "property",
            "GET /dags",
            ["get_dags"],
            "failed",
            message=f"[response_schema_conformance] 'dag_id' is a required property: {LONG}",
            reproduce=f"curl -X GET 'http://airflow.test/api/v2/dags?dag_id_pattern={LONG}'",
            checks=[SCHEMA_CHECK],
            classes=["contract_break"],
        ),
        Result(
            "property.get_pool",
            "property",
            "GET /pools/{pool_name}",
            ["get_pool"],
            "failed",
            message="[response_schema_conformance] 'slots' is not of type 'integer'",
            reproduce="curl -X GET 'http://airflow.test/api/v2/pools/acf_fast_pool'",
            checks=[ERROR_SCHEMA_CHECK],
            classes=["error_shape"],
        ),
        Result(
            "property.get_pools",
            "property",
            "GET /pools",
            ["get_pools"],
            "known_deviation",
            message="excused",
            upstream="apache/airflow#15150",
            deviations=[{**DEVIATION, "operations": ["get_pools"]}],
            classes=["undocumented_status"],
        ),
        Result(
            "property.get_variables",
            "property",
            "GET /variables",
            ["get_variables"],
            "known_deviation",
            message="excused",
            upstream="apache/airflow#15150",
            deviations=[{**DEVIATION, "operations": ["get_variables"]}],
            classes=["undocumented_status"],
        ),
        Result(
            "scenario.auth.deny_all_default",
            "scenario",
            "deny_all default",
            [],
            "skipped",
            message="needs default auth",
        ),
        Result("property.get_dag", "property", "GET /dags/{dag_id}", ["get_dag"], "error", message="ReadTimeout"),
        Result(
            "authorization.viewer.get_roles",
            "authorization",
            "Viewer may not list roles",
            ["get_roles"],
            "passed",
            message="403 as documented",
        ),
    ]


def sample_run(version: str = "3.3.2") -> RunResults:
    """The run, with every operation's coverage as a real run would count it."""
    rs = results()
    run = RunResults(
        seed=7,
        run_id="acf_fast",
        target={"url": "http://airflow.test", "airflow_version": version, "api": "v2", "auth": "jwt"},
        spec_version=version,
        results=rs,
        requests=42,
    )
    answers = {
        "patch_dag": {"reached": 3},
        "post_dag_run": {"reached": 1, "validated": 1},
        "get_pools": {"reached": 4, "refused": 1},
        "get_pool": {"reached": 2},
        "get_dags": {"reached": 5},
        "get_dag": {"server_error": 1},
        "get_variables": {"not_sent": 2},
        "get_roles": {"refused": 2},
    }
    requests = {op: sum(v for k, v in counts.items() if k != "not_sent") for op, counts in answers.items()}
    run.operations = operations_table(
        list(OPERATIONS), rs, requests, {"get_variables": "refused by the guard"}, answers, OPERATIONS
    )
    run.configuration = {
        "profile": "sandbox",
        "seed": 7,
        "run_id": "acf_fast",
        "url": "http://airflow.test",
        "auth": "jwt:admin:***",
        "headers": ["X-Gateway-Key: ***"],
    }
    return run
