"""Bare crash pages: a fault for every operation a recorded 5xx deviation excuses, derived from the data.

A deviation whose answer is a bare 5xx page (status and content type, nothing else) cannot tell its
own defect from any other crash of the operation, so it may excuse a failure only when the request
carried its `trigger` (conformance/expectations/deviations.py). These faults test exactly that: the
proxy answers the entry's own signature, with a page like Airflow's own crash page, to the generated
requests of the operation that do NOT carry the trigger, and lets the others through to the real
Airflow. The operation's property result must then be `failed`; an entry without a trigger excuses
any crash, which is the defect these cases expose.

The facts a request carries are read the way the suite reads them (`observe()` of the property tier,
on the request as the proxy received it), so the fault and the verdict decide on the same facts.
Only generated cases are answered (schemathesis marks each with `X-Schemathesis-TestCaseId`): the
suite's own preparation (the owned connection, unpausing the probe DAG) is no judged request, and
crashing it would only starve other operations of their objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import requests
from packaging.version import Version

from conformance.expectations import all_deviations
from conformance.expectations.deviations import Deviation, Observation
from conformance.http.router import Router
from conformance.specs.catalog import load_spec, reference_version_for
from conformance.tiers.properties.outcome import observe

from .mutation import Mutation, reply_page
from .proxy import Request

CASE_HEADER = "X-Schemathesis-TestCaseId"  # on every generated case, on none of the suite's own requests
CHECK = "not_a_server_error"
# What the frameworks answer to an unhandled exception: Starlette's plain text (3.x), Flask's page (2.x).
PAGES = {
    "text/plain": "Internal Server Error",
    "application/json": '{"detail": "Internal Server Error"}',  # FastAPI's generic 500, no "Database error" reason
    "text/html": (
        "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
        "<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was unable to "
        "complete your request. Either the server is overloaded or there is an error in the "
        "application.</p>\n"
    ),
}


def is_bare_5xx(dev: Deviation) -> bool:
    """An operation-scoped entry whose answer is a 5xx told apart by status and content type only."""
    sig = dev.response
    return (
        bool(dev.operations)
        and bool(sig.status)
        and all(s >= 500 for s in sig.status)
        and sig.body is None
        and not sig.pointer
        and sig.schema_error is None
    )


@dataclass(frozen=True)
class Crash:
    """One operation, one answer (status, content type), and the bare-5xx entries that answer excuses."""

    operation: str
    status: int
    content_type: str
    entries: tuple[Deviation, ...]

    @property
    def name(self) -> str:
        kind = self.content_type.split("/")[-1] or "any"
        return f"bare_{self.status}_{kind}_{self.operation}"

    @property
    def result(self) -> str:
        return f"property.{self.operation}"

    def applies_to(self, version: str) -> bool:
        return any(d.applies_to(Version(version), "sqlite") for d in self.entries)

    def on(self, version: str) -> tuple[Deviation, ...]:
        """The entries that hold on this release (the local targets run on SQLite)."""
        return tuple(d for d in self.entries if d.applies_to(Version(version), "sqlite"))


def crashes(deviations: list[Deviation] | None = None) -> list[Crash]:
    """One case per (operation, status, content type) of every bare-5xx entry: new entries are covered as written."""
    grouped: dict[tuple[str, int, str], list[Deviation]] = {}
    for dev in deviations if deviations is not None else all_deviations():
        if not is_bare_5xx(dev):
            continue
        for op in dev.operations:
            for status in dev.response.status:
                for ctype in dev.response.content_type or ("text/plain",):
                    grouped.setdefault((op, status, ctype), []).append(dev)
    return [Crash(op, status, ctype, tuple(devs)) for (op, status, ctype), devs in sorted(grouped.items())]


@cache
def router_for(version: str) -> Router:
    return Router(load_spec(reference_version_for(version)))


def observation(crash: Crash, request: Request) -> Observation:
    """The facts the suite would match a crash of this request on: the answer the fault gives, the request's structure."""
    sent = requests.Request(request.method, "http://proxied" + request.target, data=request.body or None).prepare()
    answer = requests.Response()
    answer.status_code = crash.status
    answer.headers["Content-Type"] = header(crash)
    answer._content = page(crash).encode()  # noqa: SLF001 - a Response the suite's own observe() can read
    answer.request = sent
    return observe(crash.result, CHECK, answer, crash.operation)


