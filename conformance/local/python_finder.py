"""Find a Python interpreter of the minor an Airflow release needs.

Old Airflow releases only install on old Pythons (2.0.2 needs 3.8), so the
suite's own interpreter is rarely the right one. Every candidate is actually
run: a pyenv shim named `python3.8` exists on PATH even when it cannot run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conformance.errors import ConfigError

_PROBE = "import sys; print('%d.%d' % sys.version_info[:2]); print(sys.executable)"


def interpreter_minor(python: str | os.PathLike[str]) -> tuple[str, str] | None:
    """Return (X.Y, real executable path) of a working interpreter, or None if it does not run."""
    try:
        out = subprocess.run(
            [os.fspath(python), "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = out.stdout.split()
    if out.returncode != 0 or len(lines) < 2:
        return None
    return lines[0], lines[1]


def _pyenv_roots() -> list[Path]:
    roots = []
    env_root = os.environ.get("PYENV_ROOT")
    if env_root:
        roots.append(Path(env_root))
    roots.append(Path.home() / ".pyenv")
    pyenv = shutil.which("pyenv")
    if pyenv:
        try:
            out = subprocess.run([pyenv, "root"], capture_output=True, text=True, timeout=15, check=False)
            if out.returncode == 0 and out.stdout.strip():
                roots.append(Path(out.stdout.strip()))
        except (OSError, subprocess.TimeoutExpired):
            pass
    seen: list[Path] = []
    for r in roots:
        if r not in seen:
            seen.append(r)
    return seen


def _pyenv_candidates(minor: str) -> list[Path]:
    found: list[Path] = []
    for root in _pyenv_roots():
        versions_dir = root / "versions"
        if not versions_dir.is_dir():
            continue
        # newest patch first: 3.8.18 before 3.8.9
        dirs = [d for d in versions_dir.glob(f"{minor}.*") if d.name[len(minor) + 1 :].isdigit()]
        dirs.sort(key=lambda d: int(d.name[len(minor) + 1 :]), reverse=True)
        found.extend(d / "bin" / "python" for d in dirs)
    return found


def find_python(minor: str, explicit: str | None = None) -> str:
    """Return the path of an interpreter for Python `minor` (e.g. "3.8").

    `explicit` (the --python flag) wins; it must run, and a different minor is
    refused because the release's pinned constraints only resolve on its own
    Python. Then `pythonX.Y` on PATH, then pyenv installs.
    """
    if explicit:
        info = interpreter_minor(explicit)
        if info is None:
            raise ConfigError(f"--python {explicit} does not run; pass a working Python {minor} interpreter")
        if info[0] != minor:
            raise ConfigError(f"--python {explicit} is Python {info[0]}, but this Airflow release needs Python {minor}")
        return explicit
    candidates: list[str] = []
    on_path = shutil.which(f"python{minor}")
    if on_path:
        candidates.append(on_path)
    candidates.extend(str(p) for p in _pyenv_candidates(minor) if p.exists())
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == minor:
        candidates.append(sys.executable)  # last: a venv's python is a weaker base
    for cand in candidates:
        info = interpreter_minor(cand)
        if info is not None and info[0] == minor:
            # a pyenv shim resolves to the real interpreter: keep that, it is stable
            return info[1] if "shims" in cand else cand
    raise ConfigError(
        f"no Python {minor} found (looked for python{minor} on PATH and in pyenv); "
        f"install Python {minor} or pass --python PATH"
    )
