"""Which part of the API (its tag in the reference specs) each matrix row belongs to.

A reader planning an upgrade looks for "what happens to DAG runs", not for the
163 `authorization.*` rows that sort first alphabetically. The area of an
operation is the first tag its release's reference spec gives it (data, never a
hand-kept list); a check's area is the area of the first operation it exercises.
The specs spell one area differently across majors ("DAGRun" in 2.x, "DagRun" in
3.x; "Event Log" and "EventLog"), so areas are compared by a folded key and shown
with the newest release's spelling.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from conformance.model.kinds import TIER_OF_KIND
from conformance.options import KINDS

NO_OPERATION = "Deployment"  # checks that exercise no operation of the spec: posture, whole-deployment scenarios


def fold(tag: str) -> str:
    """The key two spellings of one tag share: "DAGRun" and "DagRun", "Event Log" and "EventLog"."""
    return re.sub(r"[^a-z0-9]", "", tag.lower())


def operation_areas(tagged_by_release: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """{operationId: area} from each release's {operationId: tag}, oldest release first.

    The newest release that has an operation names its area, and one folded key keeps one spelling
    (the newest seen), so an area is one group on the page even where the majors spell it apart.
    """
    spelling: dict[str, str] = {}
    areas: dict[str, str] = {}
    for tags in tagged_by_release:
        for op, tag in tags.items():
            if tag:
                spelling[fold(tag)] = tag
                areas[op] = fold(tag)
    return {op: spelling[key] for op, key in sorted(areas.items())}


def kind_of(check_id: str) -> str:
    """A result id's kind: the part before its first dot (`authorization.get_dags` -> authorization)."""
    return check_id.split(".", 1)[0]


def check_area(check_id: str, operations: Iterable[str], areas: Mapping[str, str]) -> str:
    """The area of a check: of the first of its operations the specs tag; a per-operation id names its own."""
    ops = list(operations)
    if not ops and "." in check_id and check_id.split(".", 1)[1] in areas:  # authorization.get_dags, client.get_dags
        ops = [check_id.split(".", 1)[1]]
    return next((areas[op] for op in ops if areas.get(op)), NO_OPERATION)


def tier_rank(kind: str) -> int:
    """Where a kind's rows sit inside an area: in the order the tiers run (`KINDS`), kinds of no tier after them."""
    tier = TIER_OF_KIND.get(kind)
    return KINDS.index(tier) if tier in KINDS else len(KINDS)


def tier_label(kind: str) -> str:
    """The tier a kind belongs to, as `--only` names it; kinds of no tier (client) by their own name."""
    return TIER_OF_KIND.get(kind, {"client": "official clients"}.get(kind, kind))
