"""The kinds of results and the tiers (`--only` values) that produce them: the one map every layer reads.

A result id starts with its kind (`scenario.dags.get_probe`, `property.get_dags`,
`effect.get_pools`); a run's `--only` names tiers. Selection, the matrix's cells
and its second passes all translate between the two with this map.
"""

from __future__ import annotations

from enum import Enum

from conformance.options import KINDS


class Kind(str, Enum):
    """A result's kind (results.json `kind`, the first word of its id)."""

    SCENARIO = "scenario"
    EFFECT = "effect"
    PROPERTY = "property"
    POSTURE = "posture"
    AUTHORIZATION = "authorization"
    CLIENT = "client"  # an official client's reading of a recorded successful answer (no tier: the end of a run)

    def __str__(self) -> str:
        return self.value


# result kind -> the tier (the package under conformance/tiers/ and the `--only` value) that produces it
TIER_OF_KIND: dict[str, str] = {
    Kind.SCENARIO: "scenarios",
    Kind.EFFECT: "effects",
    Kind.PROPERTY: "properties",
    Kind.POSTURE: "posture",
    Kind.AUTHORIZATION: "authorization",
}
# kinds whose check id is `<kind>.<operationId>`: one result per operation
PER_OPERATION: tuple[str, ...] = (Kind.CLIENT, Kind.AUTHORIZATION, Kind.PROPERTY, Kind.EFFECT)
assert set(TIER_OF_KIND.values()) == set(KINDS)
