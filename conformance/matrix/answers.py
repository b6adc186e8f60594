"""Whether a check's verdict changed because the server's answers changed, or only the judging did.

Between two runs a check can change status for two reasons: the server answered differently, or the
suite judged the same answers differently (a deviation recorded since, a range widened, a check made
stricter). Only the first is behaviour a client meets on upgrade. So each result gets the classes of
answers its operations recorded: (HTTP status, body class) pairs, where the body class is `json`, or
what a deviation that excused the result says the body was instead (an HTML or text page, no
Content-Type), and `empty` for statuses that carry none. 401 and 403 answer the suite's own probes
without or with limited credentials; the authentication headline covers them, so they are left out.
Two results whose answer classes are the same met the same behaviour, whatever their verdicts say.
"""

from __future__ import annotations

from functools import lru_cache

from conformance.matrix.compare import RANK, Side, recorded_statuses

REFUSALS = frozenset({"401", "403"})
NO_BODY = frozenset({"204", "205", "304"})
JSON = "json"


@lru_cache(maxsize=1)
def _deviation_bodies() -> dict[str, dict[str, str]]:
    """{deviation id: {status: body class}} for deviations whose answer is not a JSON body."""
    from conformance.expectations import all_deviations  # noqa: PLC0415

    out: dict[str, dict[str, str]] = {}
    for dev in all_deviations():
        kinds = {body_class(c) for c in dev.response.content_type}
        if kinds and JSON not in kinds:
            out[dev.id] = {str(s): "/".join(sorted(kinds)) for s in dev.response.status}
    return out


def body_class(content_type: str) -> str:
    """`json` for any JSON media type (application/json, application/problem+json), else the media type's
    top level (`html`, `plain`), `none` without a Content-Type."""
    media = content_type.split(";")[0].strip().lower()
    if not media:
        return "none"
    if media.endswith("json"):
        return JSON
    return media.split("/")[-1]


def answer_classes(side: Side, result: dict, renamed: dict[str, str] | None = None) -> frozenset[tuple[str, str]]:
    """The (status, body class) pairs the result's operations answered in `side`'s run (refusals left out);
    `renamed` spells a status the other side's way (`{"400": "422"}` where the generations document
    invalid input differently: the headline reports that convention once, not on every operation)."""
    renamed = renamed or {}
    bodies: dict[str, str] = {}
    for dev in result.get("deviations") or []:
        bodies.update(_deviation_bodies().get(str(dev.get("id")), {}))
    pairs = set()
    for op in result.get("operation_ids") or []:
        for status in (side.operations.get(op) or {}).get("statuses") or {}:
            if status in REFUSALS:
                continue
            pairs.add((renamed.get(status, status), "empty" if status in NO_BODY else bodies.get(status, JSON)))
    return frozenset(pairs)


def verdict_changes(
    a: Side, b: Side, result_ids: dict[str, str], renamed: dict[str, str] | None = None
) -> tuple[list[dict], list[dict]]:
    """(changes on different answers, changes on the same answers) of the checks decided in both runs.

    `result_ids` maps a result id of `a` to its id in `b` (a renamed operation renames its per-operation
    checks); `renamed` the statuses of `a` to read as `b`'s (see answer_classes). A change from or to
    `skipped` decides nothing and is in neither list. Where a run recorded no statuses at all (a results.json
    older than `operations[*].statuses`), nothing can be shown identical: every change is listed.
    """
    recorded = recorded_statuses(a, b)
    changed: list[dict] = []
    same: list[dict] = []
    for rid_a, rid_b in sorted(result_ids.items()):
        ra, rb = a.results[rid_a], b.results[rid_b]
        before, after = ra["status"], rb["status"]
        if before == after or before not in RANK or after not in RANK:
            continue
        answers_a, answers_b = answer_classes(a, ra, renamed), answer_classes(b, rb)
        row = {
            "id": rid_b,
            "was": rid_a,
            "title": rb.get("title", ""),
            "from": before,
            "to": after,
            "worse": RANK[after] < RANK[before],
            "answers_from": _text(answers_a),
            "answers_to": _text(answers_b),
            "reproduce": rb.get("reproduce") or ra.get("reproduce") or "",
            "message": (rb.get("message") or "")[:300],
        }
        (changed if answers_a != answers_b or not recorded else same).append(row)
    changed.sort(key=lambda r: (not r["worse"], r["id"]))
    return changed, same


def _text(pairs: frozenset[tuple[str, str]]) -> str:
    return ", ".join(f"{s} {c}" for s, c in sorted(pairs)) or "none recorded"
