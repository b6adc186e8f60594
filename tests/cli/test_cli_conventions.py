"""Command-line conventions that need no Airflow (the fast layer): flags, environment, exit codes, the plugin.

One name per concept across the commands and the pytest plugin, every flag from
AIRFLOW_CONFORMANCE_<FLAG>, -H values never echoed, interrupts exit 3 as the README
says, and a plugin that stays out of other people's test suites. The same flags
against a real target are in test_cli.py.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import click
import pytest
import yaml

import conformance.cli as cli_package
from conformance.cli import SUBCOMMANDS, main
from conformance.cli.common import NOT_FROM_ENV
from conformance.options import env_name
from conformance.plugin import XDIST, pytest_addoption
from tests.harness import REPO_ROOT, caller_env, cli, cli_start, pytest_child, python_child

SECRET = "gw-7f3a-never-shown"
ENV_COMMANDS = ("run", "matrix", "up", "cleanup", "deviations verify")
# run's flags the plugin has no --airflow-<flag> for, and why
CLI_ONLY = {
    "--airflow": "provisioning is the CLI's job",
    "--local": "the same",
    "--python": "with --airflow only",
    "--max-failures": "pytest's own --maxfail/-x",
    "--i-accept-disruptive-writes": "the same name in the plugin",
}


def _command(path: str) -> click.Command:
    cmd: click.Command = main
    for name in path.split():
        cmd = cmd.commands[name]  # type: ignore[attr-defined]
    return cmd


def _one_line(proc) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert "Traceback" not in proc.stderr, proc.stderr
    assert len(lines) == 1, proc.stderr
    return lines[0]


def _params(path: str, args: list[str], env: dict[str, str]) -> dict:
    """What the command would run with: click's own parsing of args and environment (nothing is executed)."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        with _command(path).make_context(path, args) as ctx:
            return dict(ctx.params)
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.mark.parametrize("path", ENV_COMMANDS)
def test_every_flag_reads_airflow_conformance_flag(path):
    for param in _command(path).params:
        if not isinstance(param, click.Option) or param.name in NOT_FROM_ENV:
            continue
        longs = [o for o in param.opts if o.startswith("--")]
        expected = env_name(longs[0] if longs else param.name)
        assert expected in (param.envvar or []), (path, param.opts, param.envvar)


def test_environment_stands_in_for_flags_and_the_command_line_wins():
    env = {
        "AIRFLOW_CONFORMANCE_TARGET": "https://airflow.example",
        "AIRFLOW_CONFORMANCE_MAX_FAILURES": "2",
        "AIRFLOW_CONFORMANCE_HEADER": f"X-Gateway-Key: {SECRET}\nX-Tenant: blue\n",  # as a YAML `|` block ends
        "AIRFLOW_CONFORMANCE_TLS_VERIFY": "false",
        "AIRFLOW_CONFORMANCE_REQUEST_TIMEOUT": "7.5",
        "AIRFLOW_CONFORMANCE_KEYWORD": "posture",
    }
    params = _params("run", [], env)
    assert params["url"] == "https://airflow.example" and params["max_failures"] == 2 and params["keyword"] == "posture"
    assert params["header"] == (("X-Gateway-Key", SECRET), ("X-Tenant", "blue"))
    assert params["tls_verify"] is False and params["request_timeout"] == 7.5
    assert _params("run", ["--tls-verify", "-x"], env)["tls_verify"] is True
    assert _params("run", ["-x"], env)["max_failures"] == 1
    assert _params("run", ["-x", "3"], {})["max_failures"] == 3
    assert _params("run", [], {"AIRFLOW_CONFORMANCE_URL": "http://old.example"})["url"] == "http://old.example"
    assert _params("matrix", [], env)["tls_verify"] is False


def _plugin_spelling(flag: str) -> str:
    """The plugin's name for a run flag: --airflow-<flag> (--no-X: --airflow-no-X)."""
    return "--airflow-" + flag[2:]


