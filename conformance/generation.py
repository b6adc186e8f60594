"""The hypothesis settings every generated test of the suite runs under.

Generated requests go to a live server, so a run must be repeatable from its
seed (with the same suite source): no example database, a slow
answer is never a failure (no deadline), and no health check stops a run
whose strategies filter a lot. The property tier and the chains also only
generate (no shrinking: a shrunk case would be sent again); a test that wants
more passes it explicitly, so every difference from the common stack shows
at its call.
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, Phase, settings
from hypothesis import seed as fixed_seed

GENERATE_ONLY = (Phase.generate,)


def generation_settings(max_examples: int, seed: int | None = None, **extra) -> Callable[[Callable], Callable]:
    """Decorator for a `@given` test: the suite's settings, `extra` on top, and `seed` when one is given.

    With `seed=None` hypothesis chooses (or, with `derandomize=True`, derives) the seed itself.
    Written without string literals on purpose: hypothesis draws some values from the constants
    in the suite's own modules, so every new literal here would change what a seed generates.
    """
    common = dict(
        max_examples=max_examples,
        database=None,
        deadline=None,
        phases=GENERATE_ONLY,
        suppress_health_check=list(HealthCheck),
    )
    chosen = settings(**{**common, **extra})

    def apply(test: Callable) -> Callable:
        if seed is not None:
            test = fixed_seed(seed)(test)
        return chosen(test)

    return apply
