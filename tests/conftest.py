"""Shared fixtures for the project's own tests.

Targets come from tests/targets.py, and every child process of the suite (its CLI,
its pytest route) from tests/harness.py: the one harness every module uses. The
cache comes from AIRFLOW_CONFORMANCE_CACHE when set (CI sets it) so Airflow venvs
are built once and reused.
"""

from __future__ import annotations

import itertools
import os
import signal
import time
from pathlib import Path

import pytest

from tests.harness import cli_env
from tests.live_groups import WorkerLoad, make_scheduler, target_of
from tests.summary import collect_worker_lines, kept_lines, summary_line
from tests.targets import VERSIONS, Target, TargetPool

LOAD = pytest.StashKey[WorkerLoad]()  # a live worker's time per group (tests/live_groups.WorkerLoad)


def pytest_configure(config: pytest.Config) -> None:
    """Let the fast layer's child processes (the suite's commands, pytest-xdist's workers) keep their bytecode.

    With PYTHONDONTWRITEBYTECODE set, every `python -m conformance` a test starts compiles the whole package
    from source again (about 0.3 s of a core each, a hundred times a session). As `cli_env` does for a run's
    pytest, the children write it to a folder of the suite's cache instead of the source tree: what they
    run is the same, only its compiled form is kept (and checked against the source's time stamp as always).
    """
    if _selects_live_tests(config):  # the live layer's children (Airflow among them) as they always ran
        if getattr(config, "workerinput", None) is not None:  # a live worker tallies its time per group
            config.stash[LOAD] = WorkerLoad()
        return
    if os.environ.get("PYTHONDONTWRITEBYTECODE") and not os.environ.get("PYTHONPYCACHEPREFIX"):
        from conformance.paths import cache_dir  # noqa: PLC0415

        del os.environ["PYTHONDONTWRITEBYTECODE"]
        os.environ["PYTHONPYCACHEPREFIX"] = str(cache_dir() / "pycache")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Give the suite's child processes a working Ctrl-C even when pytest itself was started in the background.

    A shell without job control starts `cmd &` with SIGINT ignored, children inherit that, and the
    interrupt tests would then test nothing but the shell. A Python handler here resets to the default
    in every child at exec.
    """
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def targets():
    """Real local Airflow targets, started on demand and stopped at the end if this session started them."""
    pool = TargetPool()
    yield pool
    pool.stop_started()


@pytest.fixture(scope="module", params=VERSIONS)
def live(request: pytest.FixtureRequest, targets: TargetPool) -> Target:
    """A running target of each version the tests cover; a module runs all its tests on one, then the next."""
    return targets.get(request.param)


@pytest.fixture(scope="session")
def pycache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bytecode folder for the suite's child processes, shared by the session (see `cli_env`)."""
    path = tmp_path_factory.getbasetemp() / "pycache"
    path.mkdir(exist_ok=True)
    return path


# The live layer: a test is marked `airflow` when it uses one of these fixtures (directly or through
# another fixture), or when its module declares `pytestmark = pytest.mark.airflow` (it reaches a real
# Airflow some other way: its own `up`, a release's venv). Everything else is the fast layer, the
# default of plain `pytest` (pyproject's addopts); `pytest -m airflow` runs the live layer.
AIRFLOW_FIXTURES = frozenset({"targets", "live", "airflow"})


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if AIRFLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.airflow)
            if target_of(item.nodeid) is None:
                raise pytest.UsageError(
                    f"{item.nodeid} reaches a shared target but no parameter names its version: give its target "
                    "fixture or the test a version parameter (tests/live_groups.py)"
                )


def _selects_live_tests(config: pytest.Config) -> bool:
    """Whether the session's `-m` expression selects any test marked `airflow`, whichever of the project's other
    markers it also carries (in doubt: yes)."""
    expr = config.getoption("markexpr", "") or ""
    if not expr:
        return True
    others = sorted({line.split(":")[0].split("(")[0].strip() for line in config.getini("markers")} - {"airflow"})
    try:
        from _pytest.mark.expression import Expression  # noqa: PLC0415 - only asked when -n auto is given

        compiled = Expression.compile(expr)
        return any(
            compiled.evaluate(lambda name, marks=marks, **_: name == "airflow" or name in marks)
            for marks in itertools.chain.from_iterable(
                itertools.combinations(others, n) for n in range(len(others) + 1)
            )
        )
    except Exception:  # an expression pytest itself will refuse, or a pytest whose API moved
        return "airflow" in expr


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook (the test extra installs it)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` (pyproject's addopts) runs the fast layer on every CPU, and the live layer in one worker per shared
    target: a target's tests start, stop and restart it one module after another, as in a serial run, while the
    other target's tests run beside them (most of a live test's time is waiting on a scheduler). `-n 0` runs
    the live layer in this process alone."""
    return len(VERSIONS) if _selects_live_tests(config) else None


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """The live layer's workers each run one target's tests (tests/live_groups.py); the fast layer's, any test."""
    return make_scheduler(config, log) if _selects_live_tests(config) else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem):
    """What a live worker spends on each group (its target, or a module): setup, call and teardown together."""
    started = time.monotonic()
    try:
        return (yield)
    finally:
        load = item.config.stash.get(LOAD, None)  # a live worker's only (pytest_configure)
        if load is not None:
            load.add(item.nodeid, time.monotonic() - started)


def pytest_sessionfinish(session: pytest.Session) -> None:
    load = session.config.stash.get(LOAD, None)
    if load is not None and load.seconds:
        summary_line(session.config, load.describe(session.config.workerinput["workerid"]))


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook
def pytest_testnodedown(node, error) -> None:
    collect_worker_lines(node.config, getattr(node, "workeroutput", {}))


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    """The lines test modules kept for the end (tests/summary.py), from this process and every worker."""
    lines = kept_lines(config)
    if lines:
        terminalreporter.section("kept for the end")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="module")
def env(pycache: Path) -> dict[str, str]:
    """Environment for the suite's CLI in a child process (its own bytecode cache, the test's Airflow cache)."""
    return cli_env(pycache)


# -- the browser test modules' fixtures (tests/**/*_browser.py) ------------------------------------------------


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """One headless browser for the session (each test opens and closes its own pages; the pages keep no storage);
    skipped without one, a failure in CI (.ci/run installs it)."""
    from tests.browser import Browser, find_browser  # noqa: PLC0415

    executable = find_browser()
    if executable is None:
        message = "no Chromium-family browser found (apt-get install chromium, or set ACF_BROWSER=PATH)"
        if os.environ.get("CI"):
            pytest.fail(message + "; .ci/run installs one")
        pytest.skip(message)
    b = Browser(executable, tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Where screenshots go: $ACF_SCREENSHOTS (CI keeps that folder), else a temporary folder."""
    keep = os.environ.get("ACF_SCREENSHOTS")
    path = Path(keep) if keep else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path
