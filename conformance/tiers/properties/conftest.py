"""Fixtures of the property tier: one `Tier` (engine, samples, workers) per run."""

from __future__ import annotations

import pytest

from conformance.context import CheckContext
from conformance.tiers.properties.tier import Tier


@pytest.fixture(scope="session")
def tier(ctx: CheckContext):
    t = Tier(ctx)
    yield t
    t.close()
