"""Create (or reuse) one virtualenv per Airflow release, installed from pinned constraints.

Each release gets its own venv under the cache so releases never share
dependencies, and a cached venv makes the next `up` fast. A marker file is
written only after the install finished: a venv left half-built by Ctrl-C or a
failed resolve has no marker and is rebuilt instead of reused.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from conformance import paths
from conformance.errors import ConfigError
from conformance.local.python_finder import find_python, interpreter_minor
from conformance.local.versions import VersionSpec

MARKER_NAME = ".conformance-installed.json"

Progress = Callable[[str], None]


def cached_venv(name: str) -> Path:
    """Where the venv called `name` lives in the cache (Airflow releases, official clients)."""
    return paths.cache_dir() / "venvs" / name


def venv_dir(version: str, extras: tuple[str, ...] = ()) -> Path:
    """One venv per release and set of extras: a release with the postgres extra is another venv."""
    return cached_venv("-".join([f"airflow-{version}", *extras]))


def airflow_bin(venv: Path) -> Path:
    return venv / "bin" / "airflow"


def uv_command() -> list[str] | None:
    """The uv next to the running interpreter, or `python -m uv`, or None."""
    beside = Path(sys.executable).parent / "uv"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    try:
        import uv  # noqa: F401, PLC0415

        return [sys.executable, "-m", "uv"]
    except ImportError:
        pass
    found = shutil.which("uv")
    return [found] if found else None


def _constraints_digest(spec: VersionSpec) -> str:
    return hashlib.sha256(spec.constraints_file.read_bytes()).hexdigest()[:16]


def read_marker(venv: Path) -> dict | None:
    try:
        return json.loads((venv / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _last_line(log: Path) -> str:
    """The installer's latest output line (what it is busy with), shortened."""
    lines = [ln.strip() for ln in log.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    return lines[-1][:120] if lines else "no output yet"


def _last_meaningful_line(text: str) -> str:
    """The line of an installer's output that says what went wrong (not a hint or a blank)."""
    lines = [ln.strip(" \t│╰─▶×").strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.lower().startswith(("hint:", "help:", "note:", "[notice]"))]
    for ln in reversed(lines):
        if ln.lower().startswith("error:") or "because" in ln.lower() or "no solution" in ln.lower():
            return ln
    return lines[-1] if lines else "no output"


HEARTBEAT_S = 15.0


def run_install(
    cmd: list[str],
    log: Path,
    env: dict[str, str] | None = None,
    *,
    what: str = "Airflow",
    progress: Progress = lambda _m: None,
) -> None:
    """Run one install step with its output appended to `log`; ConfigError naming the line that says what failed.

    Every HEARTBEAT_S seconds it says that it still runs (an install can take minutes). Ctrl-C stops the
    installer too; the venv then has no marker and is rebuilt next time.
    """
    started = time.monotonic()
    with log.open("a", encoding="utf-8") as fh:
        fh.write(f"$ {' '.join(cmd)}\n")
        fh.flush()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env)
        try:
            while True:
                try:
                    proc.wait(timeout=HEARTBEAT_S)
                    break
                except subprocess.TimeoutExpired:
                    progress(f"still installing ({time.monotonic() - started:.0f} s): {_last_line(log)}")
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait()
    if proc.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")
        raise ConfigError(f"installing {what} failed: {_last_meaningful_line(tail)} (full log: {log})")


def build_venv(
    venv: Path,
    interpreter: str,
    install_args: list[str],
    log: Path,
    *,
    what: str,
    progress: Progress = lambda _m: None,
    expect: str = "",
) -> None:
    """A fresh venv at `venv` with `install_args` installed: uv when it is available, else venv and pip."""
    uv = uv_command()
    if uv:
        progress(f"installing {what} with uv into {venv}" + (f" (takes {expect})" if expect else ""))
        env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
        env.pop("VIRTUAL_ENV", None)
        run_install(
            [*uv, "venv", "--no-config", "--python", interpreter, str(venv)], log, env, what=what, progress=progress
        )
        run_install(
            [*uv, "pip", "install", "--no-config", "--python", str(venv / "bin" / "python"), *install_args],
            log,
            env,
            what=what,
            progress=progress,
        )
        return
    progress(f"installing {what} with pip into {venv} (uv not found; takes longer)")
    run_install([interpreter, "-m", "venv", str(venv)], log, what=what, progress=progress)
    run_install(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", *install_args],
        log,
        what=what,
        progress=progress,
    )


def ensure_venv(
    spec: VersionSpec, *, python: str | None = None, progress: Progress = lambda _m: None, extras: tuple[str, ...] = ()
) -> Path:
    """Return a venv with apache-airflow[extras]==spec.version installed, building it if needed."""
    venv = venv_dir(spec.version, extras)
    if not spec.constraints_file.is_file():
        raise ConfigError(f"no pinned constraints for Airflow {spec.version} ({spec.constraints_file})")
    digest = _constraints_digest(spec)
    marker = read_marker(venv)
    if (
        marker
        and marker.get("constraints") == digest
        and list(marker.get("extras", [])) == list(extras)
        and airflow_bin(venv).exists()
    ):
        if python is None:
            return venv
        info = interpreter_minor(python)
        if info and marker.get("python") == info[0]:
            return venv
    interpreter = find_python(spec.python, python)
    if venv.exists():
        progress(f"removing incomplete or outdated venv {venv}")
        shutil.rmtree(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    log = venv.parent / f"{venv.name}.install.log"
    log.write_text("", encoding="utf-8")
    started = time.monotonic()
    what = f"apache-airflow{'[' + ','.join(extras) + ']' if extras else ''} {spec.version}"
    build_venv(
        venv,
        interpreter,
        [*spec.requirements_with(extras), "-c", str(spec.constraints_file)],
        log,
        what=what,
        progress=progress,
        expect="~10-30 s",
    )
    if not airflow_bin(venv).exists():
        raise ConfigError(f"installing Airflow {spec.version} left no airflow command in {venv} (log: {log})")
    info = interpreter_minor(venv / "bin" / "python")
    (venv / MARKER_NAME).write_text(
        json.dumps(
            {
                "version": spec.version,
                "python": info[0] if info else spec.python,
                "constraints": digest,
                "extras": list(extras),
                "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
        ),
        encoding="utf-8",
    )
    progress(f"installed apache-airflow {spec.version} in {time.monotonic() - started:.0f} s")
    return venv
