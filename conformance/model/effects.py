"""What a parameter or a body field is documented to *do*, and whether the suite observes it.

The property tier judges the shape of every answer; a client relies on more than
shapes: a filter returns only what matches, `order_by` orders, a mask limits a
patch, a dry run changes nothing, a write is visible afterwards. Each such
documented effect is one `Effect`; `conformance.specs.effects` derives them from a
reference spec and the effects tier checks the observable ones. An effect the
suite cannot see on a target says why (`Observation.NOT_OBSERVABLE` with a
reason); one it has no check for yet says so (`Observation.UNCHECKED`) instead of
being counted as covered.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class EffectClass(str, Enum):
    """How a parameter changes an answer or the target (results.json and `list --effects` use the values)."""

    EQUALS = "equals"  # items whose field equals the value (a list parameter: any of the values)
    EXCLUDES = "excludes"  # items whose field equals none of the values (`excluded_events`)
    PATTERN = "pattern"  # items whose field matches a SQL LIKE pattern (`%`, `_`), case-insensitively
    PREFIX = "prefix"  # items whose field starts with the value (3.x `*_prefix_pattern`)
    RANGE = "range"  # items whose field is within a bound (`*_gte`, `*_gt`, `*_lte`, `*_lt`)
    ORDER = "order"  # `order_by`: items ordered by the field, `-field` descending
    PAGE = "page"  # `limit` / `offset`: which slice of the list
    CURSOR = "cursor"  # cursor paging (3.x `cursor`)
    PROJECTION = "projection"  # `fields`: which fields the items carry
    SELECTOR = "selector"  # a query parameter naming which object a read addresses (`map_index`): an absent one is 404
    MASK = "mask"  # `update_mask`: which fields a patch changes
    DRY_RUN = "dry_run"  # answers what would change and changes nothing
    BODY_FIELD = "body_field"  # a write's body field: visible when read back
    OTHER = "other"  # a documented parameter without a class of its own (format flags, tokens, ...)

    def __str__(self) -> str:
        return self.value


class Observation(str, Enum):
    """Whether an effect is checked; the counts per release are `documented = checked + not_observable + unchecked`."""

    CHECKED = "checked"  # the effects tier reads it back on data it owns or on any data (soundness)
    NOT_OBSERVABLE = "not_observable"  # cannot be seen through the API on a target (the reason says why)
    UNCHECKED = "unchecked"  # observable, but the suite has no check for it yet: a gap, reported as one

    def __str__(self) -> str:
        return self.value


class WriteGap(str, Enum):
    """Why a write operation gets no 2xx from the suite on a target (`list --writes`)."""

    SETTING = "setting"  # the deployment has it off (a configuration setting, off by default)
    EXECUTOR = "executor"  # needs an executor or workers doing something the local targets do not
    RELEASE_DEFECT = "release_defect"  # the release refuses a valid request (a recorded deviation)
    GUARD = "guard"  # the safety guard sends it only as a negative probe, or not at all, in a sandbox run
    NEEDS_OBJECT = "needs_object"  # needs an object the suite does not ship or make yet (a gap)
    UNKNOWN = "unknown"  # no reason recorded: a gap to look at

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Effect:
    """One documented effect of one parameter (or body field) of one operation."""

    operation_id: str
    method: str
    parameter: str
    location: str  # query | body
    effect_class: EffectClass
    field: str | None  # the item field the effect is read on (filters, order, range), when there is one
    observation: Observation
    reason: str = ""  # NOT_OBSERVABLE / UNCHECKED: why; CHECKED: which check reads it

    @property
    def key(self) -> str:
        return f"{self.operation_id}:{self.location}:{self.parameter}"

    def as_dict(self) -> dict:
        return {
            "operation_id": self.operation_id,
            "method": self.method,
            "parameter": self.parameter,
            "location": self.location,
            "class": self.effect_class.value,
            "field": self.field,
            "observation": self.observation.value,
            "reason": self.reason,
        }
