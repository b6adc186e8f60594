"""Shared fixtures for the project's own tests.

Targets and the CLI come from tests/targets.py, the one harness every module
uses. The cache comes from AIRFLOW_CONFORMANCE_CACHE when set (CI sets it) so
Airflow venvs are built once and reused.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.targets import VERSIONS, Target, TargetPool, cli_env


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


@pytest.fixture(scope="module")
def env(pycache: Path) -> dict[str, str]:
    """Environment for the suite's CLI in a child process (its own bytecode cache, the test's Airflow cache)."""
    return cli_env(pycache)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One headless Chromium per test module (tests/browser.py): skipped without one, failed without one in CI."""
    from tests.browser import launch  # noqa: PLC0415 - only the browser test modules pay for it

    b = launch(tmp_path_factory)
    yield b
    b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Where the browser tests put their screenshots: $ACF_SCREENSHOTS (CI keeps it), else a temporary folder."""
    from tests.browser import screenshots_dir  # noqa: PLC0415

    return screenshots_dir(tmp_path_factory)
