"""Every bad input is one line and exit 2, before any request (the fast layer: a stub target, no Airflow).

The stub (tests/stub_airflow.py) records every request; for each case it must
have seen none, and a report folder holding an earlier run's results.json must
still hold exactly that file. A `-k` that selects nothing is exit 5 with its own
line and no verdict: the run connects (to collect the checks of the target's
release) but writes nothing. Every case runs the real CLI, or the real pytest
route, in a child process.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import click
import pytest

from conformance.cli import main
from conformance.errors import ExitCode
from tests.harness import cli, isolated_env, pytest_child
from tests.stub_airflow import StubAirflow

EARLIER = '{"verdict": "conformant", "note": "an earlier run: must survive a refused one"}\n'
SECRET = "pw-never-shown-7c1"


@pytest.fixture
def stub():
    with StubAirflow() as server:
        yield server


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    """A report folder with an earlier run's results.json in it."""
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "results.json").write_text(EARLIER)
    return folder


def conformance(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The CLI in a child that sees none of the caller's settings, in the test's own folder."""
    return cli(*args, timeout=120, env=isolated_env(tmp_path, env), cwd=tmp_path)


def plugin_route(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, autoload: bool = False
) -> subprocess.CompletedProcess:
    """`pytest ARGS` in a child; without `autoload` only the suite's plugin is loaded (`-p conformance.plugin`, as
    documented for environments that disable plugin autoloading), which spares the other plugins' start-up."""
    return pytest_child(*args, plugin=not autoload, timeout=120, env=isolated_env(tmp_path, env), cwd=tmp_path)


def one_line(proc: subprocess.CompletedProcess) -> str:
    """The only line the command printed (stdout and stderr together), with no traceback."""
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    assert len(lines) == 1, proc.stdout + proc.stderr
    return lines[0]


def untouched(folder: Path) -> bool:
    return [p.name for p in folder.iterdir()] == ["results.json"] and (folder / "results.json").read_text() == EARLIER


# -- output locations: checked (created, written) before the first request ------------------------------


def test_a_report_dir_that_cannot_be_created_is_exit_2_before_any_request(tmp_path, stub):
    proc = conformance(tmp_path, *stub.run_args(Path("/etc/hostname/sub")))
    assert proc.returncode == ExitCode.USAGE
    assert one_line(proc) == (
        "airflow-conformance: --report-dir /etc/hostname/sub: cannot create it or write in it "
        "(Not a directory); give a folder this user can write"
    )
    assert stub.requests == []


def test_a_report_dir_that_is_a_file_is_exit_2_before_any_request(tmp_path, stub):
    (tmp_path / "taken").write_text("a file, not a folder")
    proc = conformance(tmp_path, *stub.run_args(tmp_path / "taken"))
    assert proc.returncode == ExitCode.USAGE and "cannot create it or write in it (File exists)" in one_line(proc)
    assert stub.requests == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into a read-only folder anyway")
def test_a_read_only_report_dir_is_exit_2_before_any_request(tmp_path, stub, reports):
    reports.chmod(0o500)
    try:
        proc = conformance(tmp_path, *stub.run_args(reports))
    finally:
        reports.chmod(0o700)
    assert proc.returncode == ExitCode.USAGE and "(Permission denied)" in one_line(proc)
    assert stub.requests == [] and untouched(reports)


def test_the_report_dir_is_checked_before_a_local_airflow_is_provisioned(tmp_path):
    """With --airflow the check comes before the install and start that would take minutes."""
    proc = conformance(tmp_path, "run", "--airflow", "3.3.2", "--report-dir", "/etc/hostname/sub")
    assert proc.returncode == ExitCode.USAGE and "--report-dir /etc/hostname/sub" in one_line(proc)
    assert not (tmp_path / "cache" / "venvs").exists() and not (tmp_path / "cache" / "homes").exists()


