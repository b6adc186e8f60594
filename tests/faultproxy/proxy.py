"""A small fault-injecting HTTP proxy in front of a real Airflow.

Why: a conformance check is only worth something if it fails when the server
breaks the contract it checks. We cannot ask a real Airflow to misbehave, and
a mock would only prove the check agrees with the mock. So the project's own
tests put this proxy between the suite and a REAL Airflow: every exchange is
forwarded untouched, except the ones a `Mutation` matches, which it rewrites
(status, headers, JSON fields, whole bodies) or answers itself (fabricated
success, 503, 429, a closed connection, a dead target).

Rules the proxy keeps, because the tests rely on them:
- it binds 127.0.0.1 on a free port and lives only inside a `with` block;
- it forwards the client's `Authorization` header untouched (it adds real
  credentials only when a mutation asks for it: that is how an auth bypass is
  simulated);
- it never logs credentials or bodies: its record of exchanges (`log`) is
  method, path, status and the names of the mutations that fired. Only with
  `record_requests=True` does it keep whole requests, in memory, with every
  credential header replaced by a placeholder.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

# Headers that describe one hop, not the message: never copied across the proxy.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "accept-encoding",
        "content-encoding",
    }
)
SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
UPSTREAM_TIMEOUT = 60.0


# ----------------------------------------------------------------- credentials


@dataclass(frozen=True)
class Credentials:
    """The target's real credentials, used only by auth-bypass mutations.

    `kind` is "basic" (Airflow 2.x) or "jwt" (Airflow 3.x: a token minted once
    through the real POST /auth/token). `repr` never shows the password.
    """

    kind: str
    user: str
    password: str = field(repr=False)

    @classmethod
    def from_spec(cls, spec: str) -> Credentials:
        """Parse an `--auth` spec such as `basic:admin:PW` or `jwt:admin:PW`."""
        kind, user, password = spec.split(":", 2)
        return cls(kind, user, password)


# ----------------------------------------------------------------- exchanges


class CaseInsensitiveDict(dict):
    """Just enough of a case-insensitive header map (keys stored as sent)."""

    def _key(self, name: str) -> str | None:
        low = name.lower()
        return next((k for k in self if k.lower() == low), None)

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        key = self._key(name)
        return dict.get(self, key, default) if key is not None else default

    def set(self, name: str, value: str) -> None:
        self.remove(name)
        self[name] = value

    def remove(self, name: str) -> None:
        key = self._key(name)
        if key is not None:
            del self[key]


def _parse_json(data: bytes) -> Any:
    try:
        return json.loads(data) if data else None
    except (ValueError, UnicodeDecodeError):
        return None


@dataclass
class Request:
    """What the client sent, as mutations see (and may rewrite) it."""

    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: CaseInsensitiveDict
    body: bytes = b""

    @property
    def anonymous(self) -> bool:
        """True when the client sent no credentials."""
        return not self.headers.get("Authorization")

    def json(self) -> Any:
        """The body parsed as JSON (None when it is not JSON)."""
        return _parse_json(self.body)

    def set_json(self, value: Any) -> None:
        self.body = json.dumps(value).encode()
        self.headers.set("Content-Type", "application/json")

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def without_secrets(self) -> Request:
        """A copy whose credentials are a placeholder (anonymity is kept)."""
        headers = CaseInsensitiveDict({k: v for k, v in self.headers.items() if k.lower() not in SECRET_HEADERS})
        if not self.anonymous:
            headers["Authorization"] = "<redacted>"
        return Request(self.method, self.path, {k: list(v) for k, v in self.query.items()}, headers, self.body)

    @property
    def target(self) -> str:
        """Path plus query string, as sent upstream."""
        return self.path + ("?" + urlencode(self.query, doseq=True) if self.query else "")


@dataclass
class Response:
    """What goes back to the client (from upstream, or fabricated by a mutation)."""

    status: int
    headers: CaseInsensitiveDict = field(default_factory=CaseInsensitiveDict)
    body: bytes = b""

    @classmethod
    def of_json(cls, status: int, value: Any, content_type: str = "application/json") -> Response:
        resp = cls(status)
        resp.set_json(value, content_type)
        return resp

    def json(self) -> Any:
        return _parse_json(self.body)

    def set_json(self, value: Any, content_type: str | None = None) -> None:
        self.body = json.dumps(value).encode()
        if content_type or not self.headers.get("Content-Type"):
            self.headers.set("Content-Type", content_type or "application/json")


class Close:
    """Answer nothing and close the connection; `reset=True` sends a TCP RST."""

    def __init__(self, reset: bool = False) -> None:
        self.reset = reset


# What a request hook may return: nothing (forward), a fabricated Response, or Close.
Reply = Response | Close | None


@dataclass(frozen=True)
class Logged:
    """One exchange as the proxy remembers it: no headers, no bodies, no secrets."""

    at: float  # wall clock (time.time()), comparable with the timeline of the run
    method: str
    path: str
    status: int | None  # None: the connection was closed without an answer
    mutations: tuple[str, ...]


class Exchange:
    """One request/response pair in flight, handed to mutation hooks.

    Hooks use it to reach the upstream themselves (`forward`), to borrow the
    real credentials (`real_authorization`) and to keep per-mutation memory
    (`state`, shared by every exchange of one proxy session).
    """

    def __init__(self, proxy: FaultProxy, request: Request, state: dict) -> None:
        self.proxy = proxy
        self.request = request
        self.state = state

    def forward(
        self,
        method: str | None = None,
        target: str | None = None,
        *,
        body: bytes | None = None,
        headers: dict | None = None,
    ) -> Response:
        """Send a request upstream now (default: this request as it currently stands)."""
        req = self.request
        hdrs = CaseInsensitiveDict(req.headers if headers is None else headers)
        return self.proxy.upstream(method or req.method, target or req.target, hdrs, req.body if body is None else body)

    def real_authorization(self) -> str:
        return self.proxy.real_authorization()


# ----------------------------------------------------------------- mutations (protocol)


class MutationLike:
    """What the proxy needs from a mutation (`faultproxy.mutation.Mutation` is the one implementation).

    `skip`: let the first N matching exchanges through untouched; `times`: apply to at most N exchanges.
    """

    name: str
    skip: int
    times: int | None
    request: Any  # the request hook, or None for response-only mutations

    def matches(self, request: Request) -> bool: ...  # pragma: no cover
    def wants(self, response: Response) -> bool: ...  # pragma: no cover
    def apply_request(self, exchange: Exchange) -> Reply: ...  # pragma: no cover
    def apply_response(self, exchange: Exchange, response: Response) -> Response: ...  # pragma: no cover


@dataclass
class _Armed:
    """A mutation plus its counters inside one proxy session."""

    mutation: MutationLike
    seen: int = 0  # matching exchanges so far
    applied: int = 0  # exchanges its hooks were applied to (what `times` limits)
    fired: int = 0  # exchanges it actually changed
    state: dict = field(default_factory=dict)


# ----------------------------------------------------------------- the server


class FaultProxy:
    """A threaded proxy on 127.0.0.1 forwarding to `upstream`, applying `mutations` in order.

    Use it as a context manager; `url` is what the suite under test is pointed at.
    `die_after=N` makes the target "die" after N requests: the listener is
    closed (new connections are refused) and open connections are dropped.
    """

    def __init__(
        self,
        upstream: str,
        mutations: Iterable[MutationLike] = (),
        *,
        credentials: Credentials | None = None,
        die_after: int | None = None,
        record_requests: bool = False,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.upstream_url = upstream.rstrip("/")
        self.tls = tls  # serve HTTPS with this server context (a deployment behind TLS)
        self.credentials = credentials
        self.die_after = die_after
        # With record_requests, every request is kept in memory (credentials replaced by a
        # placeholder) so that tests can ask which requests a mutation would have matched.
        self.recorded: list[tuple[float, Request]] | None = [] if record_requests else None
        self._armed = [_Armed(m) for m in mutations]
        self._lock = threading.Lock()
        self._local = threading.local()
        self._token: str | None = None
        self._count = 0
        self._dead = threading.Event()
        self.log: list[Logged] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------
    def __enter__(self) -> FaultProxy:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        handler = type("Handler", (_Handler,), {"proxy": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        if self.tls is not None:  # a failed handshake is an OSError in accept(): the server shrugs it off
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="faultproxy", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close every connection; safe to call twice or after the target died."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            server.close_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    @property
    def port(self) -> int:
        assert self._server is not None, "the proxy is not running"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    # -- what tests read back ----------------------------------------------
    def fired(self, name: str) -> int:
        """How many exchanges mutation `name` changed."""
        return sum(a.fired for a in self._armed if a.mutation.name == name)

    def applied(self, name: str) -> int:
        """How many exchanges mutation `name` was applied to (counted when the decision is taken)."""
        return sum(a.applied for a in self._armed if a.mutation.name == name)

    # -- upstream access ---------------------------------------------------
    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # never route the local target through an environment proxy
            self._local.session = session
        return session

    def upstream(self, method: str, target: str, headers: CaseInsensitiveDict, body: bytes) -> Response:
        """Forward one request to the real Airflow; headers (Authorization included) go as they are."""
        out = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
        out["Accept-Encoding"] = "identity"  # bodies must stay readable for mutations
        resp = self._session().request(
            method,
            self.upstream_url + target,
            headers=out,
            data=body or None,
            allow_redirects=False,
            timeout=UPSTREAM_TIMEOUT,
        )
        hdrs = CaseInsensitiveDict({k: v for k, v in resp.headers.items() if k.lower() not in HOP_BY_HOP})
        return Response(resp.status_code, hdrs, resp.content)

    def real_authorization(self) -> str:
        """An Authorization value carrying the real credentials (minted once for JWT targets)."""
        creds = self.credentials
        if creds is None:
            raise RuntimeError("this mutation needs the proxy to know the real credentials")
        if creds.kind == "basic":
            return "Basic " + base64.b64encode(f"{creds.user}:{creds.password}".encode()).decode()
        with self._lock:
            if self._token is None:
                resp = self._session().post(
                    f"{self.upstream_url}/auth/token",
                    timeout=UPSTREAM_TIMEOUT,
                    json={"username": creds.user, "password": creds.password},
                )
                resp.raise_for_status()
                self._token = resp.json()["access_token"]
            return f"Bearer {self._token}"

    # -- one exchange ------------------------------------------------------
    def handle(self, request: Request) -> tuple[Response | Close, tuple[str, ...]]:
        """Apply request hooks, forward, apply response hooks. Returns the answer and the mutations that fired."""
        if self.recorded is not None:
            self.recorded.append((time.time(), request.without_secrets()))
        with self._lock:
            self._count += 1
            if self.die_after is not None and self._count > self.die_after and not self._dead.is_set():
                self._dead.set()
                threading.Thread(target=self._die, daemon=True).start()
        if self._dead.is_set():
            return Close(), ("target-died",)
        # Mutations with a request hook are counted (skip/times) when the request matches;
        # response-only mutations when the upstream status is one they act on, so that
        # `skip=1` means "the first exchange that would have been changed" either way.
        early: list[_Armed] = []
        late: list[_Armed] = []
        with self._lock:
            for armed in self._armed:
                if not armed.mutation.matches(request):
                    continue
                if armed.mutation.request is None:
                    late.append(armed)
                elif self._take(armed):
                    early.append(armed)
        fired: list[str] = []
        for armed in early:
            before = _snapshot(request)
            reply = armed.mutation.apply_request(Exchange(self, request, armed.state))
            if reply is not None or _snapshot(request) != before:
                self._count_fire(armed, fired)
            if reply is not None:
                return reply, tuple(fired)
        response = self.upstream(request.method, request.target, request.headers, request.body)
        with self._lock:
            late = [a for a in late if a.mutation.wants(response) and self._take(a)]
        for armed in early + late:
            before = _snapshot(response)
            response = armed.mutation.apply_response(Exchange(self, request, armed.state), response)
            if _snapshot(response) != before:
                self._count_fire(armed, fired)
        return response, tuple(fired)

    @staticmethod
    def _take(armed: _Armed) -> bool:
        """Count one applicable exchange; False while skipping or once `times` is used up (lock held).

        Counted when the decision is taken, not when the hook finishes: a stalled
        exchange must not let a concurrent retry through the same mutation.
        """
        armed.seen += 1
        m = armed.mutation
        if armed.seen <= m.skip or (m.times is not None and armed.applied >= m.times):
            return False
        armed.applied += 1
        return True

    def _count_fire(self, armed: _Armed, fired: list[str]) -> None:
        if armed.mutation.name in fired:
            return
        with self._lock:
            armed.fired += 1
        fired.append(armed.mutation.name)

    def _die(self) -> None:
        """The target "dies": stop listening (connections are refused from now on)."""
        server = self._server
        if server is not None:
            server.shutdown()
            server.server_close()

    def record(self, method: str, path: str, status: int | None, mutations: tuple[str, ...]) -> None:
        self.log.append(Logged(time.time(), method, path, status, mutations))


def _snapshot(message: Request | Response) -> tuple:
    """Enough of a message to tell whether a hook changed it."""
    if isinstance(message, Request):
        return (message.method, message.path, repr(message.query), repr(sorted(message.headers.items())), message.body)
    return (message.status, repr(sorted(message.headers.items())), message.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()

    def process_request(self, request, client_address):  # track sockets so stop() can drop keep-alives
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def close_all(self) -> None:
        with self._conns_lock:
            conns, self._conns = list(self._conns), set()
        for sock in conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    """Reads one request, lets the proxy decide, writes the answer (HTTP/1.1 keep-alive)."""

    proxy: FaultProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - never print (could carry secrets)
        pass

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        request = Request(
            self.command,
            parts.path,
            parse_qs(parts.query, keep_blank_values=True),
            CaseInsensitiveDict(self.headers.items()),
            self._read_body(),
        )
        try:
            answer, fired = self.proxy.handle(request)
        except requests.RequestException:
            answer, fired = Response.of_json(502, {"error": "faultproxy: upstream unreachable"}), ("upstream-error",)
        if isinstance(answer, Close):
            self.proxy.record(request.method, request.path, None, fired)
            self.close_connection = True
            if answer.reset:  # RST instead of FIN: the client sees "connection reset by peer"
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        self.proxy.record(request.method, request.path, answer.status, fired)
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            if name.lower() not in HOP_BY_HOP and name.lower() not in ("date", "server"):
                self.send_header(name, value)
        body = b"" if request.method == "HEAD" or answer.status in (204, 304) else answer.body
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle
