"""The effects figures of a run: what the reference spec documents, what the suite checks, what this run decided.

`documented = checked + not_observable + unchecked` comes from the spec's effects
table (the same for every run of a release); `passed`, `failed` and
`not_decided` count the effect outcomes of this run's `effect.*` results, so a
run on a target without the data to show an effect never reads as covered.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from conformance.model.effects import Effect, Observation
from conformance.reporting.results import Result
from conformance.specs.effects import summary

OUTCOME_OF = {"passed": "passed", "failed": "failed", "skipped": "not_decided"}


def effects_figures(table: list[Effect], results: list[Result]) -> dict:
    """The run-wide figures (results.json `effects`)."""
    decided = Counter(OUTCOME_OF.get(c.get("status", ""), "not_decided")
                      for r in results if r.kind == "effect" for c in r.checks)
    known = sum(1 for r in results if r.kind == "effect" for c in r.checks
                if r.status == "known_deviation" and c.get("status") == "failed")
    return {**summary(table), "run": {"passed": decided["passed"], "failed": decided["failed"],
                                      "not_decided": decided["not_decided"], "failed_as_known_deviation": known}}


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
