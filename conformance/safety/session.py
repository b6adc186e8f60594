"""`GuardedSession`: the only way the suite talks to a target.

The HTTP session (`conformance.http.client.TargetSession`) funnels every
request through one `send`; this subclass makes that the choke point of the
safety model: `admit` asks the guard before anything leaves (nothing -
scenario, property test, token login, cleanup - reaches the wire without its
consent), and `answered` tells the ledger what a confirmed answer created or
deleted, whatever code sent it, and the run's cassette keeps the successful
answers (for the official clients to parse after the run, without new requests).
"""

from __future__ import annotations

import requests

from conformance.errors import RequestRefused
from conformance.http.cassette import Cassette
from conformance.http.client import Admission, TargetSession
from conformance.http.redact import Redactor
from conformance.safety.guard import Decision, Guard
from conformance.safety.tracking import record


class GuardedSession(TargetSession):
    """A target session whose every request the guard decides and whose answers the ledger learns from."""

    def __init__(
        self, root_url: str, guard: Guard, redactor: Redactor, *, cassette: Cassette | None = None, **kwargs
    ) -> None:
        super().__init__(root_url, guard.router, redactor, **kwargs)
        self.guard = guard
        self.cassette = cassette  # one per run, shared by its sessions like `stats`

    def admit(self, request: requests.PreparedRequest) -> Decision:  # type: ignore[override]
        revocable = self.disposable_credentials or not any(h in request.headers for h in ("Authorization", "Cookie"))
        decision = self.guard.decide(request.method or "GET", request.url or "", request.body, revocable=revocable)
        if not decision.allowed:
            self.stats.refuse(decision.operation_id, decision.reason)
            raise RequestRefused(decision.reason, decision.operation_id, decision.code)
        return decision

    def answered(
        self, admission: Admission, request: requests.PreparedRequest, response: requests.Response, body: bytes
    ) -> None:
        record(
            self.guard.ledger,
            self.guard.router,
            admission.match,
            (request.method or "").upper(),
            request.body,
            response.status_code,
            body,
        )
        if self.cassette is not None and admission.match is not None:
            self.cassette.record(admission.operation_id, admission.match.route.template, request, response, body)
