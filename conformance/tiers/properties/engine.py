"""The property engine: one operation of the reference spec, generated, sent and checked.

For each operationId, hypothesis draws `--max-examples` cases from
schemathesis' strategies (mostly positive data aimed at real objects,
some negative data, a few with fully generated path parameters to
explore). Each case is sent through the run's guarded session (a case the
guard refuses is skipped and counted), and its response is checked by
schemathesis' checks and by the Airflow checks of
`conformance.checks.registry`. Once per protected operation the first
sendable case is also sent without credentials: it must not succeed.

Failures are collected, never raised inside hypothesis (so nothing is
shrunk or re-sent), and summarised into one verdict per operation.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Callable

import requests
from hypothesis import given, reject
from hypothesis import strategies as st
from schemathesis import GenerationMode

from conformance.context import CheckContext
from conformance.generation import generation_settings
from conformance.safety.guard import RequestRefused
from conformance.target.auth import make_auth
from conformance.tiers.properties.checking import ANONYMOUS_CHECKS, AUTH_CHECK, Checker
from conformance.tiers.properties.messages import describe_exception
from conformance.tiers.properties.outcome import Outcome
from conformance.tiers.properties.shaping import (
    Shaper,
    case_beyond_int64,
    case_key,
    drop_undeclared_properties,
    strip_credentials,
)
from conformance.tiers.properties.strategies import Strategies
from conformance.tiers.shared.operations import REVOKES_CREDENTIALS, OperationInfo, load_operations
from conformance.tiers.shared.samples import Samples

log = logging.getLogger(__name__)

# ratio of generated cases: explore (generated path parameters), negative data, positive data (out of 10)
EXPLORE, NEGATIVE = 1, 3


class PropertyEngine:
    """Shared by all property items of a run: schema, samples, sessions, strategies."""

    def __init__(self, ctx: CheckContext, samples_factory: Callable[[], Samples]) -> None:
        self.ctx = ctx
        self.base_path = ctx.router.base_path
        self.base_url = ctx.target.url.rstrip("/") + self.base_path
        self._samples_factory = samples_factory
        self._samples: Samples | None = None
        self._lock = threading.Lock()
        self._local = threading.local()
        self._worker_ids = iter(range(10_000))
        self.schema, self.ops = load_operations(ctx.spec, ctx.router)
        self.strategies = Strategies(lambda: self.samples)
        self.shaper = Shaper(ctx, self.owned_name, lambda: self.samples)
        self.checker = Checker(ctx)
        self.counter = iter(range(1, 10**9))

    # -- shared state ------------------------------------------------------------
    @property
    def samples(self) -> Samples:
        with self._lock:
            if self._samples is None:
                self._samples = self._samples_factory()
            return self._samples

    @property
    def built_samples(self) -> Samples | None:
        """The samples if some operation needed them already; None otherwise (nothing was created)."""
        return self._samples

    def worker(self) -> tuple[int, object, object]:
        """(worker number, guarded session, anonymous guarded session) of the calling thread."""
        local = self._local
        if not hasattr(local, "session"):
            with self._lock:
                local.number = next(self._worker_ids)
            local.session = self.ctx.session if local.number == 0 else self.ctx.new_session()
            local.anon = self.ctx.session_as(None)
        return local.number, local.session, local.anon

    def owned_name(self, label: str) -> str:
        """A fresh name for an object a generated case creates: run prefix + worker number."""
        number, _, _ = self.worker()
        return f"{self.ctx.prefix}w{number}_{label}{next(self.counter)}"

    def op_seed(self, op_id: str) -> int:
        return (int(self.ctx.options.seed or 0) ^ zlib.crc32(op_id.encode())) & 0xFFFFFFFF

    def new_outcome(self, name: str) -> Outcome:
        """An empty outcome whose failures are matched against the known deviations of `property.<name>`."""
        return Outcome(
            name,
            self.op_seed(name),
            classify=lambda f: self.ctx.expectations.known(f.facts) if f.facts is not None else None,
        )

    # -- one operation ----------------------------------------------------------
    def run(self, op_id: str, max_examples: int, deadline: float | None = None) -> Outcome:
        """Generate, send and check up to `max_examples` cases; after `deadline` (monotonic) send no more."""
        info = self.ops[op_id]
        outcome = self.new_outcome(op_id)
        combos = self.strategies.path_choices(info)
        has_negative = self.strategies.negatable(info, combos)

        @generation_settings(
            max_examples, outcome.seed, derandomize=False, print_blob=False, report_multiple_bugs=False
        )
        @given(data=st.data())
        def examples(data):
            roll = data.draw(st.integers(0, 9), label="kind")
            explore = roll < EXPLORE and not info.writes  # writes always aim at the run's own objects
            mode = (
                GenerationMode.NEGATIVE
                if (EXPLORE <= roll < EXPLORE + NEGATIVE and has_negative)
                else GenerationMode.POSITIVE
            )
            index = None
            if combos and info.path_params and not explore:
                index = data.draw(st.integers(0, len(combos) - 1), label="objects")
            case = data.draw(self.strategies.strategy(info, mode, index, combos), label="case")
            if case_beyond_int64(case):
                reject()
            if mode is GenerationMode.POSITIVE and not explore:
                drop_undeclared_properties(info, case)
            # after the draws: hypothesis requires the same draws for the same choices, whatever the clock says
            if deadline is not None and outcome.sent and time.monotonic() > deadline:
                outcome.over_budget += 1
                return
            try:
                self.exchange(info, case, outcome)
            except Exception as exc:  # noqa: BLE001 - kept per case; raising would make hypothesis retry it
                log.debug("case of %s could not be handled", op_id, exc_info=True)
                outcome.internal_errors.append(describe_exception(exc))

        examples()
        if outcome.sent == 0 and outcome.refused:
            self.missing_field_probe(info, combos, outcome)
        return outcome

    def missing_field_probe(self, info: OperationInfo, combos: list[dict], outcome: Outcome) -> None:
        """When no generated case may be sent: one body without its required fields, which must be refused.

        The guard decides as for any write (an invalid body is still a write to a server that does
        not validate), so it goes only where the run may write; elsewhere it is refused like the rest.
        """
        required = self.ctx.router.required_fields.get(info.op_id, ())
        if not required or not info.writes:
            return
        path = combos[0] if combos and combos[0] else {}
        if info.path_params and not path:
            read = {p: self.samples.values(p, write=False) for p in info.path_params}
            if not all(read.values()):
                return
            path = {p: values[0] for p, values in read.items()}
        case = info.operation.Case(path_parameters=path or None, body={}, media_type="application/json")
        _, session, _ = self.worker()
        response = self.send(case, session, outcome)
        if response is None:
            return
        if not 400 <= response.status_code < 500:
            outcome.add(
                self.checker.failure(
                    "required_fields_enforced",
                    response,
                    f"{info.title} with an empty body (missing {', '.join(required)}) "
                    f"answered {response.status_code}; invalid input must be refused "
                    "with 4xx",
                    info.op_id,
                )
            )

    # -- sending ------------------------------------------------------------------
    def exchange(self, info: OperationInfo, case, outcome: Outcome) -> None:
        """Send one case (and, once, the same case without credentials) and check the answers."""
        if self.shaper.body(info, case):
            self.checker.reshaped.add(id(case))
        try:
            self._exchange(info, case, outcome)
        finally:  # a refused or repeated case is never judged: its id must not outlive it (ids are reused)
            self.checker.reshaped.discard(id(case))

    def _exchange(self, info: OperationInfo, case, outcome: Outcome) -> None:
        _, session, anon = self.worker()
        self.shaper.query(info, case)
        strip_credentials(case)
        if not info.writes:  # the same read again tells nothing new; a repeated write may (conflicts)
            key = case_key(case)
            if key in outcome.seen:
                outcome.repeats += 1
                return
            outcome.seen.add(key)
        if info.rel in REVOKES_CREDENTIALS:
            session = self.sacrificial_session()
        response = self.send(case, session, outcome)
        if response is None:
            return
        if info.protected and not outcome.anon_checked:
            self.check_anonymous(info, case, anon, outcome)

    def send(self, case, session, outcome: Outcome, headers: dict | None = None):
        """Send one case, count it and check the answer; None when refused or not answered.

        The session's timeout (`--request-timeout`) is passed on: schemathesis would otherwise send its own
        10 s, and a slow but correct answer would leave the case undecided. `headers` win over the
        session's defaults (a case's own headers do not: schemathesis lets the session's `Accept: */*`
        replace them), e.g. the Accept that asks 2.x for a log as JSON.
        """
        try:
            response = case.call(
                session=session,
                base_url=self.base_url,
                timeout=session.timeout,
                **({"headers": headers} if headers else {}),
            )
        except RequestRefused as exc:
            outcome.refused.append(exc.reason)
            outcome.refusal_codes.setdefault(exc.reason, exc.code)
            return None
        except requests.RequestException as exc:
            outcome.transport_errors.append(exc)
            return None
        outcome.sent += 1
        outcome.statuses[response.status_code] = outcome.statuses.get(response.status_code, 0) + 1
        self.checker.check(case, response, outcome)
        return response

    def check_anonymous(self, info: OperationInfo, case, anon, outcome: Outcome) -> None:
        anon.cookies.clear()  # a cookie picked up from an earlier answer must not stand in for credentials
        try:
            response = case.call(session=anon, base_url=self.base_url, timeout=anon.timeout)
        except RequestRefused:
            return
        except requests.RequestException as exc:
            outcome.transport_errors.append(exc)
            return
        outcome.anon_checked = True
        outcome.sent += 1
        if 200 <= response.status_code < 300:
            outcome.add(
                self.checker.failure(
                    AUTH_CHECK,
                    response,
                    f"{info.title} answered {response.status_code} to a request without "
                    "credentials; a protected operation must refuse it (401/403)",
                    info.op_id,
                )
            )
        self.checker.check(case, response, outcome, schemathesis_checks=ANONYMOUS_CHECKS)

    def sacrificial_session(self):
        """A session whose credentials may be revoked: a freshly minted JWT, never the run's own.

        `GET /auth/logout` revokes the bearer token it is sent with (3.x answers 403 "Invalid JWT
        token" to it afterwards), so it must not see the token the rest of the run (and its cleanup)
        depends on. A user-supplied fixed token is never risked: then the request goes anonymous.
        """
        auth = self.ctx.target.auth
        if auth.kind != "jwt":
            return self.ctx.session_as(None)
        session = self.ctx.session_as(make_auth(auth, self.ctx.target.url, lambda: self.ctx.session_as(None)))
        session.disposable_credentials = True
        return session
