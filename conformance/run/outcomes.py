"""What one check's pytest reports become: a `Result` of results.json.

pytest reports setup, call and teardown separately, and a check may end by a
structured `Conclusion` (property tier), a soft `Verdict` (scenarios), a skip,
a refusal by the guard, or an exception; here each of those gets its one
status, so a refusal or a crash can never read as a pass.
"""

from __future__ import annotations

import time

import pytest

from conformance.model.reasons import ReasonCode
from conformance.model.status import Status
from conformance.reporting.results import Result
from conformance.run.context import RunContext
from conformance.verdict import CONCLUSION_KEY, Conclusion, Verdict

# what the run plugin leaves on each item: its check metadata, its Verdict, its start time
META_KEY: pytest.StashKey[dict] = pytest.StashKey()
VERDICT_KEY: pytest.StashKey[Verdict] = pytest.StashKey()
TIME_KEY: pytest.StashKey[float] = pytest.StashKey()
REASON_KEY: pytest.StashKey[ReasonCode] = (
    pytest.StashKey()
)  # the ReasonCode of a skip decided before the check ran (selection, the guard)


def align_report(rep, result: Result) -> None:
    """pytest's own report says what the result says (soft scenario violations raise nothing)."""
    if rep.when != "call":
        return
    if result.status == "failed" and not rep.failed:
        rep.outcome, rep.longrepr = "failed", result.message
    elif result.status == Status.KNOWN_DEVIATION and not hasattr(rep, "wasxfail"):
        rep.outcome, rep.wasxfail = "skipped", result.message


def result_from(item, info, call, rep, ctx: RunContext) -> Result | None:
    """The result of one phase of a check (None when that phase decides nothing: a passing setup or teardown)."""
    base = dict(
        id=info["result_id"],
        kind=info["kind"],
        title=info["title"],
        must=info.get("must", ""),
        operation_ids=[op for op in info.get("operations", []) if op in ctx.router.by_id],
    )
    started = item.stash.get(TIME_KEY, time.monotonic())
    base["duration_s"] = time.monotonic() - started
    # a skip decided before the check ran (selection, the guard), else the code the check skipped with (verdict.skip)
    skip_code = str(item.stash.get(REASON_KEY, "")) or str(getattr(_raised(call), "reason_code", ""))
    if rep.when == "setup":
        if rep.skipped:
            return Result(status="skipped", message=_skip_message(rep), reason_code=skip_code, **base)
        if rep.failed:
            return Result(
                status="error",
                message=_error_message(call),
                reproduce=ctx.session.last_curl(),
                reason_code=_code_of(call, ReasonCode.SETUP_ERROR),
                **base,
            )
        return None
    if rep.when == "teardown":
        if rep.failed:
            return Result(
                status="error",
                message="teardown: " + _error_message(call),
                reason_code=ReasonCode.TEARDOWN_ERROR.value,
                **base,
            )
        return None
    exc = call.excinfo.value if call.excinfo is not None else None
    conclusion = item.stash.get(CONCLUSION_KEY, None)
    verdict = item.stash.get(VERDICT_KEY, None)
    if conclusion is None and verdict is not None and not rep.skipped:
        conclusion = verdict.conclusion(stopped_by=exc)
    if conclusion is not None:
        return from_conclusion(conclusion, base, ctx)
    notes = verdict.notes if verdict else []
    if rep.skipped:
        return Result(status="skipped", message=_skip_message(rep), reason_code=skip_code, **base)
    if rep.failed:
        status = "failed" if isinstance(exc, AssertionError) else "error"  # undecidable: unreachable, timeout, bug
        return Result(
            status=status,
            message=_error_message(call),
            reproduce=ctx.session.last_curl(),
            reason_code="" if status == "failed" else _code_of(call, ReasonCode.EXCEPTION),
            **base,
        )
    stale = [
        d
        for d in ctx.expectations.expected_for(info["result_id"])
        if not d.intermittent and not info["result_id"].startswith("property.")
    ]
    return Result(
        status="passed",
        message="; ".join(notes),
        stale_deviation="; ".join(f"recorded deviation {d.id} ({d.reference}) did not occur" for d in stale),
        **base,
    )


def _code_of(call, default: ReasonCode) -> str:
    """An exception that knows why the suite could not judge (`reason_code`, e.g. the scheduler is down) says so."""
    exc = call.excinfo.value if call.excinfo is not None else None
    return str(getattr(exc, "reason_code", default).value)


def from_conclusion(conclusion: Conclusion, base: dict, ctx: RunContext) -> Result:
    """A result built from a check's structured verdict: status, excused deviations, per-check outcomes."""
    return Result(
        status=conclusion.status,
        message=conclusion.message,
        upstream=conclusion.upstream,
        reproduce=conclusion.reproduce or (ctx.session.last_curl() if conclusion.status != "passed" else ""),
        deviations=[e.as_dict() for e in conclusion.excused],
        checks=conclusion.checks,
        cells=conclusion.cells,
        group=conclusion.group,
        classes=conclusion.classes(base["kind"]),
        reason_code=str(conclusion.reason_code or ""),
        **base,
    )


def _raised(call) -> BaseException | None:
    return call.excinfo.value if call is not None and call.excinfo is not None else None


def _skip_message(rep) -> str:
    longrepr = rep.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _error_message(call) -> str:
    if call.excinfo is None:
        return ""
    exc = call.excinfo.value
    text = str(exc).strip() or type(exc).__name__
    if not isinstance(exc, AssertionError):
        text = f"{type(exc).__name__}: {text}"
    return text[:2000]
