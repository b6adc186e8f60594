"""Fixtures the scenario modules share: the API dialect and the probe DAG flows."""

from __future__ import annotations

import pytest

from conformance.context import CheckContext
from conformance.tiers.scenarios.flows import Flows


@pytest.fixture(scope="session")
def flows(ctx: CheckContext, dialect) -> Flows:
    return Flows(ctx.session, dialect, ctx.prefix)
