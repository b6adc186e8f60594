"""Small pieces shared by the catalog and the extractor (kept apart so that
``python -m conformance.specs.extract`` does not import itself twice)."""

from __future__ import annotations

import json
from pathlib import Path

from packaging.version import InvalidVersion, Version

from conformance.errors import ConfigError

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

#: Which distribution carries the REST API spec, per Airflow major version.
DISTRIBUTIONS: dict[int, str] = {2: "apache-airflow", 3: "apache-airflow-core"}


def version_key(version: str) -> Version:
    """Sort key for version strings (unparseable ones sort first)."""
    try:
        return Version(version)
    except InvalidVersion:
        return Version("0")


def parse_version(version: str) -> Version:
    """A release version this suite can extract a spec for, else ConfigError."""
    try:
        parsed = Version(version)
    except InvalidVersion:
        raise ConfigError(f"{version!r} is not a valid Airflow version") from None
    if parsed.major not in DISTRIBUTIONS:
        raise ConfigError(
            f"Airflow {version} has no REST API spec this suite knows how to extract "
            f"(supported: {', '.join(f'{m}.x' for m in sorted(DISTRIBUTIONS))})"
        )
    return parsed


def read_lock(directory: Path) -> dict:
    path = Path(directory) / "lock.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ConfigError(f"{path} is not valid JSON: {exc}") from None
    return data if isinstance(data, dict) else {}


def write_lock(directory: Path, lock: dict) -> None:
    ordered = {v: lock[v] for v in sorted(lock, key=version_key)}
    path = Path(directory) / "lock.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(ordered, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
