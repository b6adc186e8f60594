"""The probe DAG files as real Airflow releases parse them: one 2.x file for 2.0 to 2.11, and 3.x's asset probe DAG.

The 2.x probe DAG maps one task from 2.3 on (dynamic task mapping), guarded at
parse time so the same file still imports on 2.0-2.2, where `partial` does not
exist. Each release's own DagBag parses the rendered file (no server, no
scheduler): no import error anywhere, the mapped task exactly where the release
can map, and the DAG survives serialization (what the webserver and the API read).
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conformance.errors import ConfigError
from conformance.local import venv as local_venv
from conformance.local import versions as local_versions
from conformance.probes import dags

pytestmark = pytest.mark.airflow  # reaches a real Airflow (or a release's venv) without the shared target fixtures

PARSE = """
import json, sys
from airflow.models.dagbag import DagBag
from airflow.serialization.serialized_objects import SerializedDAG

bag = DagBag(sys.argv[1], include_examples=False)
dag = bag.dags.get(sys.argv[2])
if dag is not None:
    SerializedDAG.from_dict(SerializedDAG.to_dict(dag))
print(json.dumps({"errors": {k: str(v)[:300] for k, v in bag.import_errors.items()},
                  "tasks": sorted(t.task_id for t in dag.tasks) if dag else None}))
"""


def _parsed(tmp_path, version: str, script: str, dag_id: str) -> dict:
    """What `script` prints (its last line, JSON) after the release's own DagBag read `dag_id`'s rendered file."""
    for name, content in dags.render(version).items():
        (tmp_path / name).write_bytes(content)
    try:
        venv = local_venv.ensure_venv(local_versions.resolve(version))
    except ConfigError as exc:  # e.g. no Python 3.8 for 2.0.2 on this machine
        pytest.skip(f"Airflow {version} cannot be installed here: {exc}")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    }
    proc = subprocess.run(
        [str(venv / "bin" / "python"), "-c", script, str(tmp_path / f"{dag_id}.py"), dag_id],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


# 2.2.5: the newest release without mapping (the guard is the same on 2.0-2.2); 2.10.5: mapping, and the
# release CI already runs (every minor parses it for real in the published matrix, whose chain reads the mapped task)
@pytest.mark.parametrize(("version", "mapped"), [("2.2.5", False), ("2.10.5", True)])
def test_the_2x_probe_dag_parses_and_maps_a_task_where_the_release_can(tmp_path, version, mapped):
    out = _parsed(tmp_path, version, PARSE, dags.PROBE_DAG_ID)
    assert out["errors"] == {}
    expected = sorted([dags.PROBE_TASK_ID, *([dags.MAPPED_TASK_ID] if mapped else [])])
    assert out["tasks"] == expected


def test_only_the_2x_template_maps_and_guards_the_mapping():
    two = dags.render("2.10.5")[f"{dags.PROBE_DAG_ID}.py"].decode()
    three = dags.render("3.3.2")[f"{dags.PROBE_DAG_ID}.py"].decode()
    assert 'if hasattr(PythonOperator, "partial"):' in two and f'task_id="{dags.MAPPED_TASK_ID}"' in two
    assert dags.MAPPED_TASK_ID not in three


PARSE_ASSETS = """
import json, sys
from airflow.models.dagbag import DagBag
from airflow.serialization import serialized_objects as so
SerializedDAG = getattr(so, "DagSerialization", None) or so.SerializedDAG  # 3.3 renamed the class
try:
    bag = DagBag(sys.argv[1], include_examples=False)
except TypeError:  # 3.2+: no include_examples (AIRFLOW__CORE__LOAD_EXAMPLES decides)
    bag = DagBag(sys.argv[1])
dag = bag.dags.get(sys.argv[2])
if dag is not None:
    dag = SerializedDAG.from_dict(SerializedDAG.to_dict(dag))
cond = dag.timetable.asset_condition if dag else None
print(json.dumps({"errors": {k: str(v)[:300] for k, v in bag.import_errors.items()},
                  "tasks": sorted(t.task_id for t in dag.tasks) if dag else None,
                  "paused_at_creation": dag.is_paused_upon_creation if dag else None,
                  "all_of": type(cond).__name__,
                  "assets": sorted((a.name, a.uri) for a in cond.objects) if cond is not None else None}))
"""


# 3.3.2: the newest, already installed where the tests run (CI installs no 3.0.6 for this parse; the matrix's
# 3.0.6 column, whose empty queue answers 404, is where the fixture's reads are seen to answer 200)
@pytest.mark.parametrize("version", ["3.3.2"])
def test_the_3x_asset_probe_dag_waits_on_both_of_its_assets(tmp_path, version):
    out = _parsed(tmp_path, version, PARSE_ASSETS, dags.ASSETS_DAG_ID)
    assert out["errors"] == {}
    assert out["tasks"] == [dags.ASSETS_TASK_ID]
    assert out["paused_at_creation"] is True
    assert out["all_of"].endswith(
        "AssetAll"
    )  # (3.3: SerializedAssetAll) one event of the first asset queues the DAG but never starts a run
    assert out["assets"] == sorted(map(list, dags.ASSETS.items()))
