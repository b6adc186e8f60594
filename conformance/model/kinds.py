"""The kinds of results and the tiers (`--only` values) that produce them: the one map every layer reads.

A result id starts with its kind (`scenario.dags.get_probe`, `property.get_dags`,
`effect.get_pools`); a run's `--only` names tiers. Selection, the matrix's cells
and its second passes all translate between the two with this map.
"""

from __future__ import annotations

from conformance.options import KINDS

# result kind -> the tier (the package under conformance/tiers/ and the `--only` value) that produces it
TIER_OF_KIND = {"scenario": "scenarios", "effect": "effects", "property": "properties", "posture": "posture",
                "authorization": "authorization"}
assert set(TIER_OF_KIND.values()) == set(KINDS)
