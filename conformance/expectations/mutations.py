"""A minimal valid request for any operation, and one named way to make it invalid.

Framework-wide deviations (Connexion's 400s on 2.x, pydantic's lax coercion
on 3.x) are claims about every operation that has a parameter of some kind.
One fixed reproduction cannot show that on each of them: a PATCH answers
"body must not be empty" before it looks at the query, an operation without
an enum parameter cannot receive a bad enum value. So a reproduction may say
`mutate: <kind>`: the replay builds the smallest request the spec calls valid
for the operation (required parameters and body fields only, names carrying
the run prefix so the guard can bind them), then breaks it in exactly the way
the kind names. An operation where the kind has nothing to break is reported
as such, never sent.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.model.resources import SANDBOX_KINDS
from conformance.probes.dags import unique_logical_date
from conformance.specs.catalog import full_path, resolve

DATE_TIME = "2022-01-01T00:00:00+00:00"
# Body fields that name the object a create makes; the guard binds them to the run prefix.
NAMING_FIELDS = frozenset({*(k.field for k in SANDBOX_KINDS), "dataset_uri", "pool", "uri"})  # pool: 3.x's alias
# Fields whose value must be new on every request, or the second replay meets a 409 instead of the defect.
UNIQUE_FIELDS = frozenset({*(k.field for k in SANDBOX_KINDS), "dag_run_id"})
DATE_FIELDS = frozenset({"logical_date", "execution_date"})
# Fields the servers require although the spec does not say so (see the deviation
# v1-required-fields-not-in-spec): added wherever the body schema has them, except for the
# `spec_minimal` mutation, which is exactly the spec's minimal body.
SERVER_NEEDS = {
    "value": "replay",
    "slots": 1,
    "conn_type": "http",
    "task_id": "{task}",
    "new_state": "success",
    "include_deferred": False,
}
# Per-operation starting points the spec cannot express: a collection write bound to no DAG,
# the one DAG the sandbox may delete.
BASE_OVERRIDES: dict[str, dict] = {
    "patch_dags": {"query": {"dag_id_pattern": "{missing}"}},
    "delete_dag": {"path": {"dag_id": "{disposable_dag}"}},
    "get_list_dag_runs_batch": {"path": {"dag_id": "~"}},  # 3.x: the batch lists take only `~` here
    "get_task_instances_batch": {"path": {"dag_id": "~", "dag_run_id": "~"}},
}


def fill(value, names: dict[str, str]):
    """A reproduction's value with its `{placeholder}`s replaced (strings in dicts and lists too; unknown ones kept)."""
    if isinstance(value, str):
        try:
            return value.format(**names)
        except (KeyError, IndexError, ValueError):
            return value
    if isinstance(value, dict):
        return {k: fill(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, names) for v in value]
    return value


class NothingToMutate(Exception):
    """The operation has no parameter or body of the kind the mutation needs."""


def _schema_of(spec: dict, node: Any) -> dict:
    node = resolve(spec, node)
    if not isinstance(node, dict):
        return {}
    for key in ("allOf", "anyOf", "oneOf"):
        options = [resolve(spec, o) for o in node.get(key) or []]
        options = [o for o in options if isinstance(o, dict) and o.get("type") != "null"]
        if options and key == "allOf":
            merged: dict = {}
            for o in options:
                merged = {
                    **merged,
                    **o,
                    "properties": {**merged.get("properties", {}), **o.get("properties", {})},
                    "required": [*merged.get("required", []), *o.get("required", [])],
                }
            return {**{k: v for k, v in node.items() if k != key}, **merged}
        if options:
            return {**{k: v for k, v in node.items() if k != key}, **options[0]}
    return node


