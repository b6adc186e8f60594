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
