"""The effects figures of a run: what the reference spec documents, what the suite checks, what this run decided.

`documented = checked + not_observable + unchecked` comes from the spec's effects
table (the same for every run of a release); `passed`, `failed` and
`not_decided` count the effect outcomes of this run's `effect.*` results, so a
run on a target without the data to show an effect never reads as covered.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from conformance.model.effects import Effect, Observation, WriteGap
from conformance.reporting.results import Result
from conformance.safety.guard import READONLY_POSTS
from conformance.specs.catalog import operations
from conformance.specs.effects import NO_2XX, summary

OUTCOME_OF = {"passed": "passed", "failed": "failed", "skipped": "not_decided"}


def effects_figures(table: list[Effect], results: list[Result]) -> dict:
    """The run-wide figures (results.json `effects`)."""
    decided = Counter(
        OUTCOME_OF.get(c.get("status", ""), "not_decided") for r in results if r.kind == "effect" for c in r.checks
    )
    known = sum(
        1
        for r in results
        if r.kind == "effect"
        for c in r.checks
        if r.status == "known_deviation" and c.get("status") == "failed"
    )
    return {
        **summary(table),
        "run": {
            "passed": decided["passed"],
            "failed": decided["failed"],
            "not_decided": decided["not_decided"],
            "failed_as_known_deviation": known,
        },
    }


def per_operation(table: list[Effect], results: list[Result]) -> dict[str, dict]:
    """operationId -> its effect figures (the `effects` of its row in results.json `operations`)."""
    out: dict[str, Counter] = defaultdict(Counter)
    for effect in table:
        out[effect.operation_id]["documented"] += 1
        out[effect.operation_id]["checked"] += effect.observation is Observation.CHECKED
    for r in results:
        if r.kind != "effect":
            continue
        for op in r.operation_ids:
            row = out[op]
            for c in r.checks:
                row[OUTCOME_OF.get(c.get("status", ""), "not_decided")] += 1
    fields = ("documented", "checked", "passed", "failed", "not_decided")
    return {op: {k: int(row[k]) for k in fields} for op, row in out.items()}


def writes_without_2xx(spec: dict, runs: list[dict]) -> list[dict]:
    """The write operations of `spec` that no run in `runs` (results.json documents) got a 2xx from, with the reason.

    A write is any operation that is not a read (GET, HEAD, the POST list operations). The reason comes from the data
    (`conformance.specs.effects.NO_2XX`); a write without one is reported as `unknown`, a gap to look at.
    """
    rows = []
    for op in operations(spec):
        if op.method in ("GET", "HEAD") or op.operation_id in READONLY_POSTS:
            continue
        seen = [(r.get("operations") or {}).get(op.operation_id) or {} for r in runs]
        if sum(int(o.get("reached") or 0) for o in seen):
            continue
        statuses: Counter = Counter()
        for o in seen:
            statuses.update({k: int(v) for k, v in (o.get("statuses") or {}).items()})
        gap, why = NO_2XX.get(op.operation_id, (WriteGap.UNKNOWN, "no reason recorded: a gap to look at"))
        rows.append(
            {
                "operation_id": op.operation_id,
                "method": op.method,
                "path": op.path,
                "reason_code": gap.value,
                "reason": why,
                "statuses": dict(sorted(statuses.items())),
            }
        )
    return rows
