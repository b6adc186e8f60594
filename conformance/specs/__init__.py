"""Reference OpenAPI specs per Airflow release: catalog, extraction, diff.

The specs are extracted from the official release wheels by
``python -m conformance.specs.extract`` and reduced to structure (no prose);
``specs/lock.json`` records the hashes of wheel, raw spec and reduced file.
"""

from __future__ import annotations

from conformance.specs.catalog import (
    Operation,
    api_generation,
    available_versions,
    base_path,
    bundled_dir,
    cache_specs_dir,
    fetch,
    full_path,
    load_spec,
    locked_versions,
    operations,
    reference_version_for,
    resolve,
    specs_dir,
)
from conformance.specs.diff import SpecDiff, diff_specs, format_text, to_dict

__all__ = [
    "Operation",
    "SpecDiff",
    "api_generation",
    "available_versions",
    "base_path",
    "bundled_dir",
    "cache_specs_dir",
    "diff_specs",
    "fetch",
    "full_path",
    "format_text",
    "load_spec",
    "locked_versions",
    "operations",
    "reference_version_for",
    "resolve",
    "specs_dir",
    "to_dict",
]
