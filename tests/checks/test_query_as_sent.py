"""A query value is text: what makes a generated negative case invalid may not survive being sent.

Requests taken from real 3.3.2 runs, where the generator broke a parameter's schema as a Python
value (a number for a date-time, an object for an array) and the URL carried text the declared
schema accepts; and the controls, where the text itself breaks the schema, which must stay invalid.
"""

from __future__ import annotations

import pytest

from conformance.checks.documented import operation
from conformance.checks.permitted import REJECTION_CHECK, only_in_query, permitted
from conformance.checks.wire import query_as_sent_is_valid
from conformance.specs.catalog import load_spec

API = "http://127.0.0.1:28095/api/v2"
RUN = f"{API}/dags/conformance_probe/dagRuns/acf_1_prop_run"


@pytest.fixture(scope="module")
def spec() -> dict:
    return load_spec("3.3.2")


@pytest.mark.parametrize(
    ("operation_id", "url"),
    [
        # seen accepted by 3.3.2, each failed by negative_data_rejection before this rule
        (
            "get_dag_runs",
            f"{API}/dags/conformance_probe/dagRuns?run_id_prefix_pattern=H%20&updated_at_gt=0.8500523340858416",
        ),
        ("patch_dag_run", f"{RUN}?update_mask="),
        ("patch_task_instance_by_map_index", f"{RUN}/taskInstances/echo/-1?update_mask=-1.9896573855207357e-161"),
        (
            "get_assets",
            f"{API}/assets?only_active=true&dag_ids=.%7BW&dag_ids=%C2%AD&uri_pattern=null&limit=3198941&offset=245177",
        ),
        (
            "get_xcom_entries",
            f"{RUN}/taskInstances/echo/xcomEntries?run_after_lte=-50672910&dag_display_name_prefix_pattern=4",
        ),
    ],
)
def test_text_the_schema_accepts_is_valid_input(spec, operation_id, url):
    assert query_as_sent_is_valid(spec, operation(spec, operation_id), url)


@pytest.mark.parametrize(
    ("operation_id", "url"),
    [
        ("get_dag_runs", f"{API}/dags/conformance_probe/dagRuns?limit=abc"),  # integer
        ("get_dag_runs", f"{API}/dags/conformance_probe/dagRuns?limit=-1"),  # minimum 0
        ("get_dag_runs", f"{API}/dags/conformance_probe/dagRuns?limit=1&limit=2"),  # one value, not two
        ("get_dag_runs", f"{API}/dags/conformance_probe/dagRuns?duration_gt=soon"),  # number or absent
        ("get_dag_runs", f"{API}/dags/conformance_probe/dagRuns?dag_version=x"),  # array of integers
        ("get_assets", f"{API}/assets?only_active=maybe"),  # boolean
        ("get_xcom_entries", f"{RUN}/taskInstances/echo/xcomEntries?map_index=-2"),  # minimum -1
    ],
)
def test_text_the_schema_refuses_stays_invalid(spec, operation_id, url):
    assert not query_as_sent_is_valid(spec, operation(spec, operation_id), url)


def test_the_rule_excuses_acceptance_only_when_the_invalidity_lay_in_the_query_alone(spec):
    op = operation(spec, "get_dag_runs")
    assert only_in_query({"query:type", "query:anyOf"}) and not only_in_query({"query:type", "body:type"})
    assert not only_in_query(())
    assert permitted(REJECTION_CHECK, op, 200, {"query:anyOf"}, query_valid_as_sent=True)
    assert not permitted(REJECTION_CHECK, op, 200, {"query:anyOf", "body:type"}, query_valid_as_sent=True)
    assert not permitted(REJECTION_CHECK, op, 200, {"query:anyOf"}, query_valid_as_sent=False)


def test_a_missing_required_query_parameter_is_invalid():
    op = {"parameters": [{"in": "query", "name": "q", "required": True, "schema": {"type": "string"}}]}
    assert not query_as_sent_is_valid({}, op, "http://x/api?other=1")
    assert query_as_sent_is_valid({}, op, "http://x/api?q=")