class _Options:
    """Takes down the option names the plugin declares (pytest_addoption's parser, as far as the plugin uses it)."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def getgroup(self, *args, **kwargs) -> _Options:
        return self

    def addoption(self, *names: str, **kwargs) -> None:
        self.names.update(names)


def test_one_name_per_concept_in_the_plugin():
    declared = _Options()
    pytest_addoption(declared)
    plugin = declared.names
    for param in _command("run").params:
        for flag in (o for o in param.opts + param.secondary_opts if o.startswith("--")):
            if flag in CLI_ONLY or flag == "--help":
                continue
            assert _plugin_spelling(flag) in plugin, f"run {flag} has no plugin option {_plugin_spelling(flag)}"
    assert "--airflow-url" in plugin and "--i-accept-disruptive-writes" in plugin
    # a release provisioned here is --airflow VERSION wherever a command provisions one
    for path in ("up", "down", "run", "matrix", "deviations verify"):
        assert any("--airflow" in p.opts for p in _command(path).params), path


@pytest.mark.parametrize("header", ["X-Gateway-Key " + SECRET, "X Gateway: " + SECRET, ":" + SECRET, "X-Gateway-Key:"])
def test_a_malformed_header_is_one_line_exit_2_without_its_value(header):
    proc = cli("run", "--target", "http://127.0.0.1:9", "--auth", "none", "-H", header, timeout=60)
    assert proc.returncode == 2
    line = _one_line(proc)
    assert "NAME:VALUE" in line and SECRET not in proc.stderr + proc.stdout


def test_a_missing_ca_file_and_bad_numbers_are_exit_2():
    for args in (["--cacert", "/nonexistent/ca.pem"], ["-x", "0"], ["--request-timeout", "0"]):
        proc = cli("run", "--target", "http://127.0.0.1:9", *args, timeout=60)
        assert proc.returncode == 2, (args, proc.stderr)
        _one_line(proc)


@pytest.fixture
def silent_server():
    """A port that accepts connections and never answers: a request to it hangs until its timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(30)
    yield server
    server.close()


def _url(server: socket.socket) -> str:
    return f"http://127.0.0.1:{server.getsockname()[1]}"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupt_before_the_run_exits_3(silent_server, sig):
    proc = cli_start(
        "run", "--target", _url(silent_server), "--auth", "none", "--request-timeout", "10", env=caller_env()
    )
    conn, _ = silent_server.accept()  # the suite connected and waits for an answer that never comes
    time.sleep(0.2)
    proc.send_signal(sig)
    try:  # the connection stays open until the suite is gone: the signal alone must end it, whenever it lands
        out, err = proc.communicate(timeout=60)
    finally:
        conn.close()
    assert proc.returncode == 3, err
    assert err.strip().splitlines() == ["airflow-conformance: interrupted"] and "Traceback" not in err


def test_a_defect_of_the_suite_is_one_line_exit_3_with_the_traceback_kept(tmp_path):
    code = (
        "import conformance.cli as c\n"
        "@c.main.command('defect')\n"
        "def defect():\n"
        "    raise RuntimeError('a defect')\n"
        "c.main(['defect'])\n"
    )
    proc = python_child(code, timeout=60, env=caller_env({"AIRFLOW_CONFORMANCE_CACHE": str(tmp_path)}))
    assert proc.returncode == 3
    line = _one_line(proc)
    assert line.startswith("airflow-conformance: internal error RuntimeError; details in ")
    kept = Path(line.rsplit(" ", 1)[1])
    assert "RuntimeError: a defect" in kept.read_text() and kept.stat().st_mode & 0o077 == 0


def test_every_sub_command_is_served_under_the_name_it_is_listed_by():
    """The group lists SUBCOMMANDS without importing them: each must load as the command of that name, and every
    command a module of the package defines at the top level must be among them (or be a group's)."""
    assert {name: main.commands[name].name for name in SUBCOMMANDS} == {name: name for name in SUBCOMMANDS}
    modules = {f"conformance.cli.{m.name}" for m in pkgutil.iter_modules(cli_package.__path__)}
    defined = {
        id(cmd): cmd.name
        for module in map(importlib.import_module, modules)
        for cmd in vars(module).values()
        if isinstance(cmd, click.Command)
    }
    served = {id(main.commands[name]) for name in SUBCOMMANDS}
    nested = {id(sub) for name in SUBCOMMANDS for sub in getattr(main.commands[name], "commands", {}).values()}
    assert [name for key, name in defined.items() if key not in served | nested] == []


def test_the_command_starts_without_the_modules_of_its_sub_commands():
    """A child of the suite starts in a fraction of a second: the group imports no sub-command's module (nor
    what they bring: pytest, requests, schemathesis) until one is invoked."""
    modules = tuple(sorted({module for module, _ in SUBCOMMANDS.values()}))
    code = (
        "import sys\n"
        "import conformance.cli\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        f"('pytest', 'requests', 'schemathesis', 'hypothesis', 'openapi_core') or m in {modules!r})))\n"
    )
    proc = python_child(code, timeout=60)
    assert proc.returncode == 0 and proc.stdout.split() == [], proc.stdout + proc.stderr


