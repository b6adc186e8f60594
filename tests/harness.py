"""The one way the tests start a child process of the suite: its CLI, its pytest route, or a Python snippet.

Exit codes, stderr and report files of a real child are the contract under test, so every test that needs
them starts the child here rather than with its own `subprocess` call. What differs between tests is
explicit in the call: the environment (`cli_env`, the caller's with the bytecode of children kept;
`isolated_env`, none of the caller's AIRFLOW_CONFORMANCE_*; `caller_env`, the caller's exactly), the working
folder and the time limit. Every form returns text and never raises on an exit code, and the CLI and pytest
forms move an `--auth` secret off the command line into the child's environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

from conformance.local.home import PAGE_LIMITS

REPO_ROOT = Path(__file__).resolve().parents[1]
CONSOLE_SCRIPT = "airflow-conformance"  # [project.scripts] in pyproject.toml

_Stream = int | IO[Any] | None  # what Popen takes for stdout and stderr

# ----------------------------------------------------------------- environments


def cli_env(pycache: Path | None = None) -> dict[str, str]:
    """Environment for CLI subprocesses: the caller's, with the page limits of a local target stated.

    AIRFLOW_CONFORMANCE_CACHE passes through (CI sets it, so venvs are reused).
    When PYTHONDONTWRITEBYTECODE is set, pytest inside each run re-compiles its
    assertion-rewritten plugin modules every time (~5 s per run); pointing
    bytecode at a private `pycache` folder instead keeps the source tree clean
    and each run short.
    """
    env = dict(os.environ)
    # A run through the fault proxy reaches a local target at a URL the suite does not know as local, so it
    # cannot read the target's page limits from its state: state them, as a user of a remote target would.
    env["AIRFLOW_CONFORMANCE_PAGE_LIMITS"] = "{maximum},{fallback}".format(**PAGE_LIMITS)
    if pycache is not None and env.get("PYTHONDONTWRITEBYTECODE"):
        env.pop("PYTHONDONTWRITEBYTECODE")
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def isolated_env(tmp_path: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a child that must not see the caller's settings: no AIRFLOW_CONFORMANCE_* of the
    caller's (a developer's target or profile would change what a bad input meets), a cache of the test's own
    under `tmp_path`, and this checkout first on PYTHONPATH; then `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONFORMANCE_")}
    env["AIRFLOW_CONFORMANCE_CACHE"] = str(tmp_path / "cache")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(REPO_ROOT), env.get("PYTHONPATH"))))
    return {**env, **(extra or {})}


def caller_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment exactly, then `extra`: what a child inherits when given none. For tests whose
    child must see neither the page limits `cli_env` states nor anything `isolated_env` removes, e.g. a live run
    that reads a local target's page limits from its state."""
    return {**os.environ, **(extra or {})}


# ----------------------------------------------------------------- commands


def cli(
    *args: str,
    timeout: float | None = 900,
    env: dict[str, str] | None = None,
    cwd: Path | str | None = None,
    console_script: bool = False,
) -> subprocess.CompletedProcess:
    """`airflow-conformance ARGS...` in a subprocess (`python -m conformance`), text output, run to its end.

    Never raises on an exit code: exit codes and stderr are what the tests check. `env` defaults to `cli_env()`.
    `console_script` runs the installed entry point instead (when this interpreter has one), for the tests that
    prove the command users type works, not only the module.
    """
    env = dict(env or cli_env())
    return _run([*_cli_command(console_script), *_secrets_to_env(args, env)], env, cwd, timeout)


def cli_start(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | str | None = None,
    stdout: _Stream = subprocess.PIPE,
    stderr: _Stream = subprocess.PIPE,
) -> subprocess.Popen:
    """`airflow-conformance ARGS...` started, not waited for: for tests that signal, read or outlive a run
    mid-way. The same environment rules as `cli`; text streams, piped unless told otherwise."""
    env = dict(env or cli_env())
    return _start([*_cli_command(False), *_secrets_to_env(args, env)], env, cwd, stdout=stdout, stderr=stderr)


def pytest_child(
    *args: str,
    plugin: bool = False,
    timeout: float | None = 120,
    env: dict[str, str] | None = None,
    cwd: Path | str | None = None,
) -> subprocess.CompletedProcess:
    """The plugin route, `python -m pytest -p no:cacheprovider ARGS...`, run to its end (text, never raises).

    No cache folder is left in `cwd`. With `plugin`, plugin autoloading is off and only the suite's plugin is
    loaded (`-p conformance.plugin`, as documented for environments that disable autoloading), which also
    spares the other plugins' start-up. `env` defaults to `cli_env()`.
    """
    env = _pytest_env(plugin, env)
    return _run(_pytest_command(plugin, _secrets_to_env(args, env)), env, cwd, timeout)


def pytest_start(
    *args: str,
    plugin: bool = False,
    env: dict[str, str] | None = None,
    cwd: Path | str | None = None,
) -> subprocess.Popen:
    """`pytest_child` started, not waited for (text streams, piped): for tests that signal a run mid-way."""
    env = _pytest_env(plugin, env)
    return _start(_pytest_command(plugin, _secrets_to_env(args, env)), env, cwd)


def python_child(
    code: str,
    timeout: float | None = 120,
    env: dict[str, str] | None = None,
    cwd: Path | str | None = None,
) -> subprocess.CompletedProcess:
    """`python -c CODE` run to its end (text, never raises): for what must happen in a fresh interpreter, such
    as a command added to the CLI or a model extended in place, without changing this process's modules."""
    return _run([sys.executable, "-c", code], dict(env or cli_env()), cwd, timeout)


# ----------------------------------------------------------------- helpers


def _run(
    cmd: list[str], env: dict[str, str], cwd: Path | str | None, timeout: float | None
) -> subprocess.CompletedProcess:
    """Every run-to-its-end form: text, captured, never raises on an exit code."""
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd, check=False)


def _start(
    cmd: list[str],
    env: dict[str, str],
    cwd: Path | str | None,
    stdout: _Stream = subprocess.PIPE,
    stderr: _Stream = subprocess.PIPE,
) -> subprocess.Popen:
    """Every started form: text streams, piped unless told otherwise."""
    return subprocess.Popen(cmd, stdout=stdout, stderr=stderr, text=True, env=env, cwd=cwd)


def _cli_command(console_script: bool) -> list[str]:
    """This interpreter's `-m conformance`, or its console script when asked for and installed beside it."""
    script = Path(sys.executable).parent / CONSOLE_SCRIPT
    return [str(script)] if console_script and script.exists() else [sys.executable, "-m", "conformance"]


def _pytest_command(plugin: bool, args: list[str]) -> list[str]:
    load = ["-p", "conformance.plugin"] if plugin else []
    return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *load, *args]


def _pytest_env(plugin: bool, env: dict[str, str] | None) -> dict[str, str]:
    """The child's environment; loading only the suite's plugin means autoloading is off."""
    env = dict(env or cli_env())
    return {**env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"} if plugin else env


def _secrets_to_env(args: tuple[str, ...], env: dict[str, str]) -> list[str]:
    """An `--auth` value holding a password or token goes by environment (`env:VAR`), never on the command line,
    where every user of the machine can read it in the process list."""
    out = list(args)
    for i in range(1, len(out)):
        value = out[i]
        if out[i - 1] in ("--auth", "--airflow-auth") and value.split(":", 1)[0] in ("basic", "jwt", "bearer"):
            name = f"ACF_TEST_AUTH_{i}"
            env[name], out[i] = value, f"env:{name}"
    return out
