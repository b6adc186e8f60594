"""The client check against real Airflow 2.10.5 and 3.3.2: official clients read what a run recorded.

One small run per release (its scenario and posture checks on DAGs, pools,
variables and the service) with the default `--client auto`: the release's own
client must be picked, read every recorded answer it has a model for, and pass;
the cassette must hold those answers and no secret. The same cassette is then
read offline by the neighbouring client minors (`clients check`, no request),
and the matching client's offline reading must agree with the run's own.
How the clients fail on broken answers is in tests/system/test_detection.py (fault proxy).
"""

from __future__ import annotations

import base64
import json
import re

import pytest

from conformance.clients import versions
from tests.harness import cli

SELECTION = (
    "dags.list_fields or dags.get_probe or service or pools.crud or variables.crud or task_instances.list_for_run"
)


@pytest.fixture(scope="module")
def run(live, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"clients-{live.version}")
    proc = cli(
        "run",
        "--target",
        live.url,
        "--auth",
        live.auth_spec,
        "--only",
        "scenarios,posture",
        "-k",
        SELECTION,
        "--report-dir",
        str(out),
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return live, out, proc, json.loads((out / "results.json").read_text())


def test_the_matching_client_reads_every_recorded_answer(run):
    live, out, proc, data = run
    section = data["clients"]
    [reading] = section["readings"]
    assert reading["client"] == versions.matching(live.version) and not reading["error"]
    assert reading["generation"] == live.major
    cassette = json.loads((out / "cassette.json").read_text())
    assert cassette["target"]["airflow_version"] == live.version
    assert reading["answers"] == len(cassette["entries"]) == section["cassette"]["answers"] > 10
    assert reading["failed"] == 0 and reading["parsed"] >= 10, reading
    for op in ("get_dags", "get_dag", "get_pools", "get_variables", "get_health"):
        assert reading["operations"][op]["parsed"] >= 1, (op, reading["operations"].get(op))
    # every operation read becomes one client result, and it passed
    results = {r["id"]: r for r in data["results"] if r["kind"] == "client"}
    assert set(results) == {f"client.{op}" for op in reading["operations"]}
    assert results["client.get_dags"]["status"] == "passed"
    assert all(r["status"] in ("passed", "skipped") for r in results.values()), {
        k: r["message"][:300] for k, r in results.items() if r["status"] not in ("passed", "skipped")
    }
    assert f"apache-airflow-client {reading['client']} parsed {reading['parsed']}" in proc.stderr + proc.stdout


def test_the_reports_show_the_client_check(run):
    _, out, _, data = run
    reading = data["clients"]["readings"][0]
    assert f"apache-airflow-client {reading['client']} parsed {reading['parsed']}" in (out / "summary.md").read_text()
    html = (out / "report.html").read_text()
    assert "Official clients" in html and f"apache-airflow-client {reading['client']}" in html
    assert f'name="client_{reading["client"]}_parsed" value="{reading["parsed"]}"' in (out / "junit.xml").read_text()


def test_the_cassette_holds_no_secret(run):
    live, out, proc, _ = run
    text = (out / "cassette.json").read_text()
    for secret in (live.password, base64.b64encode(f"{live.user}:{live.password}".encode()).decode()):
        assert secret not in text
    assert not re.search(r"eyJ[\w-]{10,}\.[\w-]{10,}\.", text), "a JWT leaked into the cassette"
    for entry in json.loads(text)["entries"]:
        assert 200 <= entry["status"] < 300
        if entry.get("no_body"):  # a 2xx the server declared empty (204, Content-Length 0): nothing else kept
            assert entry["body"] is None
        else:
            assert entry["headers"].get("Content-Type", "").startswith("application/")
        assert entry["request"].startswith("curl ")
        for variable in (entry["body"].get("variables") or []) if isinstance(entry["body"], dict) else []:
            assert variable.get("value") in ("***", "", None), "a variable's value was written to the cassette"


def test_neighbouring_clients_read_the_same_cassette_offline(run):
    live, out, _, data = run
    wanted = versions.neighbours(live.version)
    proc = cli("clients", "check", str(out / "cassette.json"), "--client", ",".join(wanted), "--json", timeout=600)
    assert proc.returncode in (0, 1) and proc.stdout.strip(), proc.stderr[-2000:]
    readings = {r["client"]: r for r in json.loads(proc.stdout)}
    assert set(readings) == set(wanted)
    assert proc.returncode == (1 if any(r["failed"] or r["error"] for r in readings.values()) else 0)
    own = data["clients"]["readings"][0]
    mine = readings[own["client"]]
    assert (mine["parsed"], mine["failed"], mine["skipped"]) == (own["parsed"], own["failed"], own["skipped"])
    for r in readings.values():
        assert not r["error"] and r["parsed"] > 0, r
        for op, row in r["operations"].items():  # every refusal says where, what, and how to get that answer
            assert all(x["field"] and x["error"] and x["reproduce"].startswith("curl ") for x in row["refusals"]), (
                op,
                row,
            )


def test_client_flag_errors_are_one_line_exit_2(live, tmp_path):
    other = "2.10.0" if live.major == 3 else "3.3.2"
    for value, says in (("latest", "not a client version"), (other, "cannot read the API")):
        proc = cli(
            "run",
            "--target",
            live.url,
            "--auth",
            live.auth_spec,
            "--client",
            value,
            "--only",
            "posture",
            "--report-dir",
            str(tmp_path / value),
            timeout=120,
        )
        assert proc.returncode == 2 and says in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_client_none_records_but_reads_nothing(live, tmp_path):
    env_run = cli(
        "run",
        "--target",
        live.url,
        "--auth",
        live.auth_spec,
        "--only",
        "posture",
        "--client",
        "none",
        "--report-dir",
        str(tmp_path),
        timeout=300,
    )
    assert env_run.returncode == 0, env_run.stderr[-2000:]
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["clients"]["readings"] == [] and "--client none" in data["clients"]["off"]
    assert not [r for r in data["results"] if r["kind"] == "client"]
    assert (tmp_path / "cassette.json").is_file()


@pytest.mark.parametrize("bad", ["missing.json", "not-a-cassette.json"])
def test_clients_check_refuses_what_is_not_a_cassette(tmp_path, bad):
    (tmp_path / "not-a-cassette.json").write_text('{"entries": []}')
    proc = cli("clients", "check", str(tmp_path / bad), timeout=60)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
