"""How a check states its verdict, as objects the plugin reads (never parsed from text).

Scenario assertions are soft: each violation is recorded, matched against the
known deviations on its own (by the scenario's step and the server's answer),
and the scenario goes on, so every violation is reported, not just the first.
`Verdict.status` and `Verdict.that` return whether the assertion held, so a
scenario can skip assertions that only make sense after a step succeeded.
At the end the plugin asks `Verdict.conclusion()`: failed when any violation
is unexplained, known_deviation when every one is a recorded upstream defect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NoReturn

import pytest
import requests
from _pytest.outcomes import Skipped  # pytest.skip.Exception, by the name a type checker resolves

from conformance.expectations.deviations import Deviation, Observation, request_facts
from conformance.model.classes import SECURITY_KINDS, FailureClass, classify, ordered
from conformance.model.reasons import ReasonCode
from conformance.model.status import Status

MAX_SHOWN = 5
# where a check leaves its structured verdict for the plugin (property results)
CONCLUSION_KEY: pytest.StashKey[Conclusion] = pytest.StashKey()


class ContractViolation(AssertionError):
    """The target broke the contract (result status `failed`)."""


class StopCheck(AssertionError):
    """A scenario cannot go on after a violation (e.g. the body it needs is not JSON)."""


class UndecidedCheck(Exception):
    """The suite could not decide a check (crashed check, unhandled case, transport error): `error`."""


class CodedSkip(Skipped):
    """pytest's skip, carrying the ReasonCode results.json gives the skipped result."""

    def __init__(self, reason: str, code: ReasonCode | str) -> None:
        super().__init__(reason)
        self.reason_code = str(code)


def skip(reason: str, code: ReasonCode | str) -> NoReturn:
    """End a check as skipped: `reason` for a person, `code` (a ReasonCode) for whatever reads results.json."""
    raise CodedSkip(reason, code)


def settle(conclusion: Conclusion, node) -> Conclusion:
    """Leave a structured verdict on the pytest item for the plugin and end the test with its outcome."""
    node.stash[CONCLUSION_KEY] = conclusion
    if conclusion.status == "failed":
        raise ContractViolation(conclusion.message)
    if conclusion.status == "error":
        raise UndecidedCheck(conclusion.message)
    if conclusion.status == Status.KNOWN_DEVIATION:
        pytest.xfail(conclusion.message)
    if conclusion.status == "skipped":
        skip(conclusion.message, conclusion.reason_code)
    return conclusion


def describe_response(resp: requests.Response) -> dict:
    """Facts about a response that deviations can be matched on."""
    ctype = (resp.headers.get("Content-Type") or "").split(";")[0].strip()
    text = resp.text[:4000]
    try:
        doc = resp.json()
    except ValueError:
        doc = None
    facts = {"status": resp.status_code, "content_type": ctype, "body": text, "json": doc}
    request = getattr(resp, "request", None)
    if isinstance(request, requests.PreparedRequest):  # a trigger names facts of the request (docs/deviations.md)
        facts.update(request_facts(request.url or "", request.body))
    return facts


@dataclass
class Violation:
    """One broken assertion; `deviation` is set when it is a recorded upstream defect."""

    summary: str
    check: str
    step: str = ""
    deviation: Deviation | None = None
    reproduce: str = ""
    status: int | None = None  # the answer's HTTP status (None when no answer was involved): its class reads it


@dataclass
class Excuse:
    """A known deviation that explained failures of one result: which, where, how often."""

    deviation: Deviation
    checks: set[str] = field(default_factory=set)
    operations: set[str] = field(default_factory=set)
    count: int = 0

    def as_dict(self) -> dict:
        d = self.deviation
        return {
            "id": d.id,
            "upstream": d.reference,
            "summary": d.summary,
            "checks": sorted(self.checks),
            "operations": sorted(self.operations),
            "count": self.count,
            "class": d.failure_class.value,
            **({"intermittent": True} if d.intermittent else {}),
        }


@dataclass
class Conclusion:
    """The structured verdict of one check, handed to the plugin."""

    status: str  # passed | failed | known_deviation | skipped | error
    message: str = ""
    excused: list[Excuse] = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)  # per-check outcomes (property results)
    reproduce: str = ""
    cells: list[dict] = field(default_factory=list)  # per-identity outcomes (authorization results)
    group: str = ""  # the operation's group (its tag in the reference spec), for the role x group table
    # (check, HTTP status or None) of every unexplained failure: what the result's classes are derived from
    failures: list[tuple[str, int | None]] = field(default_factory=list)
    reason_code: str = ""  # skipped and error conclusions: a ReasonCode value

    @property
    def upstream(self) -> str:
        return ", ".join(dict.fromkeys(e.deviation.reference for e in self.excused))

    def classes(self, kind: str) -> list[str]:
        """The classes of what made this result failed (its unexplained failures) or a known deviation (its excuses)."""
        return result_classes(self.status, kind, self.failures, [e.deviation for e in self.excused])


def excused_class(deviation: Deviation, kind: str) -> FailureClass:
    """A deviation's class as a result of `kind` carries it: a security kind stays security whatever the data says."""
    return FailureClass.SECURITY if kind in SECURITY_KINDS else deviation.failure_class


