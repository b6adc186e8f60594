"""Airflow-specific response checks, in one registry.

Each check is a small function `(response, case) -> None` that raises
`AssertionError` with a message a person can act on, like schemathesis'
own checks. They look only at what is on the wire (status, headers, body,
the request that was sent) and at which API generation answered
(`/api/v1` is Airflow 2, `/api/v2` Airflow 3), so they need no target
configuration. The property tests run every registered check on every
response; `airflow-conformance list` and the docs can read `CHECKS`.

`response` is a schemathesis `Response` or a `requests.Response`; `case`
is the schemathesis `Case` that produced it (or None for a bare request).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import parse_qs, urlsplit

CheckFn = Callable[[object, object], None]

# Keys an error body may carry, per API generation.
V1_ERROR_KEYS = frozenset({"type", "title", "status", "detail", "instance"})
V2_ERROR_KEYS = frozenset({"detail"})
MASKED = frozenset({"", "***"})


@dataclass(frozen=True)
class Check:
    name: str
    fn: CheckFn
    description: str

    def __call__(self, response, case) -> None:
        self.fn(response, case)


_MARKED: dict[str, Check] = {}  # every function marked @check, in the order written


def check(fn: CheckFn) -> CheckFn:
    """Register `fn` as an Airflow check (`CHECKS` holds every registered one, read-only once the module is loaded).

    Its name is the check's name and its docstring's first line the MUST it stands for.
    """
    doc = (fn.__doc__ or "").strip().splitlines()
    _MARKED[fn.__name__] = Check(fn.__name__, fn, doc[0] if doc else fn.__name__)
    return fn


def run_all(response, case, errors: list | None = None) -> list[tuple[str, str]]:
    """Run every registered check; (check name, message) for each that failed.

    A check that crashes has not judged the response: it is added to `errors` as
    (check name, exception), so the caller reports it as an error instead of a pass.
    """
    failures = []
    for item in CHECKS.values():
        try:
            item.fn(response, case)
        except AssertionError as exc:
            failures.append((item.name, str(exc) or item.description))
        except Exception as exc:  # noqa: BLE001 - reported by the caller
            if errors is None:
                raise
            errors.append((item.name, f"{type(exc).__name__}: {exc}"))
    return failures


def registered_checks() -> tuple[str, ...]:
    return tuple(CHECKS)


# Checks run beside the registered ones, by name, with the MUST each stands for: schemathesis'
# checks, the property engine's and the chains' own, the scenario assertions, and the official
# clients' reading of the recorded answers (conformance.clients). Known
# deviations name these; the reports say which MUST a failure broke.
OTHER_CHECKS: dict[str, str] = {
    "not_a_server_error": "A response MUST NOT be a server error (5xx).",
    "status_code_conformance": "A response status MUST be one the reference spec documents for the operation.",
    "content_type_conformance": "A response Content-Type MUST be one the reference spec documents (an answer without "
    "content needs none: RFC 9110 8.3).",
    "response_schema_conformance": "A response body MUST match the schema the reference spec documents.",
    "negative_data_rejection": "Input that violates the reference spec MUST be rejected with 4xx (an undeclared query "
    "parameter and an unmatched Accept header MAY be ignored: OpenAPI names no duty to "
    "refuse them; RFC 9110 12.5.1 lets a server disregard Accept; a query value is judged "
    "as the text sent, and `format` is an annotation).",
    "positive_data_acceptance": "Input that satisfies the reference spec MUST NOT be refused with a status the operation "
    "does not document (a documented 4xx is a response the spec lists, whatever its reason).",
    "auth_not_ignored": "A protected operation MUST refuse a request without credentials (401/403).",
    "required_fields_enforced": "A write body lacking a required field MUST be refused with 4xx.",
    "chain_status": "Each step of an object's lifecycle MUST answer its documented status.",
    "chain_read_back": "A created object MUST read back as written.",
    "chain_update_applied": "An update MUST be applied and read back.",
    "chain_listed": "A created object MUST be listed by its collection.",
    "chain_conf_round_trip": "A run's conf MUST read back as triggered.",
    "chain_task_instances": "A run's task instances MUST be listed.",
    "chain_xcom": "A task's pushed XCom MUST be readable.",
    "status": "A scenario step MUST answer the status the version documents.",
    "assertion": "A scenario's documented behaviour MUST hold.",
    "response_schema": "A scenario's response MUST match the reference spec.",
    "json": "A JSON API response MUST have a JSON body.",
    "client_parse": "The official Python client of the server's release MUST read every successful answer with its own model.",
}


def check_names() -> frozenset[str]:
    """Every check name a result or a deviation may refer to."""
    return frozenset(CHECKS) | frozenset(OTHER_CHECKS)


def must_of(name: str) -> str:
    """The MUST sentence a check stands for."""
    item = CHECKS.get(name)
    return item.description if item is not None else OTHER_CHECKS.get(name, name)


# -- what a response looks like, whatever client produced it ----------------
def status_of(response) -> int:
    return int(response.status_code)


def content_type_of(response) -> str:
    headers = response.headers
    value = headers.get("Content-Type") or headers.get("content-type") or ""
    if isinstance(value, list):
        value = value[0] if value else ""
    return value.split(";")[0].strip().lower()


def body_of(response) -> object:
    """The JSON body, or a sentinel when the body is empty or not JSON."""
    raw = response.content
    if not raw:
        return _NO_JSON
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return _NO_JSON


class _NoJson:
    def __repr__(self) -> str:
        return "<no JSON body>"


_NO_JSON = _NoJson()


def api_generation(response) -> str:
    """'v1' (Airflow 2), 'v2' (Airflow 3) or '' from the URL that was requested."""
    path = urlsplit(response.request.url or "").path
    if "/api/v1/" in path or path.endswith("/api/v1"):
        return "v1"
    if "/api/v2/" in path or path.endswith("/api/v2"):
        return "v2"
    return ""


def query_of(response) -> dict[str, list[str]]:
    return parse_qs(urlsplit(response.request.url or "").query, keep_blank_values=True)


def _short(value: object, limit: int = 200) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[:limit] + "..."


def _list_fields(body: dict) -> dict[str, list]:
    return {k: v for k, v in body.items() if isinstance(v, list)}


# -- the checks ---------------------------------------------------------------
@check
def error_body_shape(response, case) -> None:
    """An error response with a JSON body MUST have the API generation's error shape."""
    status = status_of(response)
    body = body_of(response)
    if status < 400 or body is _NO_JSON:
        return
    generation = api_generation(response)
    if generation == "v1":
        problem = body if isinstance(body, dict) else {}  # a body that is no object lacks every member
        missing = [k for k in ("type", "title", "status") if k not in problem]
        assert not missing, (
            f"HTTP {status} error body lacks {missing}: Airflow 2 errors are problem details "
            f"{{type, title, status, detail}}; got {_short(body)}"
        )
        assert problem.get("status") == status, (
            f"HTTP {status} error body says status {problem.get('status')!r}; problem details must repeat the HTTP status"
        )
    elif generation == "v2":
        assert isinstance(body, dict) and "detail" in body, (
            f'HTTP {status} error body lacks `detail`: Airflow 3 errors are {{"detail": ...}}; got {_short(body)}'
        )


