"""The safety proof: a real Airflow seeded with objects a deployment would have.

A default run, a run interrupted mid-way, and a crashed run followed by
`cleanup` must each leave every pre-existing object identical and no object
of the run behind.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from tests.harness import caller_env, cli, cli_start
from tests.snapshot import leftovers, seed, snapshot
from tests.tiers.properties.test_properties import assert_sandbox_coverage


@pytest.fixture(scope="module")
def seeded(live):
    swept = cli("cleanup", "--target", live.url, "--auth", live.auth_spec, timeout=300)  # leftovers of earlier sessions
    assert swept.returncode == 0, swept.stderr[-2000:]
    seed(live)
    live.wait_for_dags_parsed()  # a fresh target still lists new example DAGs for a while
    return live


def _ledgers() -> set:
    from conformance.safety.ledger import ledger_dir  # noqa: PLC0415

    return set(ledger_dir().glob("acf_*.jsonl"))


def _compare(before: dict, after: dict) -> None:
    for kind in before:
        assert before[kind] == after[kind] or kind == "dag_runs" and _only_new_suite_runs_gone(before, after), kind
    assert leftovers(after) == []


def _only_new_suite_runs_gone(before: dict, after: dict) -> bool:
    return [r for r in before["dag_runs"] if not r[0].startswith("conformance")] == [
        r for r in after["dag_runs"] if not r[0].startswith("conformance")
    ]


def test_default_run_changes_nothing_it_did_not_create(seeded, tmp_path):
    before = snapshot(seeded, seeded.home)
    proc = cli(
        "run",
        "--target",
        seeded.url,
        "--auth",
        seeded.auth_spec,
        "--max-examples",
        "3",
        "--seed",
        "1",
        "--report-dir",
        str(tmp_path),
        timeout=1500,
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    after = snapshot(seeded, seeded.home)
    _compare(before, after)
    data = json.loads((tmp_path / "results.json").read_text())
    assert_sandbox_coverage(data, seeded.version)  # and what the run reached (one run proves both)


# what only a disruptive run may write: 2.x users and roles, 3.x Airflow's default connections
DISRUPTIVE_OPS = {"v1": ("post_user", "post_role"), "v2": ("create_default_connections",)}


def test_disruptive_run_deletes_the_users_roles_and_default_connections_it_created(seeded, tmp_path):
    """`--profile disruptive` (allowed: the suite started this target) creates users and roles (2.x) or Airflow's
    default connections (3.x) for real; afterwards every user, role, role permission and connection that existed
    is as it was, and none the run made is left (the snapshot reads the metadata database)."""
    ops = DISRUPTIVE_OPS[seeded.api]
    before = snapshot(seeded, seeded.home)
    proc = cli(
        "run",
        "--target",
        seeded.url,
        "--auth",
        seeded.auth_spec,
        "--profile",
        "disruptive",
        "--only",
        "authorization,properties",
        "-k",
        " or ".join(ops),
        "--client",
        "none",
        "--max-examples",
        "5",
        "--seed",
        "1",
        "--report-dir",
        str(tmp_path),
        timeout=900,
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    data = json.loads((tmp_path / "results.json").read_text())
    ran = {r["id"]: r for r in data["results"]}
    for op in ops:  # both tiers really wrote (a refusal would prove nothing about cleanup)
        for kind in ("property", "authorization"):
            assert ran[f"{kind}.{op}"]["status"] != "skipped", ran[f"{kind}.{op}"]
        assert data["operations"][op]["requests"] > 0
    assert data["cleanup_problems"] == []
    _compare(before, snapshot(seeded, seeded.home))


def _start_run(live, report_dir, *extra: str) -> subprocess.Popen:
    args = list(extra) if "--only" in extra else ["--only", "scenarios", *extra]
    return cli_start(
        "run",
        "--target",
        live.url,
        "--report-dir",
        str(report_dir),
        *args,
        env=caller_env({"AIRFLOW_CONFORMANCE_AUTH": live.auth_spec}),
    )


def _wait_for_creations(known: set, minimum: int = 2, timeout: float = 120):
    """The ledger of the new run, once it records at least `minimum` created objects."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in _ledgers() - known:
            if path.read_text().count('"created"') >= minimum:
                return path
        time.sleep(0.2)
    raise AssertionError("the run never recorded a created object")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupted_run_cleans_up(seeded, tmp_path, sig):
    before = snapshot(seeded, seeded.home)
    known = _ledgers()
    proc = _start_run(seeded, tmp_path)
    _wait_for_creations(known)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 3, err[-2000:]  # README: interrupted -> 3
    assert "Traceback" not in err
    _compare(before, snapshot(seeded, seeded.home))


def test_sigterm_stops_parallel_property_workers(seeded, tmp_path):
    """With --workers, the signal reaches the main thread while workers send; they must stop and the run clean up.

    The ledger gains entries beyond the tier's own fixed objects (variable, pool, connection, run)
    only once generated cases create objects, which happens on the worker threads.
    """
    before = snapshot(seeded, seeded.home)
    known = _ledgers()
    proc = _start_run(seeded, tmp_path, "--only", "properties", "--workers", "3", "--max-examples", "50")
    _wait_for_creations(known, minimum=8, timeout=600)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 3, err[-2000:]  # README: interrupted -> 3
    assert "Traceback" not in err
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["aborted"] == "interrupted"
    assert data["cleanup_problems"] == []
    _compare(before, snapshot(seeded, seeded.home))


def test_crashed_run_is_swept_by_cleanup(seeded, tmp_path):
    before = snapshot(seeded, seeded.home)
    known = _ledgers()
    proc = _start_run(seeded, tmp_path)
    ledger = _wait_for_creations(known, minimum=3)
    proc.kill()  # no chance to clean up: the ledger on disk is all that is left
    proc.communicate(timeout=60)
    run_id = ledger.stem
    cleaned = cli("cleanup", "--target", seeded.url, "--auth", seeded.auth_spec, "--run-id", run_id, timeout=300)
    assert cleaned.returncode == 0, cleaned.stderr[-2000:]
    assert "problem" not in cleaned.stderr
    _compare(before, snapshot(seeded, seeded.home))
    assert not ledger.exists()
