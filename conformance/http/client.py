"""`TargetSession`: how the suite talks HTTP to one target.

It is a `requests.Session` so that schemathesis can use it directly
(`case.call(session=...)`), and it overrides `send`, the one method every
requests call funnels through. It counts requests per operation, paces them
(`--max-rps`), retries only what is safe to retry, re-mints an expired JWT,
reads streamed bodies within bounds, and remembers the last exchange of the
current test for a redacted curl reproduction. Whether a request may leave at
all is not its business: `conformance.safety.session.GuardedSession` adds the
guard's decision and the ledger on top, through `admit` and `answered`.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field

import requests
from urllib3.exceptions import InsecureRequestWarning

from conformance.http.interrupts import Interrupts
from conformance.http.ratelimit import TokenBucket
from conformance.http.redact import Redactor
from conformance.http.router import Match, Router
from conformance.model.timing import Wait
from conformance.target.tokens import TokenAuth

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # change nothing: retried, and never judged as writes
RETRY_STATUSES = frozenset({502, 503, 504})
DEFAULT_TIMEOUT = 30.0


@dataclass
class Stats:
    """Request accounting for results.json (`operations[*].requests`, `summary.requests`)."""

    requests: int = 0
    refused: int = 0
    by_operation: Counter = field(default_factory=Counter)
    refused_by_operation: dict = field(default_factory=dict)
    # per operation: answers by kind (reached 2xx/3xx, validated 4xx, refused 401/403, server_error 5xx)
    # and requests the guard did not let out (not_sent)
    answers: dict = field(default_factory=dict)
    # per operation: how often each HTTP status answered (what `compare` reads as "answers it did not before")
    statuses: dict = field(default_factory=dict)
    # seconds spent waiting, by kind (conformance.model.timing.Wait): what results.json's `timing` reports per phase
    waited: dict[str, float] = field(default_factory=dict)
    # requests that ended with no answer at all (refused connection, timeout) after every attempt: the run asks
    # whether its target is gone when this grows, instead of sending every remaining check into the void
    unanswered: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # the last request per thread, shared by all sessions of a run (for reproductions)
    local: threading.local = field(default_factory=threading.local, repr=False)

    def wait(self, kind: Wait, seconds: float) -> None:
        if seconds > 0:
            with self.lock:
                self.waited[kind.value] = self.waited.get(kind.value, 0.0) + seconds

    def no_answer(self) -> None:
        with self.lock:
            self.unanswered += 1

    def count(self, operation_id: str | None) -> None:
        with self.lock:
            self.requests += 1
            if operation_id:
                self.by_operation[operation_id] += 1

    def refuse(self, operation_id: str | None, reason: str) -> None:
        with self.lock:
            self.refused += 1
            if operation_id:
                self.refused_by_operation.setdefault(operation_id, reason)
                self._tally(operation_id, "not_sent")

    def answered(self, operation_id: str | None, status: int) -> None:
        """Count an answer by what it says about coverage: only past authentication is exercised."""
        if not operation_id:
            return
        kind = (
            "refused"
            if status in (401, 403)
            else "reached"
            if status < 400
            else "server_error"
            if status >= 500
            else "validated"
        )
        with self.lock:
            self._tally(operation_id, kind)
            codes = self.statuses.setdefault(operation_id, Counter())
            codes[str(status)] += 1

    def _tally(self, operation_id: str, kind: str) -> None:
        row = self.answers.setdefault(
            operation_id, {"reached": 0, "validated": 0, "refused": 0, "server_error": 0, "not_sent": 0}
        )
        row[kind] += 1


@dataclass(frozen=True)
class Transport:
    """How requests reach the target besides its URL, the same for every session of a run.

    `headers` go with every request (a gateway in front of a managed Airflow wants its own;
    their values are secrets); `verify` is True, False (`--no-tls-verify`) or a CA bundle
    (`--cacert`); `timeout` is the seconds one request may take (`--request-timeout`).
    """

    headers: tuple[tuple[str, str], ...] = ()
    verify: bool | str = True
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class Admission:
    """What the session knows of a request it lets out: which operation it is (for counting)."""

    match: Match | None

    @property
    def operation_id(self) -> str | None:
        return self.match.operation_id if self.match else None


class TargetSession(requests.Session):
    """A requests session bound to one target, one router and one redactor."""

    def __init__(
        self,
        root_url: str,
        router: Router | None,
        redactor: Redactor,
        *,
        api_base: str = "",
        limiter: TokenBucket | None = None,
        retries: int = 2,
        stats: Stats | None = None,
        interrupts: Interrupts | None = None,
        transport: Transport | None = None,
    ) -> None:
        super().__init__()
        self.root_url = root_url.rstrip("/")
        self.api_base = api_base
        self.router = router
        self.redactor = redactor
        self.limiter = limiter or TokenBucket(None)
        self.transport = transport or Transport()
        self.timeout = self.transport.timeout
        self.retries = retries
        self.stats = stats or Stats()
        self.interrupts = interrupts or Interrupts()  # one per run, shared by its sessions like `stats`
        self.headers["User-Agent"] = "airflow-api-conformance"
        self._settle_environment()
        self.headers.update(dict(self.transport.headers))
        if self.transport.verify is not True:
            self.verify = self.transport.verify
        if self.transport.verify is False:  # asked for: one line at the start of the run says so, not one per request
            warnings.simplefilter("ignore", InsecureRequestWarning)
        # True for a session holding a token minted for one request that may revoke it (logout)
        self.disposable_credentials = False
        self._local = self.stats.local

    def _settle_environment(self) -> None:
        """Read proxy and CA settings from the environment once, as requests would on every request.

        requests re-reads os.environ per request when `trust_env` is on; pytest rewrites the
        environment (PYTEST_CURRENT_TEST) between tests while property workers are sending, and a
        concurrent read then fails with KeyError. The session is bound to one URL, so one read suffices.
        """
        self.proxies.update(requests.utils.get_environ_proxies(self.root_url))
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            self.verify = bundle
        self.trust_env = False

    # -- addressing --------------------------------------------------------
    def request(self, method, url, *args, **kwargs):
        if isinstance(url, str) and url.startswith("/"):
            url = self.root_url + url
        return super().request(method, url, *args, **kwargs)

    def call(self, method: str, rel: str, **kwargs) -> requests.Response:
        """Request an API-relative path (`/dags` -> `/api/v1/dags` or `/api/v2/dags`)."""
        return self.request(method, self.api_base + rel, **kwargs)

    # -- the choke point ---------------------------------------------------
    def admit(self, request: requests.PreparedRequest) -> Admission:
        """May this request leave? Here always; `GuardedSession` asks the guard (RequestRefused if not)."""
        return Admission(
            self.router.match((request.method or "GET").upper(), request.url or "") if self.router else None
        )

    def answered(
        self, admission: Admission, request: requests.PreparedRequest, response: requests.Response, body: bytes
    ) -> None:
        """Hook for what an answered request means beyond HTTP (the ledger and the cassette, in `GuardedSession`)."""

    def send(self, request: requests.PreparedRequest, **kwargs) -> requests.Response:
        decision = self.admit(request)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        self._remember(request)
        self.interrupts.enter()
        try:
            return self._send_and_record(request, decision, **kwargs)
        finally:
            self.interrupts.leave()

    def _send_and_record(self, request: requests.PreparedRequest, decision: Admission, **kwargs) -> requests.Response:
        response = self._send_with_retries(request, **kwargs)
        if _token_refused(response) and isinstance(self.auth, TokenAuth) and not self.auth.skips(request):
            self.redactor.add(self.auth.refresh())  # once: a second 401 is the server's answer
            retry = request.copy()
            retry.headers["Authorization"] = f"Bearer {self.auth.token}"
            response = self._send_with_retries(retry, **kwargs)
        if isinstance(self.auth, TokenAuth) and self.auth.token:
            self.redactor.add(self.auth.token)
        # schemathesis sends with stream=True and reads the body right after; read it here, bounded, so the
        # ledger also learns what a generated request created and an endless stream cannot hang the run
        body = _read_body(response) if kwargs.get("stream") else response.content
        self.stats.answered(decision.operation_id, response.status_code)
        self.answered(decision, request, response, body)
        return response

    def _send_with_retries(self, request: requests.PreparedRequest, **kwargs) -> requests.Response:
        method = (request.method or "GET").upper()
        attempts = self.retries + 1 if method in SAFE_METHODS else 1
        for attempt in range(attempts):
            self.stats.wait(Wait.RATE_LIMIT, self.limiter.acquire())
            match = self.router.match(method, request.url or "") if self.router else None
            self.stats.count(match.operation_id if match else None)
            try:
                response = super().send(request, **kwargs)
            except (requests.ConnectionError, requests.Timeout):
                if attempt + 1 >= attempts or self.interrupts.stopping.is_set():  # interrupted: no new attempt
                    self.stats.no_answer()
                    raise
                self._pause(0.5 * (attempt + 1))
                continue
            if response.status_code == 429 and attempt + 1 < attempts:
                self._pause(min(_retry_after(response), 10.0))
                continue
            if response.status_code in RETRY_STATUSES and attempt + 1 < attempts:
                self._pause(0.5 * (attempt + 1))
                continue
            return response
        return response

    def _pause(self, seconds: float) -> None:
        time.sleep(seconds)
        self.stats.wait(Wait.RETRY, seconds)

    # -- reproduction ------------------------------------------------------
    def _remember(self, request: requests.PreparedRequest) -> None:
        self._local.last = request

    def last_curl(self) -> str:
        """curl for the most recent request this thread sent (secrets masked)."""
        last = getattr(self._local, "last", None)
        return self.redactor.curl(last) if last is not None else ""

    def forget(self) -> None:
        self._local.last = None


STREAM_READ_S = 10.0
MAX_BODY_BYTES = 32 * 1024 * 1024


def _read_body(response: requests.Response) -> bytes:
    """The body of a streamed response, read for at most STREAM_READ_S seconds and MAX_BODY_BYTES.

    Some operations stream until something happens on the server: 3.x `GET .../dagRuns/{id}/wait`
    sends a line every `interval` seconds until the run finishes, forever for a queued run of a
    paused DAG, and a generated `interval` may be 5e-324 (a flood) or 1e10 (silence). A body
    with a Content-Length is read as usual; an open-ended one is cut off by shutting the socket
    down from a timer, which also ends a read blocked on a silent stream. What arrived is the body.
    """
    if response.headers.get("Content-Length") is not None:
        return response.content
    timer = threading.Timer(STREAM_READ_S, _shut_down, (response,))
    timer.daemon = True
    timer.start()
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(64 * 1024):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                _shut_down(response)
                break
    except (requests.RequestException, OSError, ValueError, AttributeError):
        pass  # the timer ended the stream (or the server did, mid-chunk): keep what arrived
    finally:
        timer.cancel()
    response._content = b"".join(chunks)  # what response.content returns from now on
    response._content_consumed = True
    return response._content


def _shut_down(response: requests.Response) -> None:
    conn = getattr(response.raw, "_connection", None)
    sock = getattr(conn, "sock", None)
    try:
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
        response.close()
    except (OSError, AttributeError):
        pass


def _token_refused(response: requests.Response) -> bool:
    """401, or the 403 "Invalid JWT token" Airflow 3 gives for a revoked or foreign token: log in again."""
    if response.status_code == 401:
        return True
    return response.status_code == 403 and "jwt" in response.text[:300].lower()


def _retry_after(response: requests.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0