# -- URLs: every defect is the same one-liner ----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:99999", "is not a valid URL (Port out of range 0-65535)"),
        ("http://[::1", "is not a valid URL (Invalid IPv6 URL)"),
        ("http://127.0.0.1:port", "is not a valid URL (Port could not be cast to integer value"),
    ],
    ids=["port-out-of-range", "unclosed-ipv6", "port-not-a-number"],
)
def test_a_malformed_target_url_is_one_line_exit_2(tmp_path, url, why):
    proc = conformance(tmp_path, "run", "--target", url, "--auth", "none")
    assert proc.returncode == ExitCode.USAGE
    line = one_line(proc)
    assert line.startswith(f"airflow-conformance: target URL '{url}' ") and why in line


def test_credentials_written_into_a_bad_url_are_not_shown(tmp_path):
    proc = conformance(tmp_path, "run", "--target", f"http://bot:{SECRET}@[::1", "--auth", "none")
    assert proc.returncode == ExitCode.USAGE
    assert "'http://***@[::1'" in one_line(proc) and SECRET not in proc.stdout + proc.stderr


def test_credentials_in_a_well_formed_url_are_refused_not_sent(tmp_path):
    """A URL's `user:pass@` would be sent and written into every report and line that names the target."""
    proc = conformance(tmp_path, "run", "--target", f"http://bot:{SECRET}@127.0.0.1:9", "--auth", "none")
    assert proc.returncode == ExitCode.USAGE
    assert one_line(proc).startswith("airflow-conformance: target URL 'http://***@127.0.0.1:9' carries credentials")
    assert SECRET not in proc.stdout + proc.stderr


# -- empty values: an error, never "unset" -----------------------------------------------------------


def test_an_empty_target_variable_is_exit_2_not_a_local_airflow(tmp_path):
    """Today's trap: an empty AIRFLOW_CONFORMANCE_TARGET read as unset made `run` provision a local Airflow."""
    proc = conformance(tmp_path, "run", env={"AIRFLOW_CONFORMANCE_TARGET": ""})
    assert proc.returncode == ExitCode.USAGE
    assert one_line(proc) == (
        "airflow-conformance: AIRFLOW_CONFORMANCE_TARGET is set but empty; give a value, or leave "
        "it out (an empty value never means 'unset')"
    )
    assert not (tmp_path / "cache" / "venvs").exists()


def _run_variables() -> list[str]:
    """Every AIRFLOW_CONFORMANCE_<FLAG> that `run` reads."""
    names: list[str] = []
    for param in main.commands["run"].params:  # type: ignore[attr-defined]
        if isinstance(param, click.Option) and param.envvar:
            names += [param.envvar] if isinstance(param.envvar, str) else list(param.envvar)
    return names


@pytest.mark.parametrize(
    "name", ["AIRFLOW_CONFORMANCE_KEYWORD", "AIRFLOW_CONFORMANCE_AUTH_VIEWER", "AIRFLOW_CONFORMANCE_CACHE"]
)
def test_an_empty_variable_is_one_line_exit_2_before_any_request(tmp_path, stub, name):
    """A flag's variable (blank counts as empty), a role's (read by the options), the cache's (read by every command)."""
    proc = conformance(tmp_path, "run", "--target", stub.url, env={name: "  " if name.endswith("KEYWORD") else ""})
    assert proc.returncode == ExitCode.USAGE
    assert one_line(proc).startswith(f"airflow-conformance: {name} is set but empty")
    assert stub.requests == []


def test_every_variable_of_run_is_refused_empty(tmp_path):
    names = _run_variables()
    assert len(names) > 20 and "AIRFLOW_CONFORMANCE_TARGET" in names and "AIRFLOW_CONFORMANCE_URL" in names
    proc = conformance(tmp_path, "run", env=dict.fromkeys(names, ""))
    assert proc.returncode == ExitCode.USAGE
    line = one_line(proc)
    assert [n for n in names if n not in line] == [] and "are set but empty" in line


def test_a_flag_given_empty_is_exit_2(tmp_path, stub):
    proc = conformance(tmp_path, "run", "--target", "", "--auth", "")
    assert proc.returncode == ExitCode.USAGE
    assert one_line(proc).startswith("airflow-conformance: --target, --auth are empty;")


