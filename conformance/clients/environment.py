"""One isolated virtualenv per official client release, cached like the Airflow venvs.

A client is installed into its own venv (never into the suite's environment):
its dependencies (pydantic, urllib3, python-dateutil) are whatever that
release resolves to, as a user installing it today would get, and two client
releases never share them. The venv is built with the suite's own interpreter
(uv when available, else venv and pip) and reused by every later run; a marker
written after the install tells a finished venv from one a crash left half-built.
A file lock keeps two runs from building the same venv at once.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conformance.local.venv import MARKER_NAME, Progress, build_venv, cached_venv, read_marker

PACKAGE = "apache-airflow-client"


def venv_dir(version: str) -> Path:
    return cached_venv(f"airflow-client-{version}")


def python_of(venv: Path) -> Path:
    return venv / "bin" / "python"


@contextmanager
def _building(venv: Path) -> Iterator[None]:
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f"{venv.name}.lock", "w", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _ready(venv: Path, version: str) -> bool:
    marker = read_marker(venv)
    return bool(marker and marker.get("client") == version and python_of(venv).exists())


def ensure(version: str, progress: Progress = lambda _m: None) -> Path:
    """The interpreter of a venv holding apache-airflow-client==version, built on first use.

    ConfigError (one line, with the install log) when the release cannot be installed.
    """
    venv = venv_dir(version)
    if _ready(venv, version):
        return python_of(venv)
    with _building(venv):
        if _ready(venv, version):  # another run built it while this one waited
            return python_of(venv)
        if venv.exists():
            shutil.rmtree(venv)
        log = venv.parent / f"airflow-client-{version}.install.log"
        log.write_text("", encoding="utf-8")
        started = time.monotonic()
        build_venv(
            venv,
            sys.executable,
            [f"{PACKAGE}=={version}"],
            log,
            what=f"{PACKAGE} {version}",
            progress=progress,
            expect="a few seconds",
        )
        (venv / MARKER_NAME).write_text(
            json.dumps(
                {"client": version, "packages": _installed(venv), "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
            ),
            encoding="utf-8",
        )
        progress(f"installed {PACKAGE} {version} in {time.monotonic() - started:.0f} s")
    return python_of(venv)


def _installed(venv: Path) -> dict[str, str]:
    """What the client resolved to (its models' behaviour depends on pydantic's version): name -> version."""
    code = "import importlib.metadata as m, json; print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    proc = subprocess.run([str(python_of(venv)), "-c", code], capture_output=True, text=True, timeout=60, check=False)
    try:
        return json.loads(proc.stdout) if proc.returncode == 0 else {}
    except ValueError:
        return {}


def packages(version: str) -> dict[str, str]:
    """The packages recorded when the client's venv was built ({} when it is not built)."""
    marker = read_marker(venv_dir(version)) or {}
    return dict(marker.get("packages") or {})