def carries_trigger(dev: Deviation, obs: Observation) -> bool:
    """Whether the request carried what the entry names as its cause; an entry that names none, nothing."""
    return bool(dev.trigger) and dev.trigger.matches(obs)


def page(crash: Crash) -> str:
    return PAGES.get(crash.content_type, PAGES["text/plain"])


def header(crash: Crash) -> str:
    """The Content-Type header of the page (text comes with its charset, as the frameworks send it)."""
    return crash.content_type + ("; charset=utf-8" if crash.content_type.startswith("text/") else "")


def _of_operation(crash: Crash, version: str) -> Callable[[Request], bool]:
    router = router_for(version)
    return lambda request: (
        request.headers.get(CASE_HEADER) is not None
        and (m := router.match(request.method, request.path)) is not None
        and m.operation_id == crash.operation
    )


def untriggered(crash: Crash, version: str) -> Mutation:
    """The crash page for the operation's generated requests that carry none of its entries' triggers."""
    entries, is_op = crash.on(version), _of_operation(crash, version)

    def where(request: Request) -> bool:
        if not is_op(request):
            return False
        obs = observation(crash, request)
        return not any(carries_trigger(d, obs) for d in entries)

    return Mutation(
        crash.name,
        (crash.result,),
        f"{crash.operation} answers {crash.status} {crash.content_type} to every generated request "
        f"without the trigger of {', '.join(d.id for d in entries)}",
        method=router_for(version).by_id[crash.operation].method,
        versions=f"=={version}",
        anonymous=False,
        where=where,
        request=reply_page(crash.status, page(crash), header(crash)),
    )


def triggered(crash: Crash, dev: Deviation, version: str) -> Mutation:
    """The negative control: the crash page only for the generated requests that DO carry `dev`'s trigger."""
    is_op = _of_operation(crash, version)
    return Mutation(
        f"{crash.name}_with_trigger",
        (crash.result,),
        f"{crash.operation} answers {crash.status} {crash.content_type} only to requests with "
        f"{dev.trigger.describe()} ({dev.id})",
        method=router_for(version).by_id[crash.operation].method,
        versions=f"=={version}",
        anonymous=False,
        where=lambda request: is_op(request) and carries_trigger(dev, observation(crash, request)),
        request=reply_page(crash.status, page(crash), header(crash)),
    )


def control_for(version: str, candidates: list[Crash]) -> tuple[Crash, Deviation] | None:
    """An entry with a trigger the proxy can see, on an operation no trigger-less entry of the same answer covers.

    The control must see generated requests that carry the trigger, so triggers a valid request tends to
    carry come first (a parameter or field present, an object where the spec allows one), then reads
    (cheap, change nothing), then by name, so the choice is stable. A trigger naming kinds of invalid
    input is left out: those are facts of how the suite generated a case, not of the request.
    """
    usable = [
        (c, d)
        for c in candidates
        if c.applies_to(version)
        if all(e.trigger for e in c.on(version))
        for d in c.on(version)
        if d.trigger and not d.trigger.invalid
    ]
    usable.sort(
        key=lambda cd: (_rarity(cd[1]), router_for(version).by_id[cd[0].operation].method != "GET", cd[0].operation)
    )
    return usable[0] if usable else None


def _rarity(dev: Deviation) -> int:
    """0: presence of a parameter or field; 1: an object at a pointer; 2: anything else (odd types or values)."""
    trigger = dev.trigger
    if (trigger.query or trigger.body) and not trigger.body_types and not getattr(trigger, "body_values", ()):
        return 0
    if trigger.body_types and all(_types(want) == {"object"} for _, want in trigger.body_types):
        return 1
    return 2


def _types(want: object) -> frozenset[str]:
    """The JSON types a `body_types` entry names (one name or a set of them, by the model's version)."""
    return frozenset([want]) if isinstance(want, str) else frozenset(want)