def result_classes(status: str, kind: str, failures, deviations) -> list[str]:
    """Classes of a result: of its unexplained (check, status) failures when failed, of its deviations when excused.

    A failed result always has one: a failure nobody described (a plain assertion, an
    authorization cell) is classed by its kind alone, so no failure escapes a gate unclassed.
    """
    if status == "failed":
        return ordered(classify(check, code, kind) for check, code in failures) or [classify("", None, kind).value]
    if status == Status.KNOWN_DEVIATION:
        return ordered(excused_class(d, kind) for d in deviations)
    return []


def excuses(pairs) -> list[Excuse]:
    """Group (deviation, check, operation) occurrences into one Excuse per deviation."""
    by_id: dict[str, Excuse] = {}
    for dev, check, operation in pairs:
        ex = by_id.setdefault(dev.id, Excuse(dev))
        ex.checks.add(check)
        if operation:
            ex.operations.add(operation)
        ex.count += 1
    return list(by_id.values())


class Verdict:
    """Bound to one check (its result id) and the run's expectations."""

    def __init__(self, result_id: str, expectations, validator, session, operations=()) -> None:
        self.result_id = result_id
        self.expectations = expectations
        self.validator = validator
        self.session = session
        self.operations = tuple(operations)
        self.notes: list[str] = []
        self.violations: list[Violation] = []

    # -- recording ------------------------------------------------------------
    def record(
        self, summary: str, *, check: str, step: str = "", resp: requests.Response | None = None, schema_error: str = ""
    ) -> Violation:
        facts = describe_response(resp) if resp is not None else {}
        obs = Observation(
            result_id=self.result_id,
            check=check,
            step=step,
            schema_error=schema_error,
            backend=getattr(self.expectations, "backend", ""),
            **facts,
        )
        dev = self.expectations.known(obs)
        curl = ""
        if resp is not None and isinstance(getattr(resp, "request", None), requests.PreparedRequest):
            curl = self.session.redactor.curl(resp.request) if hasattr(self.session, "redactor") else ""
        v = Violation(summary, check, step, dev, curl, resp.status_code if resp is not None else None)
        self.violations.append(v)
        return v

    def violation(
        self, summary: str, /, *, step: str = "", resp: requests.Response | None = None, check: str = "assertion"
    ) -> NoReturn:
        """A violation after which the scenario cannot go on (never returns)."""
        self.record(summary, check=check, step=step, resp=resp)
        raise StopCheck(summary)

    def that(
        self,
        condition: bool,
        summary: str,
        /,
        *,
        step: str = "",
        resp: requests.Response | None = None,
        check: str = "assertion",
    ) -> bool:
        if not condition:
            self.record(summary, check=check, step=step, resp=resp)
        return bool(condition)

    def status(self, resp: requests.Response, expected, what: str, *, step: str = "") -> bool:
        """The response status must be one of `expected`; returns whether it was."""
        allowed = expected if isinstance(expected, (list, tuple, set)) else [expected]
        if resp.status_code in allowed:
            return True
        want = " or ".join(str(a) for a in allowed)
        body = " ".join((resp.text or "")[:200].split())
        self.record(
            f"{what}: expected HTTP {want}, got {resp.status_code}: {body}", check="status", step=step, resp=resp
        )
        return False

    def schema(self, resp: requests.Response, what: str = "response", *, step: str = "") -> bool:
        """The response must match the reference spec; each schema error is matched on its own.

        A known defect in one field never hides an unknown one in another.
        """
        errors = self.validator.errors(resp)
        for error in errors:
            self.record(
                f"{what} does not match the reference spec: {error}",
                check="response_schema",
                step=step,
                resp=resp,
                schema_error=error,
            )
        return not errors

    def json(self, resp: requests.Response, what: str = "response", *, step: str = ""):
        """The body parsed as JSON; a body that is not JSON stops the scenario."""
        try:
            return resp.json()
        except ValueError:
            body = " ".join((resp.text or "")[:200].split())
            self.violation(f"{what}: body is not JSON: {body}", step=step, resp=resp, check="json")

    # -- the verdict ------------------------------------------------------------
    def conclusion(self, stopped_by: BaseException | None = None) -> Conclusion | None:
        """None when nothing was violated (and nothing stopped the check)."""
        unexplained = [v for v in self.violations if v.deviation is None]
        known = [v for v in self.violations if v.deviation is not None]
        ex = excuses((v.deviation, v.check, op) for v in known for op in (self.operations[:1] or ("",)))
        if unexplained:
            lines = [f"{len(unexplained)} violation(s):"] + [
                f"- {v.summary}" + (f" [step {v.step}]" if v.step else "") for v in unexplained[:MAX_SHOWN]
            ]
            if len(unexplained) > MAX_SHOWN:
                lines.append(f"- ... and {len(unexplained) - MAX_SHOWN} more")
            if stopped_by is not None and not isinstance(stopped_by, StopCheck):
                lines.append(f"(the scenario stopped: {type(stopped_by).__name__}: {stopped_by})")
            if known:
                lines.append("(also explained by known deviations: " + ", ".join(e.deviation.id for e in ex) + ")")
            repro = next((v.reproduce for v in unexplained if v.reproduce), "")
            return Conclusion(
                "failed", "\n".join(lines), ex, reproduce=repro, failures=[(v.check, v.status) for v in unexplained]
            )
        if stopped_by is not None and not isinstance(stopped_by, StopCheck):
            return None  # an exception with no violation recorded: the plugin reports it as an error
        if known:
            observed = "; ".join(v.summary for v in known[:3])
            text = "; ".join(e.deviation.describe() for e in ex) + f" | observed: {observed}"
            return Conclusion(Status.KNOWN_DEVIATION, text, ex, reproduce=known[0].reproduce)
        return None
