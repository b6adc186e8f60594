"""Which objects the property tier aims at: path-parameter sets built from the samples (no Airflow).

A task read that needs no run (GET /dags/{dag_id}/tasks/{task_id}) aims at the probe's task and
also at a task of another DAG: on 2.2.x the probe's task answers 500 once its log was read in the
same webserver worker (the log read replaces the task's params by plain values), and that server
defect must not leave the official client nothing to read.

The queued-event reads aim only at the asset probe DAG and its queued asset when `up` left an
event queued (3.0 answers 404 for anything else); the writes never do.
"""

from __future__ import annotations

from types import SimpleNamespace

from conformance.probes.dags import ASSETS_DAG_ID
from conformance.tiers.properties.strategies import Strategies
from conformance.tiers.shared.operations import OperationInfo
from conformance.tiers.shared.samples import QUEUED_EVENT_READS, Samples

ANCHOR = {"dag_id": "conformance_probe", "dag_run_id": "acf_run", "task_id": "echo"}


def _info(method: str, rel: str, *params: str) -> OperationInfo:
    operation = SimpleNamespace(
        path_parameters=[SimpleNamespace(name=p, definition={"schema": {"type": "string"}}) for p in params]
    )
    return OperationInfo("op", method, rel, operation, True, params)


def _samples() -> Samples:
    s = Samples(run_anchor=dict(ANCHOR), task_anchors=[{"dag_id": "example_bash_operator", "task_id": "runme_0"}])
    s.read.update({"dag_id": ["conformance_probe", "example_bash_operator"], "task_id": ["echo"], "map_index": [-1, 0]})
    s.write.update({"dag_id": ["conformance_probe"], "task_id": ["echo"], "dag_run_id": ["acf_run"]})
    return s


def test_a_task_read_aims_at_the_probe_task_and_at_a_task_of_another_dag():
    combos = Strategies(_samples).path_choices(_info("GET", "/dags/{dag_id}/tasks/{task_id}", "dag_id", "task_id"))
    assert combos[0] == {"dag_id": "conformance_probe", "task_id": "echo"}
    assert {"dag_id": "example_bash_operator", "task_id": "runme_0"} in combos


def test_run_scoped_reads_and_writes_keep_to_the_run_anchor():
    rel = "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/{map_index}"
    read = Strategies(_samples).path_choices(_info("GET", rel, "dag_id", "dag_run_id", "task_id", "map_index"))
    assert {(c["dag_id"], c["task_id"]) for c in read} == {("conformance_probe", "echo")}
    write = Strategies(_samples).path_choices(_info("PATCH", "/dags/{dag_id}/tasks/{task_id}", "dag_id", "task_id"))
    assert all(c["dag_id"] == "conformance_probe" for c in write)


def _with_queued_event() -> Samples:
    s = _samples()
    s.read["asset_id"] = [1, 2, 3]
    s.write.update({"asset_id": [2147480000]})
    for rel in QUEUED_EVENT_READS:
        s.focus[rel] = {"dag_id": [ASSETS_DAG_ID], "asset_id": [19]}
    return s


def test_queued_event_reads_aim_at_the_asset_probe_dag_and_writes_never_do():
    """On 3.0 only a DAG or asset with a queued event answers 200: the reads take the fixture `up` left; the
    writes keep to the probe DAG and vacant ids, so the fixture's queue is never cleared by a run."""
    strategies = Strategies(_with_queued_event)
    assert strategies.path_choices(
        _info("GET", "/dags/{dag_id}/assets/{asset_id}/queuedEvents", "dag_id", "asset_id")
    ) == [{"dag_id": ASSETS_DAG_ID, "asset_id": 19}]
    assert strategies.path_choices(_info("GET", "/assets/{asset_id}/queuedEvents", "asset_id")) == [{"asset_id": 19}]
    for rel in QUEUED_EVENT_READS:
        params = [p for p in ("dag_id", "asset_id") if "{" + p + "}" in rel]
        for combo in strategies.path_choices(_info("DELETE", rel, *params)):
            assert combo.get("dag_id", "conformance_probe") == "conformance_probe" and combo.get("asset_id", 0) != 19
    other = strategies.path_choices(_info("GET", "/assets/{asset_id}", "asset_id"))
    assert [c["asset_id"] for c in other] == [1, 2, 3]
