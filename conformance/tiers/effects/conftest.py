"""Fixtures of the effects tier: the effects table of the run's reference spec, and the tier's own objects."""

from __future__ import annotations

import pytest

from conformance.tiers.effects.plan import Plan


@pytest.fixture(scope="module")
def plan(ctx, api):
    """The table, and the objects the tier writes to (made before its first check, deleted after its last)."""
    p = Plan(ctx, api)
    p.prepare()
    yield p
    p.close()
