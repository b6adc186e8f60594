"""The dialect data says how each API generation names a run's logical date, which the tiers also read as the
scheduler's rule (a 2.x run is examined once its execution date has passed; a 3.x run waits for its run_after)."""

from __future__ import annotations

import pytest
from packaging.version import Version

from conformance.expectations import load
from conformance.local.versions import supported

# Airflow's own names: the 2.x REST API (v1) says execution_date, the 3.x API (v2) logical_date
NAME_BY_MAJOR = {2: "execution_date", 3: "logical_date"}


@pytest.mark.parametrize("version", supported())
def test_every_release_names_the_logical_date_of_its_generation(version):
    assert load(version).logical_date_field() == NAME_BY_MAJOR[Version(version).major]
