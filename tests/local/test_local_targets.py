"""Real local Airflow targets: `up`, `down`, `status`, `probe-dags`, against real releases.

No mocks: each test provisions (or reuses from the cache) the real release,
talks to it over HTTP and checks that `down` leaves no listener and no process.
"""

from __future__ import annotations

import socket
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

from conformance.local import instance, processes
from conformance.local.logins import ROUNDS
from conformance.local.target import LocalTarget
from conformance.probes.dags import (
    ASSETS_DAG_ID,
    BROKEN_FILENAME,
    DISPOSABLE_DAG_ID,
    MARKER,
    PROBE_DAG_ID,
    PROBE_TASK_ID,
    QUEUED_ASSET,
    XCOM_KEY,
)
from tests.harness import cli
from tests.targets import VERSIONS

pytestmark = pytest.mark.airflow  # reaches a real Airflow (or a release's venv) without the shared target fixtures


def _one_plain_line(proc) -> str:
    err = proc.stderr.strip()
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert len(err.splitlines()) == 1, err
    return err


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _session(target: LocalTarget) -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    if target.auth["kind"] == "basic":
        s.auth = (target.auth["user"], target.auth["password"])
    else:
        r = s.post(
            f"{target.url}/auth/token",
            json={"username": target.auth["user"], "password": target.auth["password"]},
            timeout=10,
        )
        assert r.status_code == 201, r.text
        s.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return s


# ------------------------------------------------------------------ bad inputs (fast)


def test_unknown_version_is_a_config_error():
    proc = cli("up", "--airflow", "9.9.9")
    assert proc.returncode == 2
    line = _one_plain_line(proc)
    assert "9.9.9" in line and "3.3.2" in line


def test_busy_port_is_a_config_error():
    running = {t.version for t in instance.running() if t.database == "sqlite"}
    version = next(v for v in ("2.10.5", "3.3.2", "2.9.3") if v not in running)  # the port is checked before installing
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        busy = sock.getsockname()[1]
        proc = cli("up", "--airflow", version, "--port", str(busy))
    assert proc.returncode == 2
    assert str(busy) in _one_plain_line(proc)


def test_probe_dags_install_needs_an_existing_folder():
    proc = cli("probe-dags", "install", "/nonexistent")
    assert proc.returncode == 2
    assert "/nonexistent" in _one_plain_line(proc)


@pytest.mark.parametrize(
    ("version", "marker_import"), [("2.10.5", "airflow.operators.python"), ("3.3.2", "airflow.sdk")]
)
def test_probe_dags_install_copies_the_major_set(tmp_path, version, marker_import):
    proc = cli("probe-dags", "install", str(tmp_path), "--airflow", version)
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in tmp_path.iterdir())
    assets = [f"{ASSETS_DAG_ID}.py"] if version.startswith("3.") else []  # 3.x: the asset probe DAG too
    assert names == sorted([BROKEN_FILENAME, "conformance_probe.py", "conformance_probe_disposable.py", *assets])
    assert marker_import in (tmp_path / "conformance_probe.py").read_text()
    for dag_id in (PROBE_DAG_ID, DISPOSABLE_DAG_ID):  # each file declares what the scenarios look for
        source = (tmp_path / f"{dag_id}.py").read_text()
        compile(source, dag_id, "exec")
        for line in (f'DAG_ID = "{dag_id}"', f'MARKER = "{MARKER}"', f'key="{XCOM_KEY}"', f'task_id="{PROBE_TASK_ID}"'):
            assert line in source, (dag_id, line)
    installed = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    again = cli("probe-dags", "install", str(tmp_path), "--airflow", version)
    assert again.returncode == 0, again.stderr
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == installed, "unchanged files were rewritten"


# ------------------------------------------------------------------ real targets


