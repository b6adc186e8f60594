"""`Mutation`: one way a server can break the contract, and the building blocks to say how.

A mutation is data: a name, the check ids it must trip, the versions it
applies to, a matcher (method, path regex, anonymity, query and body
predicates, upstream status) and two hooks. The request hook may rewrite the
request before it is forwarded, or answer it itself (a fabricated success, an
error, a closed connection); the response hook may rewrite what the real
Airflow answered. The helpers below build those hooks so that the corpus
reads like a table rather than like code.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from .proxy import Close, Exchange, Reply, Request, Response

API = r"/api/v[12]"  # `{api}` in a path pattern: either API generation

RequestHook = Callable[[Exchange], Reply]
ResponseHook = Callable[[Exchange, Response], Response]


@dataclass(frozen=True)
class Mutation:
    """A contract violation the proxy injects, and the check(s) that must catch it.

    - `catches`: result ids (`scenario.dag_runs.state_is_read_only`) that must end `failed`.
    - `versions`: PEP 440 specifier of the Airflow versions it applies to ("" = all).
    - `method`/`path`: which exchanges it touches (`path` is a regex matched against the
      whole URL path; `{api}` stands for `/api/v1` or `/api/v2`).
    - `anonymous`: True = only requests without credentials, False = only with, None = both.
    - `query`/`body`: optional predicates on the query dict and the parsed JSON body.
    - `where`: an optional predicate on the whole request, for a fault that depends on several of
      its parts at once (its operation and what its query and body carry, see faultproxy/crashes.py).
    - `status`: the response hook runs only when upstream answered one of these.
    - `skip`: let the first N matching exchanges through (e.g. the suite's own version detection).
    - `times`: apply to at most N exchanges (None: every matching one).
    """

    name: str
    catches: tuple[str, ...]
    why: str
    method: str | tuple[str, ...] = "GET"
    path: str = ".*"
    versions: str = ""
    anonymous: bool | None = None
    query: Callable[[dict[str, list[str]]], bool] | None = None
    body: Callable[[Any], bool] | None = None
    where: Callable[[Request], bool] | None = None
    status: tuple[int, ...] = ()
    request: RequestHook | None = None
    response: ResponseHook | None = None
    skip: int = 0
    times: int | None = None
    _regex: re.Pattern = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_regex", re.compile(self.path.replace("{api}", API)))
        if isinstance(self.catches, str):
            object.__setattr__(self, "catches", (self.catches,))

    # -- applicability -------------------------------------------------------
    def applies_to(self, airflow_version: str) -> bool:
        return Version(airflow_version) in SpecifierSet(self.versions, prereleases=True)

    def matches(self, request: Request) -> bool:
        methods = (self.method,) if isinstance(self.method, str) else self.method
        if "*" not in methods and request.method not in methods:
            return False
        if not self._regex.fullmatch(request.path):
            return False
        if self.anonymous is not None and request.anonymous != self.anonymous:
            return False
        if self.query is not None and not self.query(request.query):
            return False
        if self.body is not None and not self.body(request.json()):
            return False
        return self.where is None or self.where(request)

    # -- hooks (called by the proxy) -----------------------------------------
    def apply_request(self, exchange: Exchange) -> Reply:
        return self.request(exchange) if self.request else None

    def wants(self, response: Response) -> bool:
        """Whether the response hook acts on this upstream answer (the `status` filter)."""
        return self.response is not None and (not self.status or response.status in self.status)

    def apply_response(self, exchange: Exchange, response: Response) -> Response:
        return self.response(exchange, response) if self.wants(response) else response

    def __str__(self) -> str:
        return self.name


# =============================================================== request hooks


def reply(
    status: int, json: Any = None, *, content_type: str = "application/json", headers: dict[str, str] | None = None
) -> RequestHook:
    """Answer without asking the target (a fabricated success or error)."""

    def hook(ex: Exchange) -> Reply:
        resp = Response.of_json(status, json, content_type) if json is not None else Response(status)
        for name, value in (headers or {}).items():
            resp.headers.set(name, value)
        return resp

    return hook


def reply_page(status: int, page: str, content_type: str) -> RequestHook:
    """Answer without asking the target, with a page that is not JSON (a framework's bare crash page)."""

    def hook(ex: Exchange) -> Reply:
        resp = Response(status, body=page.encode())
        resp.headers.set("Content-Type", content_type)
        return resp

    return hook


def close_connection(reset: bool = False) -> RequestHook:
    """Drop the connection without an answer (FIN, or RST with `reset=True`)."""
    return lambda ex: Close(reset)


def delay(seconds: float, then: RequestHook | None = None) -> RequestHook:
    """Hold the request for `seconds`, then forward it (or run `then`)."""

    def hook(ex: Exchange) -> Reply:
        import time  # noqa: PLC0415

        time.sleep(seconds)
        return then(ex) if then else None

    return hook


def with_real_credentials(ex: Exchange) -> Reply:
    """Forward with the target's real credentials whatever the client sent: an auth bypass."""
    ex.request.headers.set("Authorization", ex.real_authorization())
    return None


def set_query(**params: str | None) -> RequestHook:
    """Rewrite query parameters (None removes one)."""

    def hook(ex: Exchange) -> Reply:
        for name, value in params.items():
            if value is None:
                ex.request.query.pop(name, None)
            else:
                ex.request.query[name] = [value]
        return None

    return hook


def edit_query(fn: Callable[[dict[str, list[str]]], None]) -> RequestHook:
    """Rewrite the query dict in place."""

    def hook(ex: Exchange) -> Reply:
        fn(ex.request.query)
        return None

    return hook


def edit_request_json(fn: Callable[[Any], Any]) -> RequestHook:
    """Rewrite the JSON request body (fn returns the new body)."""

    def hook(ex: Exchange) -> Reply:
        ex.request.set_json(fn(ex.request.json()))
        return None

    return hook


def pretend_applied(status: int = 200, **overrides: Any) -> RequestHook:
    """Swallow a write: answer `status` with the object as it is now (a GET of the same path), changed by nothing.

    This is how "accepted but ignored" servers are simulated (a PATCH that does
    not change the object, a DELETE that answers 204 and leaves it in place).
    `overrides` are merged into the echoed object (to claim a change that did not happen).
    """

    def hook(ex: Exchange) -> Reply:
        if status == 204:
            return Response(204)
        current = ex.forward("GET", ex.request.path, body=b"")
        body = current.json() if current.status == 200 else {}
        if isinstance(body, dict):
            body.update(overrides)
        return Response.of_json(status, body)

    return hook


# =============================================================== response hooks


def set_status(status: int) -> ResponseHook:
    def hook(ex: Exchange, resp: Response) -> Response:
        resp.status = status
        return resp

    return hook


def set_content_type(content_type: str) -> ResponseHook:
    def hook(ex: Exchange, resp: Response) -> Response:
        resp.headers.set("Content-Type", content_type)
        return resp

    return hook


def replace_body(status: int | None, json: Any, content_type: str = "application/json") -> ResponseHook:
    """Replace the body (and the status, unless None) with `json`."""

    def hook(ex: Exchange, resp: Response) -> Response:
        if status is not None:
            resp.status = status
        resp.set_json(json, content_type)
        return resp

    return hook


def edit_json(fn: Callable[[Any], Any]) -> ResponseHook:
    """Rewrite the JSON response body (fn may mutate in place and return None, or return a new value)."""

    def hook(ex: Exchange, resp: Response) -> Response:
        body = resp.json()
        if body is None:
            return resp
        new = fn(body)
        resp.set_json(body if new is None else new)
        return resp

    return hook


def edit_items(list_key: str, fn: Callable[[dict], Any]) -> ResponseHook:
    """Apply fn to every item of a collection (`dags`, `import_errors`, ...)."""

    def each(body: Any) -> None:
        for item in body.get(list_key, []) if isinstance(body, dict) else []:
            fn(item)

    return edit_json(each)


def drop_field(*names: str) -> Callable[[dict], None]:
    def fn(obj: dict) -> None:
        for name in names:
            obj.pop(name, None)

    return fn


def set_fields(**values: Any) -> Callable[[dict], None]:
    def fn(obj: dict) -> None:
        if isinstance(obj, dict):
            obj.update(values)

    return fn


# =============================================================== predicates


def has_key(*keys: str) -> Callable[[Any], bool]:
    """Body predicate: the JSON body is an object with all of `keys`."""
    return lambda body: isinstance(body, dict) and all(k in body for k in keys)


def lacks_key(key: str) -> Callable[[Any], bool]:
    return lambda body: isinstance(body, dict) and key not in body


def param(name: str, predicate: Callable[[str], bool] = lambda v: True) -> Callable[[dict], bool]:
    """Query predicate: parameter `name` is present and its value satisfies `predicate`."""

    def check(query: dict[str, list[str]]) -> bool:
        values = query.get(name)
        return bool(values) and predicate(values[0])

    return check


def no_param(name: str) -> Callable[[dict], bool]:
    return lambda query: name not in query


def as_int(value: str, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


# =============================================================== identities


def caller(request: Request) -> str | None:
    """The user a request acts as: the Basic user, or the `sub` of a bearer JWT (None: anonymous or unknown)."""
    auth = request.headers.get("Authorization") or ""
    scheme, _, value = auth.partition(" ")
    try:
        if scheme.lower() == "basic":
            return base64.b64decode(value).decode().split(":", 1)[0]
        if scheme.lower() == "bearer" and value.count(".") == 2:
            payload = value.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            return str(claims.get("sub")) if isinstance(claims, dict) else None
    except (ValueError, UnicodeDecodeError):
        return None
    return None


def when_caller(user: str, hook: RequestHook) -> RequestHook:
    """Apply a request hook only to requests made as `user` (the others pass unchanged, and do not count as fired)."""
    return lambda ex: hook(ex) if caller(ex.request) == user else None
