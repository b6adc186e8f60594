"""Fixtures of the authorization tier: one `AccessTier` (identities, the run's objects) per run."""

from __future__ import annotations

import pytest

from conformance.tiers.authorization.tier import AccessTier


@pytest.fixture(scope="session")
def access_tier(ctx):
    tier = AccessTier(ctx)
    yield tier
    tier.close()
