"""Shared helpers for the project's own tests.

`cli` runs the real console entry point in a subprocess (exit codes and
stderr are part of the contract). The cache comes from AIRFLOW_CONFORMANCE_CACHE
when set (CI sets it) so Airflow venvs are built once and reused.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Callable

import pytest


@pytest.fixture(scope="session")
def cli() -> Callable[..., subprocess.CompletedProcess]:
    """Run `airflow-conformance ARGS...`, returning the completed process (text output)."""

    def run(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "conformance", *args],
            capture_output=True, text=True, timeout=timeout, env=dict(os.environ), check=False,
        )

    return run


@pytest.fixture(scope="session")
def targets():
    """Real local Airflow targets, started on demand and stopped at the end if this session started them."""
    from tests.targets import TargetPool  # noqa: PLC0415

    pool = TargetPool()
    yield pool
    pool.stop_started()


# Modules that need no Airflow: the fast layer (`pytest -m "not airflow"`, seconds). Every other
# module talks to a real local Airflow and is marked `airflow` here, in one place.
FAST_MODULES = frozenset({
    "test_guard", "test_interrupts", "test_specs", "test_paging_helper", "test_deviation_matching",
    "test_verdict_soft", "test_results_model", "test_property_verdict", "test_deviation_data", "test_mutations", "test_matrix_deviations",
})


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if item.module is not None and item.module.__name__.rsplit(".", 1)[-1] not in FAST_MODULES:
            item.add_marker(pytest.mark.airflow)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for the suite's CLI in a child process (its own bytecode cache, the test's Airflow cache)."""
    from tests.faultproxy import targets  # noqa: PLC0415

    pycache = tmp_path_factory.getbasetemp() / "pycache"
    pycache.mkdir(exist_ok=True)
    return targets.cli_env(pycache)