def test_a_flag_on_the_command_line_wins_over_its_empty_variable(tmp_path):
    """An empty variable is only an error when it would be read: `--target` given, AIRFLOW_CONFORMANCE_TARGET is not."""
    proc = conformance(tmp_path, "run", "--target", "http://127.0.0.1:99999", env={"AIRFLOW_CONFORMANCE_TARGET": ""})
    assert proc.returncode == ExitCode.USAGE and "Port out of range" in one_line(proc)


# -- -k: syntax errors before the target; a selection of nothing is exit 5, no verdict ---------------


@pytest.mark.parametrize(
    ("keyword", "why"),
    [
        ("foo and (", "at column 10: expected not OR left parenthesis OR identifier; got end of input"),
        ("foo(x=1)", "keyword expressions take no call parameters"),
    ],
)
def test_a_malformed_k_is_exit_2_before_any_request_and_keeps_the_reports(tmp_path, stub, reports, keyword, why):
    proc = conformance(tmp_path, *stub.run_args(reports, "-k", keyword))
    assert proc.returncode == ExitCode.USAGE
    line = one_line(proc)
    assert line.startswith(f"airflow-conformance: -k {keyword!r}: ") and why in line
    assert stub.requests == [] and untouched(reports)


def test_a_k_that_selects_nothing_is_exit_5_without_a_verdict_or_a_report(tmp_path, stub, reports):
    proc = conformance(tmp_path, *stub.run_args(reports, "-k", "nothing_matches_this"))
    assert proc.returncode == ExitCode.SELECTED_NOTHING
    assert "Traceback" not in proc.stdout + proc.stderr and "verdict:" not in proc.stdout + proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last == (
        "airflow-conformance: selected nothing: -k 'nothing_matches_this' matches none of the 4 checks "
        "collected for this run (Airflow 3.3.2); no verdict, no report written (`airflow-conformance list` "
        "shows the checks' ids)"
    )
    assert untouched(reports)
    # collecting needs the target's release: it was asked, read-only, and nothing else
    assert stub.requests and all(r.startswith("GET ") for r in stub.requests)
    assert not list((tmp_path / "cache" / "ledgers").iterdir())  # nothing to clean up later either


# -- the pytest route -------------------------------------------------------------------------------


@pytest.mark.parametrize("autoload", [True, False], ids=["pyargs", "dash-p"])
def test_the_pytest_route_without_a_target_is_one_line(tmp_path, autoload):
    proc = plugin_route(tmp_path, "--pyargs", "conformance", autoload=autoload)
    assert proc.returncode == ExitCode.USAGE
    assert one_line(proc) == (
        "Exit: airflow-conformance: no target: pass --airflow-target URL (and --airflow-auth SPEC), "
        "or use `airflow-conformance run`"
    )


def _pytest_route_args(stub: StubAirflow, reports: Path, *extra: str) -> list[str]:
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
        *extra,
    ]


@pytest.mark.parametrize(
    ("extra", "env", "expected"),
    [
        (["-k", "foo and ("], {}, "Exit: airflow-conformance: -k 'foo and (': at column 10:"),
        (
            [],
            {"AIRFLOW_CONFORMANCE_PROFILE": ""},
            "Exit: airflow-conformance: AIRFLOW_CONFORMANCE_PROFILE is set but empty",
        ),
    ],
    ids=["bad-k", "empty-variable"],
)
def test_bad_input_on_the_pytest_route_is_one_line_exit_2_before_any_request(
    tmp_path, stub, reports, extra, env, expected
):
    """The route shares the CLI's checks (conformance/run/preflight.py: URL, folders, -k) and reads variables itself."""
    proc = plugin_route(tmp_path, *_pytest_route_args(stub, reports, *extra), env=env)
    assert proc.returncode == ExitCode.USAGE
    assert one_line(proc).startswith(expected)
    assert stub.requests == [] and untouched(reports)


def test_a_selection_of_nothing_on_the_pytest_route_is_exit_5(tmp_path, stub, reports):
    proc = plugin_route(tmp_path, *_pytest_route_args(stub, reports, "-k", "nothing_matches_this"))
    assert proc.returncode == ExitCode.SELECTED_NOTHING == pytest.ExitCode.NO_TESTS_COLLECTED
    assert "selected nothing: -k 'nothing_matches_this'" in proc.stderr and "verdict" not in proc.stdout
    assert untouched(reports)
