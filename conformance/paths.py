"""Where the suite keeps state on this machine.

One function per location so every module agrees; the cache root is
overridable because CI and tests want an isolated, disposable folder.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def cache_dir() -> Path:
    """Root for venvs, Airflow homes, fetched specs and the local-target state file."""
    override = os.environ.get("AIRFLOW_CONFORMANCE_CACHE")
    if override:
        root = Path(override).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = Path(xdg) / "airflow-conformance"
    root.mkdir(parents=True, exist_ok=True)
    return root


def bundled_dir() -> Path:
    """The specs shipped with the suite (repository ``specs/`` or installed ``_specs``)."""
    repo_root = PACKAGE_DIR.parent
    repo_specs = repo_root / "specs"
    if repo_specs.is_dir() and (repo_root / "pyproject.toml").is_file():
        return repo_specs
    return PACKAGE_DIR / "_specs"
