"""The role model data is what each release's source says: re-read it from the installed release and compare.

Needs the release's venv in the cache (`up` builds it), not a running Airflow; a release whose venv is
absent is skipped with that reason.
"""

from __future__ import annotations

import pytest

from conformance import paths
from conformance.expectations import access
from conformance.expectations.access_extract import extract

pytestmark = pytest.mark.airflow  # reaches a real Airflow (or a release's venv) without the shared target fixtures


@pytest.mark.parametrize("release", [e["release"] for e in access.releases()])
def test_recorded_role_model_matches_the_release_source(release):
    venv = paths.cache_dir() / "venvs" / f"airflow-{release}"
    if not (venv / "bin" / "python").exists():
        pytest.skip(f"no venv of Airflow {release} in {paths.cache_dir()} (airflow-conformance up --airflow {release})")
    fresh = extract(venv)
    recorded = next(e for e in access.releases() if e["release"] == release)
    assert fresh["release"] == release
    assert fresh["roles"] == recorded["roles"]
    assert fresh["operations"] == recorded["operations"]
