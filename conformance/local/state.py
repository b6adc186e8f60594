"""The state file: which local targets are running, shared by every CLI invocation.

`up`, `down`, `status` and `run --local` run as separate processes, so what was
started is recorded in `<cache>/state.json` (mode 600: it holds the generated
admin passwords). Writes go through a temp file + rename under an exclusive
lock, so two commands never interleave or leave a torn file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path

from conformance import paths
from conformance.local.target import LocalTarget


def state_file() -> Path:
    return paths.cache_dir() / "state.json"


@contextlib.contextmanager
def locked(name: str = "state") -> Iterator[None]:
    """Hold an exclusive advisory lock on `<cache>/locks/<name>.lock`."""
    lock_dir = paths.cache_dir() / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_dir / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _read() -> dict[str, dict]:
    try:
        data = json.loads(state_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    targets = data.get("targets") if isinstance(data, dict) else None
    return targets if isinstance(targets, dict) else {}


def _write(targets: dict[str, dict]) -> None:
    path = state_file()
    tmp = path.with_name(f".state.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"targets": targets}, fh, indent=2, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    os.chmod(path, 0o600)


def load_all() -> dict[str, LocalTarget]:
    """Every recorded target, by key (alive or not: callers prune)."""
    with locked():
        return {v: LocalTarget.from_json(d) for v, d in _read().items()}


def get(key: str) -> LocalTarget | None:
    """The target recorded under `key` (see LocalTarget.key: "3.3.2" or "3.3.2-postgres")."""
    return load_all().get(key)


def put(target: LocalTarget) -> None:
    with locked():
        targets = _read()
        targets[target.key] = target.to_json()
        _write(targets)


def remove(key: str) -> None:
    with locked():
        targets = _read()
        if targets.pop(key, None) is not None:
            _write(targets)