@pytest.fixture(scope="module", params=VERSIONS)
def up_target(request):
    """A fresh `up` of a release for this module; `down` afterwards whatever happens.

    A target of the same cache that already runs (CI starts them before the tests)
    is stopped first and started again at the end, so the other modules find it.
    """
    version = request.param
    was_running = any(t.key == version for t in instance.running())
    if was_running:
        assert cli("down", "--airflow", version).returncode == 0
    proc = cli("up", "--airflow", version)
    try:
        assert proc.returncode == 0, proc.stderr[-2000:]
        target = next(t for t in instance.running() if t.key == version)
        yield target, proc
    finally:
        cli("down", "--airflow", version)
        if was_running:
            cli("up", "--airflow", version)


@pytest.mark.slow
def test_up_reports_version_and_hides_password(up_target):
    target, proc = up_target
    assert f"version:  {target.version}" in proc.stdout
    assert target.url in proc.stdout
    assert target.redacted_auth_spec in proc.stdout
    assert target.auth["password"] not in proc.stdout + proc.stderr
    r = requests.get(f"{target.api_root}/version", timeout=10)
    assert r.status_code == 200
    assert r.json()["version"] == target.version
    assert target.api == ("v1" if target.version.startswith("2.") else "v2")
    assert instance.find_by_url(f"http://localhost:{target.port}/api/{target.api}") == target


@pytest.mark.slow
def test_auth_spec_works_and_wrong_password_is_rejected(up_target):
    target, _ = up_target
    kind, user, password = target.auth_spec.split(":", 2)
    assert (kind, user) == (("basic", "admin") if target.api == "v1" else ("jwt", "admin"))
    s = _session(target)
    # local targets cap pages at 20 (maximum_page_limit): ask for the probe by pattern, not by a long page
    r = s.get(f"{target.api_root}/dags", params={"dag_id_pattern": PROBE_DAG_ID}, timeout=10)
    assert r.status_code == 200
    assert PROBE_DAG_ID in [d["dag_id"] for d in r.json()["dags"]]
    errors = s.get(f"{target.api_root}/importErrors", timeout=10).json()["import_errors"]
    assert any(e["filename"].endswith(BROKEN_FILENAME) for e in errors)
    if kind == "basic":
        bad = requests.get(f"{target.api_root}/dags", auth=(user, password + "x"), timeout=10)
    else:
        bad = requests.post(f"{target.url}/auth/token", json={"username": user, "password": password + "x"}, timeout=10)
    assert bad.status_code == 401
    assert requests.get(f"{target.api_root}/dags", timeout=10).status_code == 401


@pytest.mark.slow
def test_2x_users_are_stored_with_cheap_hashes_and_still_checked(up_target):
    """Every Basic-auth request re-checks the password: the suite's own users of a 2.x home are stored with few
    rounds (conformance.local.logins), read from the metadata database; every role user still logs in."""
    target, _ = up_target
    if target.api != "v1":
        pytest.skip("3.x users are SimpleAuthManager's, with JWT logins: no per-request password check")
    import sqlite3  # noqa: PLC0415

    with sqlite3.connect(Path(target.home) / "airflow.db") as db:
        stored = dict(db.execute("SELECT username, password FROM ab_user").fetchall())
    ours = {"admin", *(spec["user"] for spec in target.roles.values())}
    assert ours <= set(stored) and all(stored[u].startswith(f"pbkdf2:sha256:{ROUNDS}$") for u in ours), stored.keys()
    for spec in target.roles.values():
        r = requests.get(f"{target.api_root}/version", auth=(spec["user"], spec["password"]), timeout=10)
        assert r.status_code == 200, spec["user"]


@pytest.mark.slow
def test_probe_dag_run_succeeds_with_xcom(up_target):
    target, _ = up_target
    s = _session(target)
    dag = f"{target.api_root}/dags/{PROBE_DAG_ID}"
    r = s.patch(dag, params={"update_mask": "is_paused"}, json={"is_paused": False}, timeout=10)
    assert r.status_code == 200, r.text
    conf = {"probe": "test_local_targets"}
    body = {
        "conf": conf,
        **(
            {"execution_date": datetime.now(timezone.utc).isoformat()} if target.api == "v1" else {"logical_date": None}
        ),
    }
    r = s.post(f"{dag}/dagRuns", json=body, timeout=10)
    assert r.status_code == 200, r.text
    run_id = r.json()["dag_run_id"]
    deadline = time.monotonic() + 90
    state = None
    while time.monotonic() < deadline:
        try:
            state = s.get(f"{dag}/dagRuns/{run_id}", timeout=30).json()["state"]
        except requests.Timeout:  # SQLite: a long write lock can stall the API for seconds
            continue
        if state in ("success", "failed"):
            break
        time.sleep(1)
    assert state == "success"
    x = s.get(f"{dag}/dagRuns/{run_id}/taskInstances/{PROBE_TASK_ID}/xcomEntries/{XCOM_KEY}", timeout=30)
    assert x.status_code == 200
    assert MARKER in str(x.json()["value"])


