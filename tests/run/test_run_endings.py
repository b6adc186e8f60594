"""A run that started never loses its results (the fast layer: a stub target, no Airflow).

Interrupted (Ctrl-C, SIGTERM), its report folder gone by the end, or its target
dead mid-run: each time the run still cleans up, writes a results.json saying
what happened (`aborted`), prints one line saying so and where the reports are,
and exits 3. The stub holds the request of one posture check
(`GET /api/v2/config`) until the test has done its part, so the signal or the
damage lands in the middle of the run, every time. The same against a real
Airflow, with objects to clean up, is in tests/system/test_safety.py (live layer).
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conformance.errors import ExitCode
from tests.harness import cli_start, isolated_env, pytest_start
from tests.stub_airflow import StubAirflow

HELD = "/api/v2/config"  # asked by posture's test_config, the second of the tier's four checks


@pytest.fixture
def stub():
    with StubAirflow(hold=HELD) as server:
        yield server


def _start(tmp_path: Path, route: str, stub: StubAirflow, reports: Path) -> subprocess.Popen:
    """The run by `route` (`cli` or the pytest route), started in a child that sees none of the caller's settings.

    The pytest route loads only the suite's plugin (`-p`, autoloading off): the same run, a faster start.
    """
    env = isolated_env(tmp_path, {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    if route == "cli":
        return cli_start(*stub.run_args(reports), env=env, cwd=tmp_path)
    return pytest_start(*_pytest_route_args(stub, reports), plugin=True, env=env, cwd=tmp_path)


def _pytest_route_args(stub: StubAirflow, reports: Path) -> list[str]:
    return [
        "--pyargs",
        "conformance.tiers.posture",
        "--airflow-target",
        stub.url,
        "--airflow-auth",
        "none",
        "--airflow-client",
        "none",
        "--airflow-report-dir",
        str(reports),
    ]


def _wait_held(stub: StubAirflow, proc: subprocess.Popen) -> None:
    if not stub.reached.wait(60):
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"the run never asked for {HELD}: {out[-1500:]} {err[-1500:]}")


def _no_banner(out: str, err: str) -> None:
    """No traceback, and none of pytest's KeyboardInterrupt banner or its --full-trace hint."""
    for text in ("Traceback", "KeyboardInterrupt", "--full-trace", "!!!!", "PytestUnknownMarkWarning"):
        assert text not in out + err, (text, out[-2000:], err[-2000:])


@pytest.mark.parametrize(
    ("route", "sig"),
    [("cli", signal.SIGINT), ("cli", signal.SIGTERM), ("pytest", signal.SIGINT)],
    ids=["cli-ctrl-c", "cli-sigterm", "pytest-ctrl-c"],
)
def test_an_interrupted_run_ends_with_one_line_its_reports_and_exit_3(tmp_path, stub, route, sig):
    reports = tmp_path / "reports"
    proc = _start(tmp_path, route, stub, reports)
    _wait_held(stub, proc)
    proc.send_signal(sig)
    time.sleep(0.5)  # the signal waits for the request in flight: answer it now
    stub.release()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == ExitCode.INCOMPLETE, err[-2000:]
    _no_banner(out, err)
    lines = err.strip().splitlines()
    assert lines[-1] == f"airflow-conformance: interrupted; cleaned up; reports in {reports} (exit 3)"
    assert "airflow-conformance: stopping after the request in flight (signal again to stop at once)" in lines
    data = json.loads((reports / "results.json").read_text())
    assert data["aborted"] == "interrupted" and data["verdict"] == "aborted"
    assert all((reports / name).is_file() for name in ("junit.xml", "report.html", "summary.md", "cassette.json"))
    assert not list((tmp_path / "cache" / "ledgers").iterdir())  # cleaned up: no ledger left for `cleanup`


def test_reports_that_cannot_be_written_at_the_end_go_to_a_fallback_folder_exit_3(tmp_path, stub):
    reports = tmp_path / "reports"
    proc = _start(tmp_path, "cli", stub, reports)
    _wait_held(stub, proc)
    reports.rmdir()  # checked and created before the first request; now a file stands where it was
    reports.write_text("not a folder any more")
    stub.release()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == ExitCode.INCOMPLETE, err[-2000:]
    assert "Traceback" not in out + err
    line = err.strip().splitlines()[-1]
    prefix = f"airflow-conformance: cannot write the reports to {reports} (File exists); they are in "
    assert line.startswith(prefix) and line.endswith(" (exit 3)")
    rescue = Path(line[len(prefix) : -len(" (exit 3)")])
    try:
        data = json.loads((rescue / "results.json").read_text())
        assert data["run_id"] in rescue.name and data["summary"]["passed"] + data["summary"]["failed"] == 3
        assert (rescue / "cassette.json").is_file() and rescue.stat().st_mode & 0o077 == 0  # only this user reads it
        assert f"reports: {rescue}/results.json" in out
    finally:
        shutil.rmtree(rescue, ignore_errors=True)


def test_a_target_that_dies_mid_run_stops_the_run_there_results_marked_aborted_exit_3(tmp_path, stub):
    """The check whose request got no answer is the last one: the checks after it are not sent into the void."""
    reports = tmp_path / "reports"
    proc = _start(tmp_path, "cli", stub, reports)
    _wait_held(stub, proc)
    stub.stop()  # the request in flight is dropped unanswered, every later connection refused
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == ExitCode.INCOMPLETE, err[-2000:]
    assert "Traceback" not in out + err and "PytestUnknownMarkWarning" not in out + err
    data = json.loads((reports / "results.json").read_text())
    gone = f"the target {stub.url} stopped answering during the run"
    assert data["verdict"] == "aborted" and data["aborted"] == gone
    ran = [r["id"] for r in data["results"]]
    assert ran[-1] == "posture.config_not_exposed" and "posture.swagger_ui_noted" not in ran, ran  # held, then none
    held = data["results"][-1]
    assert held["status"] == "error" and "ConnectionError" in held["message"], held
    assert any("--run-id" in problem for problem in data["cleanup_problems"])  # what to run to sweep its leftovers
