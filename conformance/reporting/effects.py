"""The effects figures of a run: what the reference spec documents, what the suite checks, what this run decided.

`documented = checked + not_observable + unchecked` comes from the spec's effects
table (the same for every run of a release); `passed`, `failed` and
`not_decided` count the effect outcomes of this run's `effect.*` results, so a
run on a target without the data to show an effect never reads as covered.
"""

from __future__ import annotations

from collections import Counter

from conformance.model.effects import Effect
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
    out: dict[str, dict] = {}
    for effect in table:
        row = out.setdefault(effect.operation_id, {"documented": 0, "checked": 0, "passed": 0, "failed": 0,
                                                   "not_decided": 0})
        row["documented"] += 1
        row["checked"] += effect.observation.value == "checked"
    for r in results:
        if r.kind != "effect":
            continue
        for op in r.operation_ids:
            row = out.setdefault(op, {"documented": 0, "checked": 0, "passed": 0, "failed": 0, "not_decided": 0})
            for c in r.checks:
                row[OUTCOME_OF.get(c.get("status", ""), "not_decided")] += 1
    return out