def example(spec: dict, schema: Any, name: str = "", prefix: str = "acf_") -> Any:
    """The smallest value `schema` accepts: required object fields only, prefixed names for strings."""
    schema = _schema_of(spec, schema)
    if "enum" in schema and schema["enum"]:
        return next((v for v in schema["enum"] if v is not None), schema["enum"][0])
    if "default" in schema and schema["default"] is not None and schema.get("type") != "object":
        return schema["default"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        out = {}
        wanted = [*(schema.get("required") or []), *(f for f in props if not name and f in NAMING_FIELDS)]
        for field in dict.fromkeys(wanted):  # a create's naming field even where only the server requires it
            out[field] = example(spec, props.get(field, {}), field, prefix)
        if "dry_run" in props:  # never let a replay clear or set state for real
            out["dry_run"] = True
        return out
    if kind == "array":
        need = int(schema.get("minItems") or 0)
        return [example(spec, schema.get("items") or {}, name, prefix) for _ in range(need)]
    if kind == "integer" or kind == "number":
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        return max(int(low) + (1 if "exclusiveMinimum" in schema else 0), 1)
    if kind == "boolean":
        return False
    if schema.get("format") == "date-time":
        return unique_logical_date() if name in DATE_FIELDS else DATE_TIME
    if name in UNIQUE_FIELDS:
        return f"{prefix}replay_{name}_{secrets.token_hex(3)}"
    return f"{prefix}replay_{name or 'value'}"


def operation_spec(spec: dict, route) -> dict:
    """The raw operation object of `route` in `spec`, parameters resolved and merged with the path item's."""
    for path, item in (spec.get("paths") or {}).items():
        if full_path(spec, path) == route.template and route.method.lower() in item:
            op = dict(item[route.method.lower()])
            shared = [resolve(spec, p) for p in item.get("parameters") or []]
            own = [resolve(spec, p) for p in op.get("parameters") or []]
            keys = {(p.get("name"), p.get("in")) for p in own}
            op["parameters"] = [p for p in shared if (p.get("name"), p.get("in")) not in keys] + own
            return op
    return {}


def body_schema(spec: dict, op: dict) -> dict | None:
    """The JSON request-body schema of an operation, or None when it takes no JSON body."""
    body = resolve(spec, op.get("requestBody") or {})
    media = (body.get("content") or {}).get("application/json")
    return _schema_of(spec, media.get("schema")) if media else None


def base_request(spec: dict, route, prefix: str, server_needs: bool = True) -> dict:
    """Required query parameters and the minimal body of the operation, as a reproduction dict.

    With `server_needs`, the body also carries the SERVER_NEEDS fields its schema has, so that
    a server which requires more than its spec still accepts the request.
    """
    op = operation_spec(spec, route)
    query = {
        p["name"]: example(spec, p.get("schema") or {}, p["name"], prefix)
        for p in op.get("parameters") or []
        if p.get("in") == "query" and p.get("required")
    }
    out: dict = {"query": query}
    schema = body_schema(spec, op)
    if schema is not None:
        out["body"] = example(spec, schema, "", prefix)
        props = schema.get("properties") or {}
        if not server_needs and isinstance(out["body"], dict):  # the spec's own minimum, nothing more
            required = set(schema.get("required") or [])
            keep = (
                required | {"dry_run"} | (NAMING_FIELDS if route.method == "POST" else set())
            )  # a create still names its object
            out["body"] = {k: v for k, v in out["body"].items() if k in keep}
        if server_needs and isinstance(out["body"], dict):
            out["body"].update(
                {
                    k: v
                    for k, v in SERVER_NEEDS.items()
                    if k in props and k not in out["body"] and not _schema_of(spec, props[k]).get("readOnly")
                }
            )
        if isinstance(out["body"], dict) and "new_state" in out["body"] and "dry_run" not in props and "note" in props:
            # a state change for real is never needed to show a defect (and fails once the state is reached):
            # a note-only update reaches the same validation
            out["body"] = {k: v for k, v in out["body"].items() if k != "new_state"} | {"note": "replay"}
            if any(p.get("name") == "update_mask" for p in op.get("parameters") or []):
                query["update_mask"] = "note"
    override = BASE_OVERRIDES.get(route.operation_id) or {}
    for key, value in override.items():
        out[key] = {**(out.get(key) or {}), **value}
    return out


# ------------------------------------------------------------------ finding what to break


def _field(spec: dict, schema: Any) -> dict:
    """A parameter's or field's schema with references resolved, its array items too."""
    out = _schema_of(spec, schema or {})
    return {**out, "items": _schema_of(spec, out["items"])} if isinstance(out.get("items"), dict) else out


def _query_params(spec: dict, op: dict) -> list[tuple[str, dict]]:
    return [(p["name"], _field(spec, p.get("schema"))) for p in op.get("parameters") or [] if p.get("in") == "query"]


def _body_fields(spec: dict, op: dict) -> list[tuple[str, dict]]:
    schema = body_schema(spec, op)
    if not schema:
        return []
    fields = [(name, _field(spec, s)) for name, s in (schema.get("properties") or {}).items()]
    return [(name, s) for name, s in fields if not s.get("readOnly")]  # a read-only field fails for its own reason


def _first(pairs: list[tuple[str, dict]], test: Callable[[dict], bool]) -> str | None:
    return next((name for name, schema in pairs if test(schema)), None)


def _is_type(*kinds: str) -> Callable[[dict], bool]:
    return lambda s: s.get("type") in kinds and "enum" not in s


@dataclass
class _Draft:
    """The minimal request of one operation, and where its query and body can be broken."""

    req: dict
    query_params: list[tuple[str, dict]]
    body_fields: list[tuple[str, dict]]
    has_body: bool

    def put_query(self, test: Callable[[dict], bool], value: Any) -> bool:
        name = _first(self.query_params, test)
        if name is not None:
            self.req["query"][name] = value if not callable(value) else value(dict(self.query_params)[name])
        return name is not None

    def put_body(self, test: Callable[[dict], bool], value: Any) -> bool:
        name = _first(self.body_fields, test)
        body = self.req.get("body")
        if name is None or not isinstance(body, dict):
            return False
        body[name] = value if not callable(value) else value(dict(self.body_fields)[name])
        return True

    def replace_body(self, **content: Any) -> bool:
        if not self.has_body:
            return False
        self.req.pop("body", None)
        self.req.update(content)
        return True


def _is_date_time(s: dict) -> bool:
    return s.get("format") == "date-time"


def _has_minimum(s: dict) -> bool:
    return s.get("type") in ("integer", "number") and "minimum" in s


def _below_minimum(s: dict) -> int:
    return int(s["minimum"]) - 1


def _unknown_query(d: _Draft) -> bool:
    d.req["query"]["acf_unknown_parameter"] = "1"
    return True


def _enum(d: _Draft) -> bool:
    spec_items = lambda s: "enum" in s or "enum" in (s.get("items") or {})  # noqa: E731
    return d.put_query(spec_items, "acf") or d.put_body(
        spec_items, lambda s: ["acf"] if s.get("type") == "array" else "acf"
    )


def _unknown_body_field(d: _Draft) -> bool:
    body = d.req.get("body")
    if isinstance(body, dict):
        body["acf_unknown_field"] = 1
    return isinstance(body, dict)


def _no_body(d: _Draft) -> bool:
    return d.replace_body()


# Each kind: one way to break the minimal request; False when the operation has nothing of that kind.
KINDS: dict[str, Callable[[_Draft], bool]] = {
    "unknown_query": _unknown_query,
    # a word where the spec wants a number or boolean
    "query_type": lambda d: d.put_query(_is_type("integer", "number", "boolean"), "acf"),
    # one below the documented minimum
    "minimum": lambda d: d.put_query(_has_minimum, _below_minimum) or d.put_body(_has_minimum, _below_minimum),
    "enum": _enum,  # a value outside the enum
    # a word where the spec wants a date-time
    "date_time": lambda d: d.put_query(_is_date_time, "acf-not-a-date") or d.put_body(_is_date_time, "acf-not-a-date"),
    # a word in a field spelled `format: datetime`, which JSON Schema does not check
    "loose_datetime": lambda d: d.put_body(lambda s: s.get("format") == "datetime", "acf-not-a-date"),
    # a bare number where the spec wants a date-time
    "number_for_datetime": lambda d: d.put_query(_is_date_time, "5") or d.put_body(_is_date_time, 5),
    # a number written as a string where the spec wants a number
    "string_for_number": lambda d: d.put_body(_is_type("integer", "number"), "5"),
    # 0 where the spec wants a boolean
    "number_for_boolean": lambda d: d.put_query(_is_type("boolean"), "0") or d.put_body(_is_type("boolean"), 0),
    "body_not_object": lambda d: d.replace_body(body=[]),
    # a field of the wrong JSON type
    "body_wrong_type": lambda d: (
        d.put_body(_is_type("boolean"), "acf")
        or d.put_body(_is_type("integer", "number"), "acf")
        or d.put_body(_is_type("string"), 1)
    ),
    "unknown_body_field": _unknown_body_field,
    "invalid_json": lambda d: d.replace_body(data="{"),
    # well-formed JSON whose bytes are not UTF-8
    "invalid_utf8": lambda d: d.replace_body(data=b'{"\xff": 1}'),
    "empty_body": lambda d: d.replace_body(body={}),
    "no_body": _no_body,
    # null in an optional field the spec marks nullable
    "null_field": lambda d: d.put_body(lambda s: bool(s.get("nullable")) and "enum" not in s, None),
    "none": lambda d: True,  # the valid request itself (a deviation on valid input)
    "spec_minimal": lambda d: True,  # the spec's own minimal request, without what servers need beyond it
}
MUTATIONS = tuple(KINDS)


def mutate(kinds: str | list[str], spec: dict, route, prefix: str) -> dict:
    """A reproduction dict for `route`: the base request broken the first of `kinds` ways that applies.

    NothingToMutate when none applies.
    """
    names = [kinds] if isinstance(kinds, str) else list(kinds)
    op = operation_spec(spec, route)
    for kind in names:
        draft = _Draft(
            copy.deepcopy(base_request(spec, route, prefix, server_needs=kind != "spec_minimal")),
            _query_params(spec, op),
            _body_fields(spec, op),
            body_schema(spec, op) is not None,
        )
        if KINDS.get(kind, lambda _: False)(draft):  # `deviations lint` rejects an unknown kind
            return draft.req
    raise NothingToMutate(f"no parameter or body field for a {' / '.join(names)} mutation")
