"""How a tier's collection-time code reaches the run it belongs to.

Parametrizing the property tier needs the target's reference spec while pytest
collects, before any fixture exists. The run plugin puts the run context into
`config.stash[CONTEXT_KEY]` when it is configured; tiers read it here and never
import the run package, so dependencies keep pointing one way (run -> tiers).
"""

from __future__ import annotations

import pytest

from conformance.context import CheckContext

# holds the run's RunContext, as the checks see it (the tiers never import the run package)
CONTEXT_KEY: pytest.StashKey[CheckContext] = pytest.StashKey()
NO_RUN = (
    "airflow-conformance: no target: pass --airflow-target URL (and --airflow-auth SPEC), "
    "or use `airflow-conformance run`"
)


def context_of(config: pytest.Config) -> CheckContext:
    """The run context of this session; a session that collects checks without a run ends with exit 2."""
    ctx = config.stash.get(CONTEXT_KEY, None)
    if ctx is None:
        pytest.exit(NO_RUN, returncode=2)
    return ctx
