"""Reading the expectation data files (`expectations.yaml`, `access.yaml`) with libyaml's safe loader when PyYAML
has it: the same documents, parsed about ten times faster than by the pure-Python loader (access.yaml is 400 KB,
and every run, `deviations lint` and each command that reads the data parses them)."""

from __future__ import annotations

from pathlib import Path

import yaml

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read(path: Path) -> dict:
    """The YAML mapping in `path` ({} for an empty file), read as `yaml.safe_load` reads it."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}  # noqa: S506 - a safe loader
