"""Real local Airflow targets for the project's tests, shared by every test module.

A target is started through the public CLI (`airflow-conformance up`) and
reused when it already runs; at the end of the session only the targets this
session started are stopped (by the CLI, which stops recorded PIDs).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

CLI = [sys.executable, "-m", "conformance"]


@dataclass(frozen=True)
class LiveTarget:
    version: str
    url: str
    api: str
    auth: str  # full auth spec, secrets included: pass it to the CLI, never print it
    home: Path | None = None

    @property
    def password(self) -> str:
        return self.auth.split(":", 2)[2]


def cli(*args: str, timeout: float = 900, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real console entry point (exit codes and stderr are part of the contract)."""
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout,
                          env=env or dict(os.environ), check=False)


def _state() -> dict:
    from conformance.paths import cache_dir  # noqa: PLC0415

    path = Path(cache_dir()) / "state.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _running_versions() -> set[str]:
    from conformance.local import instance  # noqa: PLC0415

    return {t.version for t in instance.running()}


class TargetPool:
    """Starts targets on demand, one process-wide, and stops what it started."""

    def __init__(self) -> None:
        self.started: list[str] = []

    def get(self, version: str) -> LiveTarget:
        from conformance.local import instance  # noqa: PLC0415

        if version not in _running_versions():
            proc = cli("up", "--airflow", version, timeout=1200)
            if proc.returncode != 0:
                raise RuntimeError(f"up --airflow {version} failed ({proc.returncode}): {proc.stderr[-2000:]}")
            self.started.append(version)
        local = next(t for t in instance.running() if t.version == version)
        return LiveTarget(version, local.url, local.api, local.auth_spec, Path(local.home))

    def stop_started(self) -> None:
        for version in self.started:
            cli("down", "--airflow", version, timeout=300)
        self.started.clear()
