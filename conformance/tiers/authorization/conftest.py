"""Fixtures of the authorization tier: one `AccessTier` (identities, the run's objects) per run."""

from __future__ import annotations

import pytest

from conformance.context import CheckContext
from conformance.tiers.authorization.tier import AccessTier


@pytest.fixture(scope="session")
def access_tier(ctx: CheckContext):
    """The tier, with the run's own objects and probe run made before its first check (when it can judge at all).

    Made here, in the first item's setup, not inside whichever operation's check happens to come first:
    that check's time and answers would otherwise carry the whole tier's preparation (triggering and
    waiting for the probe run), and a fault in that preparation would look like a fault of that operation.
    """
    tier = AccessTier(ctx)
    if tier.skip_reason() is None:
        tier.values()
    yield tier
    tier.close()