@pytest.mark.slow
def test_a_3x_target_holds_one_queued_asset_event_and_up_again_adds_none(up_target):
    """`up` leaves the asset probe DAG paused with one event of its first asset queued (conformance.local.fixtures),
    and a warm `up` posts no second event."""
    target, proc = up_target
    if target.api != "v2":
        pytest.skip("the queued asset event is a 3.x fixture")
    check_queued_asset_event(target, proc.stderr)


def check_queued_asset_event(target: LocalTarget, up_stderr: str) -> None:
    s = _session(target)
    dag = f"{target.api_root}/dags/{ASSETS_DAG_ID}"
    assert f"for {ASSETS_DAG_ID}" in up_stderr, up_stderr[-2000:]
    queued = s.get(f"{dag}/assets/queuedEvents", timeout=30)
    assert queued.status_code == 200, queued.text
    [event] = queued.json()["queued_events"]
    assets = s.get(f"{target.api_root}/assets", params={"name_pattern": QUEUED_ASSET}, timeout=30).json()["assets"]
    assert event["asset_id"] in [a["id"] for a in assets if a["name"] == QUEUED_ASSET]

    def events() -> int:
        return s.get(f"{target.api_root}/assets/events", params={"asset_id": event["asset_id"]}, timeout=30).json()[
            "total_entries"
        ]

    before = events()
    again = cli("up", "--airflow", target.version)
    assert again.returncode == 0 and "present" in again.stderr, again.stderr
    assert events() == before
    assert s.get(dag, timeout=30).json()["is_paused"] is True
    assert s.get(f"{dag}/dagRuns", timeout=30).json()["total_entries"] == 0


@pytest.mark.slow
def test_status_lists_target_redacted(up_target):
    target, _ = up_target
    proc = cli("status")
    assert proc.returncode == 0
    assert target.url in proc.stdout and target.redacted_auth_spec in proc.stdout
    assert target.auth["password"] not in proc.stdout


@pytest.mark.slow
def test_up_again_reprints_running_target(up_target):
    target, _ = up_target
    started = time.monotonic()
    proc = cli("up", "--airflow", target.version)
    assert proc.returncode == 0
    assert target.url in proc.stdout
    assert time.monotonic() - started < 10


@pytest.mark.slow
def test_down_leaves_nothing_behind_and_up_again_reuses_the_venv(up_target):
    target, _ = up_target
    groups = {pgid: target.starttimes.get(c, 0) for c, pgid in target.pgids.items()}
    assert processes.members(groups)
    proc = cli("down", "--airflow", target.version)
    assert proc.returncode == 0, proc.stderr
    assert not _listening(target.port)
    assert not processes.members(groups)
    assert not any(processes.is_alive(pid, target.starttimes.get(c)) for c, pid in target.pids.items())
    assert all(t.key != target.key for t in instance.running())
    assert Path(target.venv, "bin", "airflow").exists()

    started = time.monotonic()  # the venv and home are cached now
    proc = cli("up", "--airflow", target.version)
    warm = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-2000:]
    print(f"warm up of {target.version}: {warm:.1f} s")  # measured, not asserted: timings belong to the benchmark
    again = next(t for t in instance.running() if t.key == target.key)
    assert requests.get(f"{again.api_root}/version", timeout=10).json()["version"] == target.version
    assert cli("down", "--airflow", target.version).returncode == 0
    assert not _listening(again.port)
