"""What a matrix cell says: decided (passed, failed, known deviation), error, not applicable, or not decided.

A run reports `skipped` both for a check that is not part of a release (another
version range, an operation its spec does not have) and for one it could not
decide here (profile, missing probe DAGs, credentials refused by configuration).
The matrix must not show both as the same dot, or it over-states coverage: a
check that applies and was not decided is `undecided`, with the reason.
"""

from __future__ import annotations

from collections import Counter

from conformance.model.classes import ordered
from conformance.model.kinds import PER_OPERATION, TIER_OF_KIND
from conformance.model.reasons import ReasonCode
from conformance.model.status import DECIDED, Status

NOT_APPLICABLE = "not_applicable"
UNCLASSIFIED = "unclassified"  # a failed result of a run written before results carried failure classes
UNDECIDED = "undecided"
TIER_OF = TIER_OF_KIND
LABELS = {
    Status.PASSED: "✅ passed",
    Status.FAILED: "❌ failed",
    Status.KNOWN_DEVIATION: "⚠️ known",
    Status.ERROR: "💥 error",
    NOT_APPLICABLE: "n/a",
    UNDECIDED: "❔ undecided",
}
SECOND_PASS_MARK = "†"  # beside a cell decided on a restart of the release (a second pass), not its main run
LEGEND = (
    "✅ passed · ❌ failed · ⚠️ known upstream deviation · 💥 error (the suite could not finish the check) · "
    "`n/a` not applicable to the release (another version range, an operation its spec does not have) · "
    "`❔ undecided` applies to the release but was not decided (the reason is in compatibility.json and the html) · "
    f"{SECOND_PASS_MARK} decided on a restart of the release (the matrix's deny_all or disruptive pass; "
    "the cell's message in compatibility.json and the html says which)"
)


MESSAGE_LIMIT = 300  # characters of a result's message a cell keeps; the whole one is in the release's results.json


def clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """`text` cut to at most `limit` characters at a word boundary, with `…` where it was cut.

    A cell cut mid-word ("needs DELETE conne") reads as a different word; the run's results.json keeps the whole.
    """
    text = text or ""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    cut = head.rsplit(" ", 1)[0] if " " in head else head
    return cut.rstrip(" ,;:") + "…"


def classify(status: str, reason_code: str = "") -> str:
    """A result's matrix status: `skipped` becomes not applicable or undecided, by its `reason_code`.

    Only the code decides, never the message: a skip without one (a file older than results.json 1.3
    that `conformance.reporting.legacy` could not give one) applied to the release and was not decided.
    """
    if status != Status.SKIPPED:
        return status
    return NOT_APPLICABLE if reason_code == ReasonCode.NOT_APPLICABLE else UNDECIDED


def result_cell(result: dict) -> dict:
    """A check's cell from one result of a release's results.json."""
    status = classify(result["status"], result.get("reason_code", ""))
    cell = {"status": status, "message": clip(result.get("message") or ""), "upstream": result.get("upstream", "")}
    if result.get("second_pass"):  # decided on a restart (conformance.matrix.passes): its message says which
        cell["second_pass"] = result["second_pass"]
    return cell


def missing_cell(kind: str, column, check_id: str = "") -> dict:
    """The cell of a check a release's results do not hold: why it is not there.

    Checks of one operation (`client.<op>`, `authorization.<op>`, `property.<op>`) are not applicable where the
    release's spec lacks the operation; where it has it, the check applied and was not decided.
    """
    if column.status != "ran":
        return _cell(UNDECIDED, f"the release's run did not complete: {column.reason}")
    operation = check_id.split(".", 1)[1] if kind in PER_OPERATION and "." in check_id else None
    if operation is not None and operation not in (column.results.get("operations") or {}):
        return _cell(NOT_APPLICABLE, f"{operation} is not an operation of this release's reference spec")
    only = ((column.results.get("configuration") or {}).get("only")) or []
    if kind in TIER_OF and only and TIER_OF[kind] not in only:
        return _cell(UNDECIDED, f"the {TIER_OF[kind]} tier was not run (--only)")
    if kind == "client":
        off = (column.results.get("clients") or {}).get("off") or "the official client read no recorded answer of it"
        return _cell(UNDECIDED, str(off))
    if operation is not None:
        return _cell(UNDECIDED, f"no {kind} result for {operation} on this release")
    return _cell(NOT_APPLICABLE, "not among this release's checks")


def _cell(status: str, message: str) -> dict:
    return {"status": status, "message": clip(message), "upstream": ""}


def operation_cell(info: dict | None, column) -> dict:
    """An operation's cell: its status on the release, or not applicable when the release's spec lacks it."""
    if info is None:
        if column.status != "ran":
            return {
                "status": UNDECIDED,
                "requests": 0,
                "reason": clip(f"the release's run did not complete: {column.reason}"),
            }
        return {"status": NOT_APPLICABLE, "requests": 0, "reason": "not an operation of this release's reference spec"}
    reason = info.get("reason", "") or ""
    if len(reason) >= MESSAGE_LIMIT:  # the run kept the first 300 characters of it (results.json): cut it at a word
        reason = clip(reason, MESSAGE_LIMIT - 1)
    return {
        "status": classify(info["status"], info.get("reason_code", "")),
        "requests": info.get("requests", 0),
        "reason": reason,
    }


def counts(results: list[dict]) -> dict[str, int]:
    """How many of a release's results are in each matrix status."""
    out = {s: 0 for s in (*DECIDED, "error", NOT_APPLICABLE, UNDECIDED)}
    for r in results:
        status = classify(r.get("status", ""), r.get("reason_code", ""))
        out[status] = out.get(status, 0) + 1
    return out


def class_counts(results: list[dict]) -> dict[str, int]:
    """How many of a release's failed results carry each failure class (a result of two classes counts in both).

    A run written before results carried classes (results schema 1.0) has its failures counted as
    `unclassified`, never guessed from their messages.
    """
    tally = Counter(c for r in results if r.get("status") == "failed" for c in (r.get("classes") or [UNCLASSIFIED]))
    return {
        c: tally[c] for c in [*ordered(set(tally) - {UNCLASSIFIED}), *([UNCLASSIFIED] if UNCLASSIFIED in tally else [])]
    }


def class_text(tally: dict[str, int] | None) -> str:
    """`server_error 3 · contract_break 40`, or `–` when nothing failed."""
    return " · ".join(f"{name} {n}" for name, n in (tally or {}).items()) or "–"


def score(tally: dict[str, int]) -> dict:
    """passed / decided (passed, failed, known deviations): how much of what was decided conforms."""
    decided = sum(tally.get(s, 0) for s in DECIDED)
    passed = tally.get("passed", 0)
    return {"passed": passed, "decided": decided, "ratio": round(passed / decided, 4) if decided else None}


def score_text(s: dict | None) -> str:
    """`412/430 (95.8%)`, or `–` when nothing was decided."""
    if not s or not s.get("decided"):
        return "–"
    return f"{s['passed']}/{s['decided']} ({100 * s['ratio']:.1f}%)"
