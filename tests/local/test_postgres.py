"""A real Airflow on a real PostgreSQL of its own: `up --database postgres`, a write that lands in
PostgreSQL, and `down` leaving no process of the target behind (marked `airflow` by conftest)."""

from __future__ import annotations

import json
import socket
import uuid
from pathlib import Path

import pytest
import requests

from conformance.local import instance, postgres, processes
from conformance.local.target import LocalTarget
from tests.harness import cli
from tests.targets import UP_TIMEOUT

pytestmark = pytest.mark.airflow  # reaches a real Airflow (or a release's venv) without the shared target fixtures

VERSION = "3.3.2"


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _token(target: LocalTarget) -> str:
    r = requests.post(
        f"{target.url}/auth/token",
        timeout=10,
        json={"username": target.auth["user"], "password": target.auth["password"]},
    )
    assert r.status_code == 201, r.text
    return r.json()["access_token"]


@pytest.fixture(scope="module")
def pg_target():
    """The PostgreSQL target of 3.3.2, started here unless it already ran (then it is left running)."""
    before = {t.key for t in instance.running()}
    proc = cli("up", "--airflow", VERSION, "--database", "postgres", timeout=UP_TIMEOUT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    target = next(t for t in instance.running() if t.key == f"{VERSION}-postgres")
    yield target, proc, f"{VERSION}-postgres" not in before
    if f"{VERSION}-postgres" not in before:
        cli("down", "--airflow", VERSION, "--database", "postgres")


def test_up_names_the_database_and_prints_no_database_password(pg_target):
    target, proc, _ = pg_target
    assert target.database == "postgres" and target.db_server["port"] != target.port
    assert f"database: PostgreSQL on 127.0.0.1:{target.db_server['port']}" in proc.stdout
    secrets = postgres.credentials(Path(target.home)).values()
    state_text = json.dumps(target.to_json())
    for secret in secrets:
        assert secret not in proc.stdout + proc.stderr and secret not in state_text
    status = cli("status")
    assert "PostgreSQL on 127.0.0.1" in status.stdout and not any(s in status.stdout for s in secrets)


def test_airflow_writes_its_metadata_to_postgresql(pg_target):
    target, _, _ = pg_target
    key = f"acf_pg_{uuid.uuid4().hex[:8]}"
    headers = {"Authorization": f"Bearer {_token(target)}"}
    r = requests.post(
        f"{target.api_root}/variables", json={"key": key, "value": "in postgres"}, headers=headers, timeout=30
    )
    assert r.status_code == 201, r.text
    try:
        rows = postgres.query(
            Path(target.home), target.db_server["port"], f"SELECT key FROM variable WHERE key = '{key}'"
        )
        assert rows.split() == [key]
        assert not (Path(target.home) / "airflow.db").exists()  # nothing went to a SQLite file
    finally:
        requests.delete(f"{target.api_root}/variables/{key}", headers=headers, timeout=30)


def test_run_local_finds_the_running_postgresql_target(pg_target, tmp_path):
    """`up --database postgres` then `run --local V` (no --database) runs on that target, never a new SQLite one.

    When V's SQLite target runs too (CI starts it), the choice is ambiguous: one line, exit 2, nothing started.
    """
    target, _, _ = pg_target
    before = {t.key for t in instance.running()}
    proc = cli(
        "run",
        "--local",
        VERSION,
        "--only",
        "scenarios",
        "-k",
        "health",
        "--client",
        "none",
        "--report-dir",
        str(tmp_path),
        timeout=600,
    )
    assert {t.key for t in instance.running()} == before  # nothing started, nothing stopped
    if VERSION in before:
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1, proc.stderr[-2000:]
        assert "runs on postgres and sqlite" in lines[0] and "--database" in lines[0]
        return
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["target"]["url"] == target.url and results["summary"]["passed"] >= 1


def test_down_stops_airflow_and_postgresql_by_their_recorded_pids(pg_target):
    target, _, started_here = pg_target
    if not started_here:
        pytest.skip("the PostgreSQL target ran before the tests: it is not stopped here")
    server = postgres.Server.from_json(target.db_server)
    assert server is not None and postgres.is_alive(server)
    groups = {pgid: target.starttimes.get(c, 0) for c, pgid in target.pgids.items()}
    proc = cli("down", "--airflow", VERSION, "--database", "postgres")
    assert proc.returncode == 0 and "stopped Airflow 3.3.2 on PostgreSQL" in proc.stdout, proc.stderr
    assert not processes.members(groups)
    assert not any(processes.is_alive(pid, target.starttimes.get(c)) for c, pid in target.pids.items())
    assert not postgres.is_alive(server) and not processes.is_alive(server.pid, server.starttime)
    assert not _listening(target.port) and not _listening(server.port)
    assert all(t.key != target.key for t in instance.running())
