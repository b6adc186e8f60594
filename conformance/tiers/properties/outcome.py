"""What the property work of one operation (or chain) produced, and the facts its failures are matched on.

Failures are collected, never raised inside hypothesis (so nothing is shrunk
or re-sent); occurrences of the same failure are counted as one. A known
deviation matches only the server's answer and structured facts of the
request (`observe`), never the request's text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from conformance.checks.registry import content_type_of
from conformance.expectations.deviations import Deviation, Observation, request_facts

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\d+")


@dataclass
class Failure:
    check: str
    status: int
    content_type: str
    message: str  # for people: the check's words, the server's answer, the request
    curl: str
    request: requests.PreparedRequest | None = None
    count: int = 1
    deviation: Deviation | None = None  # the known upstream deviation that explains it, if any
    operation: str = ""  # operationId of the request (chains span several operations)
    facts: Observation | None = None  # what deviations are matched on (the answer, structured request facts)

    @property
    def key(self) -> tuple:
        """Occurrences with the same key are one distinct failure (counted)."""
        headline, _, detail = self.message.partition(" | response: ")
        if self.deviation is not None:
            return (self.check, self.status, self.content_type, self.deviation.id, self.operation)
        shape = _QUOTED.sub("'…'", _NUMBER.sub("N", detail))[:120]
        return (self.check, self.status, self.content_type, headline[:160], shape)

    def describe(self) -> str:
        headline, _, rest = self.message.partition(" | response: ")
        answer, _, request = rest.partition(" | request: ")
        first = (
            headline[:300]
            + (f" | response: {answer[:200]}" if answer else "")
            + (f" | request: {request[:300]}" if request else "")
        )
        times = f" (x{self.count})" if self.count > 1 else ""
        return f"[{self.check}] HTTP {self.status} {self.content_type or '-'}{times}: {first}"


@dataclass
class Outcome:
    op_id: str
    seed: int
    sent: int = 0
    refused: list[str] = field(default_factory=list)
    refusal_codes: dict[str, str] = field(
        default_factory=dict
    )  # a refusal's reason -> its ReasonCode value, if narrower
    failures: dict[tuple, Failure] = field(default_factory=dict)
    transport_errors: list[BaseException] = field(default_factory=list)
    internal_errors: list[str] = field(default_factory=list)  # a case the suite itself could not handle
    seen: set = field(default_factory=set, repr=False)  # reads already sent (not sent twice)
    repeats: int = 0
    over_budget: int = 0  # cases not generated because the operation's share of --time-budget was spent
    anon_checked: bool = False
    statuses: dict[int, int] = field(default_factory=dict)
    classify: Callable | None = None  # failure -> known deviation or None
    check_runs: dict[str, int] = field(default_factory=dict)  # check -> responses it judged
    check_errors: list[tuple[str, str]] = field(default_factory=list)  # (check, why it could not judge)
    waits_given_up: list[str] = field(default_factory=list)  # why a wait on the scheduler ended early

    def judged(self, check: str) -> None:
        self.check_runs[check] = self.check_runs.get(check, 0) + 1

    def add(self, failure: Failure) -> None:
        if self.classify is not None:
            failure.deviation = self.classify(failure)
        known = self.failures.get(failure.key)
        if known is None:
            self.failures[failure.key] = failure
        else:
            known.count += 1


def summarize(outcome: Outcome) -> str:
    parts = [f"{outcome.sent} requests"]
    if outcome.statuses:
        parts.append("statuses " + ", ".join(f"{k}x{v}" for k, v in sorted(outcome.statuses.items())))
    if outcome.refused:
        parts.append(f"{len(outcome.refused)} cases refused by the guard")
    if outcome.repeats:
        parts.append(f"{outcome.repeats} repeated reads not sent again")
    if outcome.over_budget:
        parts.append(f"{outcome.over_budget} cases not sent (time budget)")
    return "; ".join(parts)


def observe(
    result_id: str,
    check: str,
    response,
    operation: str,
    *,
    schema_error: str = "",
    invalid: frozenset = frozenset(),
    backend: str = "",
) -> Observation:
    """The facts a deviation may match: the server's answer, and structured facts of the request.

    The request contributes only the names of query parameters and body fields it carried and
    whether the body was empty, never its text.
    """
    raw = getattr(response, "content", b"") or b""
    text = raw[:8000].decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)[:8000]
    try:
        doc = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        doc = None
    request = getattr(response, "request", None)
    facts = request_facts(request.url or "", request.body) if isinstance(request, requests.PreparedRequest) else {}
    return Observation(
        result_id=result_id,
        check=check,
        status=int(response.status_code),
        content_type=content_type_of(response),
        body=text,
        json=doc,
        operation=operation,
        schema_error=schema_error,
        invalid=invalid,
        backend=backend,
        **facts,
    )


@dataclass(frozen=True)
class SchemaFailure:
    """One schema error of an answer as the run's validator states it (conformance.checks.schema)."""

    title: str
    message: str

    @property
    def schema_error(self) -> str:
        return self.message


def schema_error_of(failure) -> str:
    """`<instance path>: <message>` of a response-schema failure (derived from the response)."""
    if isinstance(failure, SchemaFailure):
        return failure.schema_error
    path = getattr(failure, "instance_path", None)
    raw = getattr(failure, "_raw_message", None) or getattr(failure, "validation_message", None)
    if path is None and raw is None:
        return ""
    where = "/" + "/".join(str(p) for p in (path or []))
    return f"{where}: {raw or ''}"


def invalid_facts(case) -> frozenset:
    """Kinds of invalid input schemathesis generated for a negative case: `location:keyword`."""
    try:
        mutations = case.meta.phase.data.mutations or ()
    except AttributeError:
        return frozenset()
    out = set()
    for m in mutations:
        location = getattr(getattr(m, "parameter_location", None), "value", "unknown")
        for keyword in getattr(m, "keywords", ()) or ("unknown",):
            out.add(f"{location}:{keyword}")
    return frozenset(out)
