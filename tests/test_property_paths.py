"""Which objects the property tier aims at: path-parameter sets built from the samples (no Airflow).

A task read that needs no run (GET /dags/{dag_id}/tasks/{task_id}) aims at the probe's task and
also at a task of another DAG: on 2.2.x the probe's task answers 500 once its log was read in the
same webserver worker (the log read replaces the task's params by plain values), and that server
defect must not leave the official client nothing to read.
"""

from __future__ import annotations

from types import SimpleNamespace

from conformance.tiers.properties.operations import OperationInfo
from conformance.tiers.properties.samples import Samples
from conformance.tiers.properties.strategies import Strategies

ANCHOR = {"dag_id": "conformance_probe", "dag_run_id": "acf_run", "task_id": "echo"}


def _info(method: str, rel: str, *params: str) -> OperationInfo:
    operation = SimpleNamespace(path_parameters=[SimpleNamespace(name=p, definition={"schema": {"type": "string"}})
                                                 for p in params])
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