def test_a_corrupt_run_is_one_line_exit_2_for_matrix_rebuild(tmp_path):
    (tmp_path / "runs" / "3.3.2").mkdir(parents=True)
    (tmp_path / "runs" / "3.3.2" / "results.json").write_text("{not json")
    proc = cli("matrix", "--rebuild", "--report-dir", str(tmp_path), timeout=60)
    assert proc.returncode == 2 and "is not a results.json" in _one_line(proc)


def _pytest(tmp_path: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """pytest with its plugins autoloaded, as another project's suite runs, in the test's own folder."""
    return pytest_child(*args, timeout=120, env=caller_env(env), cwd=tmp_path)


def test_the_plugin_adds_nothing_to_another_suite(tmp_path):
    (tmp_path / "test_theirs.py").write_text(
        "import pytest\n"
        "NAMES = ['ctx', 'api', 'anon', 'target', 'dialect', 'meta', 'expect', 'verdict', 'airflow_ctx', 'airflow_api']\n"
        "@pytest.mark.parametrize('name', NAMES)\n"
        "def test_no_fixture_of_ours(request, name):\n"
        "    with pytest.raises(pytest.FixtureLookupError):\n"
        "        request.getfixturevalue(name)\n"
    )
    env = {"AIRFLOW_CONFORMANCE_TARGET": "http://127.0.0.1:9", "PYTHONPATH": str(REPO_ROOT)}
    proc = _pytest(tmp_path, "-q", "--trace-config", env=env)  # a target in the environment starts no run either
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "10 passed" in proc.stdout
    assert "module 'conformance.plugin'" in proc.stdout  # loaded, yet inert


def test_pytest_xdist_is_refused_with_one_line(tmp_path):
    pytest.importorskip("xdist", reason="pytest-xdist is not installed (pip install '.[test]')")
    proc = _pytest(
        tmp_path,
        "-p",
        "xdist",
        "-n",
        "2",
        "--pyargs",
        "conformance.tiers.posture",
        "--airflow-target",
        "http://127.0.0.1:9",
        env={"PYTHONPATH": str(REPO_ROOT)},
    )
    assert proc.returncode == 2
    assert XDIST in proc.stdout + proc.stderr and "Traceback" not in proc.stdout + proc.stderr


# -- the GitHub Actions workflows the README and docs/staging-and-ci.md tell people to copy -----
WORKFLOWS = sorted((REPO_ROOT / ".ci").glob("*.github.yml"))


def _steps(path: Path) -> list[dict]:
    doc = yaml.safe_load(path.read_text())
    return [step for job in doc["jobs"].values() for step in job["steps"]]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_install_the_package_and_use_only_real_flags(path):
    steps = _steps(path)
    uses = {step.get("uses", "").split("@")[0] for step in steps}
    assert "actions/checkout" not in uses, "a copied workflow must not need this repository"
    assert "actions/upload-artifact" in uses
    runs = [step["run"] for step in steps if "run" in step]
    assert any(line.strip() == "pip install airflow-api-conformance" for line in runs)
    assert any('>> "$GITHUB_STEP_SUMMARY"' in line for line in runs)
    invocations = [
        line.split("airflow-conformance", 1)[1].split(">")[0].split("||")[0].split()
        for line in runs
        if line.startswith("airflow-conformance ")
    ]
    assert invocations
    for args in invocations:
        words = [w for w in args if not w.startswith("$")]
        path_words = [w for w in words if not w.startswith("-")][:2]
        name = " ".join(path_words) if path_words[:1] == ["deviations"] else path_words[0]
        command = _command(name)
        flags = [w for w in args if w.startswith("-")]
        known = {o for p in command.params for o in p.opts + p.secondary_opts}
        assert set(flags) <= known, (path.name, name, set(flags) - known)


def test_the_matrix_workflow_combines_the_releases_with_rebuild():
    path = REPO_ROOT / ".ci" / "matrix-example.github.yml"
    runs = [step.get("run", "") for step in _steps(path)]
    assert "airflow-conformance matrix --rebuild --report-dir reports" in runs
    assert any(r.startswith("airflow-conformance run --airflow ${{ matrix.airflow }}") for r in runs)
    doc = yaml.safe_load(path.read_text())
    assert doc["jobs"]["matrix"]["needs"] == "release"
