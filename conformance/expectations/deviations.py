"""Known upstream deviations: the model, how one is matched, and what makes an entry acceptable.

A deviation turns a failure into `known_deviation`, so a loose one hides real
regressions. Every entry is therefore scoped to named operations (or scenario
steps) and named checks, and matches only the server's answer: its status,
content type and a pattern on the body (or a JSON pointer into it, or the
schema error the response produced). The request may contribute structured
facts only (which query parameters or body fields were present, which kind of
invalid input was generated), never its text, so an unrelated failure whose
request happens to contain a word is not excused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from conformance.expectations.mutations import MUTATIONS
from conformance.expectations.trust import SpecFor
from conformance.expectations.trust import problems as trust_problems
from conformance.model.classes import FailureClass, classify

UNREPORTED = "unreported"
UPSTREAM_REF = re.compile(r"^[\w.-]+/[\w.-]+#\d+$")
GLOB = re.compile(r"[*?\[\]]")
ENTRY_KEYS = frozenset(
    {
        "id",
        "versions",
        "client",
        "operations",
        "scenarios",
        "checks",
        "response",
        "trigger",
        "control",
        "backend",
        "intermittent",
        "reproduce",
        "upstream",
        "summary",
        "spec_says",
        "observed_on",
    }
)
CLIENT_CHECK = "client_parse"  # an official client's reading of a recorded answer (conformance.clients)
SCOPED_BY_OPERATION = ("property.", "client.")  # result ids excused per operation, not per scenario step
RESPONSE_KEYS = frozenset({"status", "content_type", "body", "pointer", "schema_error"})
TRIGGER_KEYS = frozenset({"query", "body", "body_empty", "invalid", "body_types", "body_values", "body_not_in"})
JSON_TYPES = frozenset({"object", "array", "string", "number", "boolean", "null"})
REPRODUCE_KEYS = frozenset(
    {"operation", "path", "query", "body", "headers", "anonymous", "setup", "each", "content_type", "data", "mutate"}
)
BACKENDS = ("sqlite", "postgres", "mysql")


@dataclass(frozen=True)
class Observation:
    """One failed check, as facts a deviation may be matched against.

    `body` is the response body (text, possibly cut); `schema_error` the
    response-schema error ("<instance path>: <message>"); `invalid` the kinds
    of invalid input schemathesis generated ("query:additionalProperties");
    `query` and `body_fields` the names present in the request.
    """

    result_id: str
    check: str
    status: int | None = None
    content_type: str = ""
    body: str = ""
    json: object = None
    operation: str = ""
    step: str = ""
    schema_error: str = ""
    invalid: frozenset[str] = frozenset()
    query: frozenset[str] = frozenset()
    body_fields: frozenset[str] = frozenset()
    body_empty: bool | None = None
    backend: str = ""
    client: str = ""  # the apache-airflow-client release that read the answer (client checks only)
    request_json: object = None  # the request body as JSON (for a trigger's `body_types`), None when not JSON


def request_facts(url: str, sent: object) -> dict:
    """The facts of a request a trigger is matched on (`query`, `body_fields`, `body_empty`, `request_json`),
    from the URL and body as sent; the same for a property case's answer and a scenario step's."""
    query = frozenset(k for k, _ in parse_qsl(urlsplit(url or "").query, keep_blank_values=True))
    if isinstance(sent, bytes):
        sent = sent.decode("utf-8", "replace")
    if sent in (None, ""):
        return {"query": query, "body_fields": frozenset(), "body_empty": True, "request_json": None}
    try:
        parsed = json.loads(str(sent))
    except ValueError:
        return {"query": query, "body_fields": frozenset(), "body_empty": False, "request_json": None}
    fields = frozenset(parsed) if isinstance(parsed, dict) else frozenset()
    return {"query": query, "body_fields": fields, "body_empty": parsed in ({}, [], ""), "request_json": parsed}


def _as_tuple(value) -> tuple:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,)


def resolve_pointer(doc: object, pointer: str) -> object:
    """RFC 6901 JSON pointer; a missing path gives a sentinel that matches nothing."""
    if pointer in ("", "/"):
        return doc
    node = doc
    for raw in pointer.lstrip("/").split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


_MISSING = object()


@dataclass(frozen=True)
class Signature:
    """What the server answered when the defect occurs."""

    status: tuple[int, ...]
    content_type: tuple[str, ...] = ()
    body: re.Pattern | None = None
    pointer: tuple[tuple[str, re.Pattern], ...] = ()
    schema_error: re.Pattern | None = None

    @classmethod
    def parse(cls, raw: dict) -> Signature:
        return cls(
            status=tuple(int(s) for s in _as_tuple(raw.get("status"))),
            content_type=tuple(str(c) for c in _as_tuple(raw.get("content_type"))),
            body=re.compile(raw["body"]) if raw.get("body") else None,
            pointer=tuple((p, re.compile(str(v))) for p, v in (raw.get("pointer") or {}).items()),
            schema_error=re.compile(raw["schema_error"]) if raw.get("schema_error") else None,
        )

    def matches(
        self, status: int | None, content_type: str, body: str, doc: object = None, schema_error: str = ""
    ) -> bool:
        if self.status and status not in self.status:
            return False
        if self.content_type and content_type not in self.content_type:
            return False
        if self.body is not None and not self.body.search(body or ""):
            return False
        for pointer, pattern in self.pointer:
            values = _at(doc, pointer) if "*" in pointer.split("/") else [resolve_pointer(doc, pointer)]
            if not any(
                v is not _MISSING and pattern.search(v if isinstance(v, str) else _json_text(v)) for v in values
            ):
                return False  # a `*` part: some value it reaches matches
        return not (self.schema_error is not None and not self.schema_error.search(schema_error or ""))

    def describe(self) -> str:
        parts = [f"HTTP {' or '.join(str(s) for s in self.status)}"] if self.status else []
        if self.content_type:
            parts.append(" or ".join(c or "(no Content-Type)" for c in self.content_type))
        if self.body is not None:
            parts.append(f"body ~ /{self.body.pattern}/")
        parts += [f"{p} ~ /{rx.pattern}/" for p, rx in self.pointer]
        if self.schema_error is not None:
            parts.append(f"schema error ~ /{self.schema_error.pattern}/")
        return ", ".join(parts)


def _json_text(value: object) -> str:
    import json  # noqa: PLC0415

    return json.dumps(value, default=str)


@dataclass(frozen=True)
class Trigger:
    """What in the request causes the defect, as structured facts (never the request's text).

    An answer that cannot tell one defect from another (a bare 5xx page, a framework's
    generic message) is excused only when the request carried the trigger: query
    parameters or top-level body fields present, an empty body, the kinds of invalid
    input generated, or JSON types at body pointers (`/actions/*/entities/*: object`: carried when any
    value the pointer reaches has the type) or exact values there (`body_values`).
    """

    query: frozenset[str] = frozenset()
    body: frozenset[str] = frozenset()
    body_empty: bool | None = None
    invalid: frozenset[str] = frozenset()
    body_types: tuple[tuple[str, frozenset[str]], ...] = ()  # (pointer, `*` for any index or key; JSON types)
    body_values: tuple[tuple[str, str], ...] = ()  # (pointer, the exact JSON value there, as JSON text)
    # (pointer, the JSON values allowed there, as JSON texts): carried when a value there is none of them, or is absent
    body_not_in: tuple[tuple[str, frozenset[str]], ...] = ()

    @classmethod
    def parse(cls, raw: dict | None) -> Trigger:
        raw = raw or {}
        types = tuple(
            (str(p), frozenset(str(x) for x in _as_tuple(t))) for p, t in (raw.get("body_types") or {}).items()
        )
        values = tuple((str(p), _json_text(v)) for p, v in (raw.get("body_values") or {}).items())
        not_in = tuple(
            (str(p), frozenset(_json_text(v) for v in _as_tuple(allowed)))
            for p, allowed in (raw.get("body_not_in") or {}).items()
        )
        return cls(
            frozenset(_as_tuple(raw.get("query"))),
            frozenset(_as_tuple(raw.get("body"))),
            raw.get("body_empty"),
            frozenset(_as_tuple(raw.get("invalid"))),
            types,
            values,
            not_in,
        )

    def __bool__(self) -> bool:
        return bool(
            self.query
            or self.body
            or self.body_empty is not None
            or self.invalid
            or self.body_types
            or self.body_values
            or self.body_not_in
        )

    def matches(self, obs: Observation) -> bool:
        if not self.query <= obs.query or not self.body <= obs.body_fields:
            return False
        if self.body_empty is not None and obs.body_empty is not self.body_empty:
            return False
        # a `*` pointer is carried when any value there has the type (or value): one object entity is enough
        if not all(
            any(json_type(v) in want for v in _at(obs.request_json, pointer)) for pointer, want in self.body_types
        ):
            return False
        if not all(
            any(_json_text(v) == want for v in _at(obs.request_json, pointer)) for pointer, want in self.body_values
        ):
            return False
        if not all(
            any(v is _MISSING or _json_text(v) not in allowed for v in _at_or_absent(obs.request_json, pointer))
            for pointer, allowed in self.body_not_in
        ):
            return False
        # every kind of invalid input generated must be one the deviation names
        return not self.invalid or (bool(obs.invalid) and obs.invalid <= self.invalid)

    def describe(self) -> str:
        parts = [f"query parameter {q!r} present" for q in sorted(self.query)]
        parts += [f"body field {b!r} present" for b in sorted(self.body)]
        if self.body_empty is not None:
            parts.append("an empty body" if self.body_empty else "a non-empty body")
        parts += [f"body {p or '(root)'} is a JSON {' or '.join(sorted(t))}" for p, t in self.body_types]
        parts += [f"body {p} is {v}" for p, v in self.body_values]
        parts += [f"body {p} absent or none of {', '.join(sorted(allowed))}" for p, allowed in self.body_not_in]
        if self.invalid:
            parts.append("invalid input of kind " + " or ".join(sorted(self.invalid)))
        return "; ".join(parts)


def json_type(value: object) -> str:
    """The JSON Schema type name of a parsed JSON value ('missing' for the sentinel)."""
    if value is _MISSING:
        return "missing"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object" if isinstance(value, dict) else type(value).__name__


_WHERE = re.compile(r"^\[([^=\]]+)=([^\]]*)\]$")


def _at(doc: object, pointer: str) -> list:
    """Every value at a JSON pointer whose `*` parts stand for any index or key (empty when none).

    A part `[key=value]` stands for the items (or values) that are objects whose `key` is that string:
    `/actions/[action=delete]/entities/*` reaches the entities of delete actions only.
    """
    nodes = [doc]
    for raw in [p for p in pointer.lstrip("/").split("/") if p]:
        part = raw.replace("~1", "/").replace("~0", "~")
        where = _WHERE.match(part)
        nxt: list = []
        for node in nodes:
            children = list(node.values()) if isinstance(node, dict) else list(node) if isinstance(node, list) else []
            if where:
                nxt += [c for c in children if isinstance(c, dict) and c.get(where.group(1)) == where.group(2)]
            elif part == "*":
                nxt += children
            elif isinstance(node, dict) and part in node:
                nxt.append(node[part])
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                nxt.append(node[int(part)])
        nodes = nxt
    return nodes


def _at_or_absent(doc: object, pointer: str) -> list:
    """The values at the pointer, and the absent marker for each object where its last key is missing."""
    parent, _, last = pointer.rpartition("/")
    key = last.replace("~1", "/").replace("~0", "~")
    found = _at(doc, pointer)
    if key != "*" and not _WHERE.match(key):
        found += [_MISSING for node in _at(doc, parent) if isinstance(node, dict) and key not in node]
    return found


@dataclass(frozen=True)
class Deviation:
    """A known way a clean official Airflow release breaks its own contract."""

    id: str
    versions: str
    checks: tuple[str, ...]
    response: Signature
    upstream: str
    summary: str
    operations: tuple[str, ...] = ()
    scenarios: tuple[tuple[str, str], ...] = ()  # (result id, step)
    trigger: Trigger = field(default_factory=Trigger)
    control: tuple[dict, ...] = ()  # the reproduction without the trigger: must not produce the answer
    backend: str = ""
    intermittent: str = ""  # why it may or may not occur in a given run ("" when it always does)
    reproduce: tuple[dict, ...] = ()
    spec_says: str = ""
    client: str = ""  # PEP 440 range of apache-airflow-client releases: a defect of those clients, not of the server
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def parse(cls, raw: dict) -> Deviation:
        scenarios = tuple(
            (str(s.get("id")), str(s.get("step", ""))) for s in raw.get("scenarios") or [] if isinstance(s, dict)
        )
        return cls(
            id=str(raw.get("id")),
            versions=str(raw.get("versions", "")),
            checks=tuple(str(c) for c in _as_tuple(raw.get("checks"))),
            response=Signature.parse(raw.get("response") or {}),
            upstream=str(raw.get("upstream", "")),
            summary=str(raw.get("summary", "")),
            operations=tuple(str(o) for o in _as_tuple(raw.get("operations"))),
            scenarios=scenarios,
            trigger=Trigger.parse(raw.get("trigger")),
            backend=str(raw.get("backend") or ""),
            control=tuple(r for r in _as_tuple(raw.get("control")) if isinstance(r, dict)),
            intermittent=str(raw.get("intermittent") or ""),
            reproduce=tuple(r for r in _as_tuple(raw.get("reproduce")) if isinstance(r, dict)),
            spec_says=str(raw.get("spec_says") or ""),
            client=str(raw.get("client") or ""),
            raw=raw,
        )

    def applies_to(self, version: Version, backend: str = "") -> bool:
        if version not in SpecifierSet(self.versions, prereleases=True):
            return False
        return not self.backend or self.backend == backend

    def scoped_to(self, result_id: str, operation: str, step: str) -> bool:
        """Whether this entry may excuse a failure of this result (operation or scenario step)."""
        if result_id.startswith(SCOPED_BY_OPERATION):
            return bool(operation) and operation in self.operations
        return any(rid == result_id and (not want or want == step) for rid, want in self.scenarios)

    def reads_with(self, client: str) -> bool:
        """Whether this entry may excuse a reading by that client release ("" = not a client reading).

        A client defect (`client:` range) excuses only readings of those releases; a server defect that
        names the client check excuses every client's reading of that answer; neither excuses a server check.
        """
        if not self.client:
            return True
        return bool(client) and Version(client) in SpecifierSet(self.client, prereleases=True)

    def covers(self, obs: Observation) -> bool:
        """True when this failure is this deviation: same scope, same check, same answer."""
        if not self.scoped_to(obs.result_id, obs.operation, obs.step):
            return False
        if obs.check not in self.checks or not self.reads_with(obs.client):
            return False
        if self.backend and obs.backend != self.backend:
            return False
        if not self.response.matches(obs.status, obs.content_type, obs.body, obs.json, obs.schema_error):
            return False
        return self.trigger.matches(obs)

    def excuses_result(self, result_id: str) -> bool:
        """Whether a result is one this entry is recorded for (to notice when it stopped occurring)."""
        if result_id.startswith(SCOPED_BY_OPERATION):
            return result_id.split(".", 1)[1] in self.operations
        return any(rid == result_id for rid, _ in self.scenarios)

    @property
    def reference(self) -> str:
        return self.upstream or UNREPORTED

    @property
    def failure_class(self) -> FailureClass:
        """The class of what it excuses: its first check on its lowest recorded status."""
        status = min(self.response.status) if self.response.status else None
        kind = "client" if self.checks == (CLIENT_CHECK,) else ""
        return classify(self.checks[0] if self.checks else "", status, kind)

    def describe(self) -> str:
        return f"known upstream deviation {self.id} ({self.reference}): {self.summary}"


def parse_all(raw_entries: Iterable[dict]) -> list[Deviation]:
    return [Deviation.parse(item) for item in raw_entries if isinstance(item, dict)]


# -- lint -----------------------------------------------------------------------
def lint(
    raw_entries: list, known_checks: Iterable[str] = (), spec_for: SpecFor | None = None, releases: Iterable[str] = ()
) -> list[str]:
    """Problems with the deviation data (empty when every entry is acceptable).

    An entry is acceptable when it is scoped to explicit operations or scenario
    steps and named checks, matches on a response-side signature, names no request
    text, carries a reproduction for every operation it excuses, and cites either an
    upstream thread or `unreported`.
    """
    problems: list[str] = []
    seen: set[str] = set()
    checks_ok = set(known_checks)
    spec_for = _once_per_release(spec_for) if spec_for is not None else None
    for index, raw in enumerate(raw_entries or []):
        where = f"deviation #{index + 1}"
        if not isinstance(raw, dict):
            problems.append(f"{where}: not a mapping")
            continue
        ident = str(raw.get("id") or "")
        where = f"deviation {ident or '#' + str(index + 1)}"
        problems += [f"{where}: {p}" for p in _lint_entry(raw, checks_ok)]
        problems += [f"{where}: {p}" for p in trust_problems(raw, _in_range(raw, releases), spec_for)]
        if ident in seen:
            problems.append(f"{where}: duplicate id")
        seen.add(ident)
    return problems


def _once_per_release(spec_for: SpecFor) -> SpecFor:
    """`spec_for`, asked once per release: the trust rules look up every operation of every entry in every
    release of its range, and loading (parsing) a spec for each lookup made the lint take seconds."""
    specs: dict[str, Mapping] = {}

    def cached(version: str) -> Mapping:
        if version not in specs:
            specs[version] = spec_for(version)
        return specs[version]

    return cached


def _lint_entry(raw: dict, known_checks: set[str]) -> list[str]:
    out: list[str] = []
    unknown = set(raw) - ENTRY_KEYS
    if unknown:
        out.append(f"unknown keys {sorted(unknown)} (request text matching such as `match`/`message` is not allowed)")
    for key in ("id", "versions", "checks", "response", "upstream", "summary", "reproduce"):
        if not raw.get(key):
            out.append(f"missing `{key}`")
    try:
        SpecifierSet(str(raw.get("versions", "")))
    except InvalidSpecifier:
        out.append(f"`versions` {raw.get('versions')!r} is not a PEP 440 specifier set")
    out += _lint_client(raw)
    operations = _as_tuple(raw.get("operations"))
    scenarios = raw.get("scenarios") or []
    if not operations and not scenarios:
        out.append("scoped to nothing: name `operations` (property checks) or `scenarios` (id and step)")
    out += [
        f"operation {op!r} is a wildcard; list the operations it was observed on"
        for op in operations
        if GLOB.search(str(op))
    ]
    for s in scenarios:
        if not isinstance(s, dict) or not s.get("id") or not s.get("step"):
            out.append(f"scenario entry {s!r} must name `id` and the `step` it excuses")
        elif GLOB.search(str(s["id"])):
            out.append(f"scenario {s['id']!r} is a wildcard")
    if known_checks:
        out += [f"unknown check {c!r}" for c in _as_tuple(raw.get("checks")) if c not in known_checks]
    response = raw.get("response") or {}
    if not isinstance(response, dict):
        return out + ["`response` must be a mapping"]
    if set(response) - RESPONSE_KEYS:
        out.append(f"unknown response keys {sorted(set(response) - RESPONSE_KEYS)}")
    if not response.get("status"):
        out.append("response signature has no `status`")
    if operations and not any(k in response for k in ("content_type", "body", "pointer", "schema_error")):
        out.append("response signature is status only; add content_type, body, pointer or schema_error")
    for key in ("body", "schema_error", *((response.get("pointer") or {}).values())):
        pattern = response.get(key) if key in ("body", "schema_error") else key
        if pattern:
            try:
                re.compile(str(pattern))
            except re.error as exc:
                out.append(f"bad pattern {pattern!r}: {exc}")
    trigger = raw.get("trigger") or {}
    if not isinstance(trigger, dict) or set(trigger) - TRIGGER_KEYS:
        out.append(f"`trigger` may hold only structured facts {sorted(TRIGGER_KEYS)}")
    elif any(t not in JSON_TYPES for ts in (trigger.get("body_types") or {}).values() for t in _as_tuple(ts)):
        out.append(f"`trigger.body_types` names JSON types only ({', '.join(sorted(JSON_TYPES))})")
    if raw.get("backend") and raw["backend"] not in BACKENDS:
        out.append(f"backend {raw['backend']!r} is not one of {BACKENDS}")
    if "intermittent" in raw and not isinstance(raw["intermittent"], str):
        out.append("`intermittent` must say why (a sentence), not just true")
    upstream = str(raw.get("upstream") or "")
    if upstream and upstream != UNREPORTED and not all(UPSTREAM_REF.match(ref.strip()) for ref in upstream.split(",")):
        out.append(f"upstream {upstream!r} is neither `unreported` nor owner/repo#N references")
    out += _lint_reproduce(raw, operations)
    return out


def _in_range(raw: dict, releases: Iterable[str]) -> list[str]:
    """The given releases inside the entry's version range (none when the range does not parse)."""
    try:
        spec = SpecifierSet(str(raw.get("versions", "")), prereleases=True)
    except InvalidSpecifier:
        return []
    return [v for v in releases if Version(v) in spec]


def _lint_client(raw: dict) -> list[str]:
    """A client defect names the client releases it affects and excuses nothing but their reading."""
    if "client" not in raw:
        return []
    out = []
    try:
        if not str(raw["client"] or "").strip():
            out.append("`client` is empty: name the apache-airflow-client releases (a PEP 440 range)")
        SpecifierSet(str(raw["client"] or ""))
    except InvalidSpecifier:
        out.append(f"`client` {raw['client']!r} is not a PEP 440 specifier set")
    if set(_as_tuple(raw.get("checks"))) != {CLIENT_CHECK}:
        out.append(f"a client defect (`client:`) excuses only the `{CLIENT_CHECK}` check, never a server check")
    if raw.get("scenarios"):
        out.append("a client defect is scoped to `operations` (the answers clients read), not scenario steps")
    return out


def _lint_reproduce(raw: dict, operations: tuple) -> list[str]:
    out: list[str] = []
    reproduce = _as_tuple(raw.get("reproduce"))
    covered: set[str] = set()
    each = False
    for rep in reproduce:
        if not isinstance(rep, dict):
            out.append(f"reproduction {rep!r} is not a mapping")
            continue
        if set(rep) - REPRODUCE_KEYS:
            out.append(f"reproduction keys {sorted(set(rep) - REPRODUCE_KEYS)} unknown")
        kinds = rep.get("mutate", [])
        for kind in [kinds] if isinstance(kinds, str) else kinds:
            if kind not in MUTATIONS:
                out.append(f"reproduction mutate {kind!r} is not one of {', '.join(MUTATIONS)}")
        if rep.get("each"):
            each = True
        elif not rep.get("operation"):
            out.append("a reproduction must name its `operation` (or `each: true`)")
        else:
            covered.add(str(rep["operation"]))
    if operations and not each:
        missing = [op for op in operations if op not in covered]
        if missing:
            out.append(f"no reproduction for operations {missing}")
    return out
