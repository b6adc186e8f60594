"""The safety profiles (`--profile`): what a run may change on the target, from the least to the most."""

from __future__ import annotations

from enum import Enum

from conformance.options import PROFILES


class Profile(str, Enum):
    """Stable names (`--profile`, results.json `profile`), in order: each allows what the one before it does."""

    READONLY = "readonly"  # no state-changing request
    SANDBOX = "sandbox"  # writes only to the run's own objects and the probe DAGs (the default)
    DISRUPTIVE = "disruptive"  # anything, on a target the suite started or with an explicit acknowledgement

    def __str__(self) -> str:
        return self.value

    def allows(self, needed: Profile | str) -> bool:
        """Whether a run with this profile may do what `needed` allows."""
        order = list(Profile)
        return order.index(self) >= order.index(Profile(needed))


# the flags' choices (conformance.options, below this layer) are these names, in this order
assert tuple(p.value for p in Profile) == PROFILES