@check
def auth_error_carries_no_data(response, case) -> None:
    """A 401/403 response MUST carry an error, never the data the caller was refused."""
    status = status_of(response)
    if status not in (401, 403):
        return
    body = body_of(response)
    if body is _NO_JSON:
        return
    allowed = V1_ERROR_KEYS if api_generation(response) == "v1" else V2_ERROR_KEYS
    assert isinstance(body, dict), (
        f"HTTP {status} answered with a JSON {type(body).__name__}, not an error object: {_short(body)}"
    )
    extra = sorted(set(body) - allowed)
    assert not extra, f"HTTP {status} body carries data besides the error ({extra}): {_short(body)}"


def _connections_in(body: object) -> list[dict]:
    if isinstance(body, dict):
        if "connection_id" in body and "conn_type" in body:
            return [body]
        found = []
        for value in body.values():
            if isinstance(value, list):
                found += [v for v in value if isinstance(v, dict) and "connection_id" in v]
        return found
    return []


def _sent_passwords(case) -> set[str]:
    body = getattr(case, "body", None)
    found: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            value = node.get("password")
            if isinstance(value, str) and value not in MASKED:
                found.add(value)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(body)
    return found


@check
def connection_password_hidden(response, case) -> None:
    """A response MUST NOT return a connection's password in clear: it is write-only."""
    if not 200 <= status_of(response) < 300:
        return
    body = body_of(response)
    sent = _sent_passwords(case)
    for conn in _connections_in(body):
        password = conn.get("password")
        if password is None or (isinstance(password, str) and set(password) <= {"*"}):
            continue
        what = (
            "the password this request set"
            if isinstance(password, str) and password in sent
            else "an unmasked password"
        )
        raise AssertionError(
            f"connection {conn.get('connection_id')!r} returns {what} "
            f"({len(str(password))} chars) in its `password` field; passwords are write-only"
        )
    if sent and response.content:
        text = response.content.decode("utf-8", "replace")
        leaked = [p for p in sent if len(p) >= 8 and p in text]
        assert not leaked, "the response body contains the connection password that the request set"


@check
def total_entries_consistent(response, case) -> None:
    """`total_entries` MUST be a non-negative integer, at least the number of items returned."""
    if not 200 <= status_of(response) < 300:
        return
    body = body_of(response)
    if not isinstance(body, dict) or "total_entries" not in body:
        return
    total = body["total_entries"]
    assert isinstance(total, int) and not isinstance(total, bool) and total >= 0, (
        f"total_entries is {total!r}, not a non-negative integer"
    )
    for name, items in _list_fields(body).items():
        offset = _int_param(query_of(response), "offset") or 0
        if offset == 0:
            assert total >= len(items), f"total_entries {total} is smaller than the {len(items)} `{name}` returned"


def _int_param(query: dict[str, list[str]], name: str) -> int | None:
    values = query.get(name)
    if not values:
        return None
    try:
        return int(values[-1])
    except ValueError:
        return None


@check
def limit_honoured(response, case) -> None:
    """A list answered to `limit=N` (N >= 1) MUST hold at most N items."""
    if not 200 <= status_of(response) < 300:
        return
    limit = _int_param(query_of(response), "limit")
    if limit is None or limit < 1:
        return
    body = body_of(response)
    if not isinstance(body, dict) or "total_entries" not in body:
        return
    for name, items in _list_fields(body).items():
        assert len(items) <= limit, f"limit={limit} but {len(items)} `{name}` were returned"


@check
def no_content_has_no_body(response, case) -> None:
    """A 204 No Content response MUST have an empty body."""
    if status_of(response) == 204:
        assert not response.content, f"HTTP 204 with a body: {response.content[:100]!r}"


# every check of this module, in the order written: read-only once the module is loaded
CHECKS: Mapping[str, Check] = MappingProxyType(dict(_MARKED))
