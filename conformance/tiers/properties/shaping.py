"""What the suite changes in a generated case before it is sent, and which cases it does not send.

Generated writes must land on this run's own objects (names with the run
prefix, the probe DAG, this run's DAG run) or the guard refuses them; positive
bodies keep to the properties the spec declares; generated credentials never
replace the run's own. Everything else schemathesis drew is sent as drawn.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable

from conformance.context import CheckContext
from conformance.probes.dags import PROBE_DAG_ID
from conformance.tiers.shared.operations import BULK_FIELDS, NAMED_CREATES, NAMED_UPDATES, TRIGGERS, OperationInfo
from conformance.tiers.shared.samples import Samples

INT64 = (-(2**63), 2**63 - 1)


class Shaper:
    """Keeps generated writes on this run's objects; names come from the engine's per-worker counter."""

    def __init__(self, ctx: CheckContext, owned_name: Callable[[str], str], samples: Callable[[], Samples]) -> None:
        self.ctx = ctx
        self.owned_name = owned_name
        self.samples = samples  # called only when needed: building the samples sends requests

    def body(self, info: OperationInfo, case) -> bool:
        """Rewrite the body of a write in place; True when a negative case's body changed.

        Then the invalid part schemathesis generated may be gone, so whether the server "accepted
        invalid data" can no longer be judged for this case.
        """
        negative = bool(case.meta and case.meta.generation.mode.is_negative)
        body = getattr(case, "body", None)
        if not info.writes or not isinstance(body, (dict, list)):
            return False
        body = copy.deepcopy(body)
        path = dict(case.path_parameters or {})
        if info.method == "POST" and info.rel in NAMED_CREATES and isinstance(body, dict):
            field_name = NAMED_CREATES[info.rel]
            if field_name in body or not negative:  # a negative body may lack it on purpose
                body[field_name] = self.owned_name(field_name.split("_")[0])
        if info.rel in NAMED_UPDATES and isinstance(body, dict):
            field_name, param = NAMED_UPDATES[info.rel]
            for name in (field_name, "pool") if field_name == "name" else (field_name,):  # 3.x pools: alias `pool`
                if name in body and param in path:
                    body[name] = path[param]
        if info.method == "PATCH" and info.rel in BULK_FIELDS and isinstance(body, dict):
            self._bulk(body, BULK_FIELDS[info.rel])
        vacant = self.samples().values("asset_id", write=True)
        if (
            info.method == "POST"
            and info.rel == "/assets/events"
            and isinstance(body, dict)
            and vacant
            and ("asset_id" in body or not negative)
        ):  # an event only for an asset proven absent
            body["asset_id"] = vacant[0]
        trigger = info.method == "POST" and info.rel in TRIGGERS
        self._pin_dag_refs(body, path, trigger=trigger)
        if trigger and isinstance(body, dict) and body.get("dag_run_id") is None and not negative:
            body["dag_run_id"] = self.owned_name("run")  # the server's own name (manual__<date>) has no prefix
        reshaped = negative and body != case.body  # names or DAG refs replaced
        case.body = body
        return reshaped

    def query(self, info: OperationInfo, case) -> None:
        """A collection-wide DAG update matches the probe DAGs (disruptive) or nothing at all (the run prefix)."""
        if info.writes and info.rel == "/dags" and isinstance(case.query, dict):
            pattern = PROBE_DAG_ID if self.ctx.options.profile == "disruptive" else f"{self.ctx.prefix}no_such_dag"
            case.query = {**case.query, "dag_id_pattern": pattern}

    def _bulk(self, body: dict, field_name: str) -> None:
        actions = body.get("actions")
        for action in actions if isinstance(actions, list) else []:
            if not isinstance(action, dict) or not isinstance(action.get("entities"), list):
                continue
            entities = []
            for entity in action["entities"]:
                if isinstance(entity, dict):
                    entity = (
                        {**entity, field_name: self.owned_name("bulk")}
                        if field_name in entity or action.get("action") == "create"
                        else entity
                    )
                elif isinstance(entity, str):
                    entity = self.owned_name("bulk")
                entities.append(entity)
            action["entities"] = entities

    def _pin_dag_refs(self, node, path: dict, *, trigger: bool) -> None:
        """Body fields naming a DAG or run point at the probe DAG and this run's objects."""
        s = self.samples()
        if isinstance(node, list):
            for item in node:
                self._pin_dag_refs(item, path, trigger=trigger)
            return
        if not isinstance(node, dict):
            return
        prefix = self.ctx.prefix
        for key_name in list(node):
            value = node[key_name]
            if key_name == "dag_id" and value is not None:
                node[key_name] = (
                    path.get("dag_id", PROBE_DAG_ID) if path.get("dag_id") not in (None, "~") else PROBE_DAG_ID
                )
            elif key_name == "dag_ids" and isinstance(value, list):
                node[key_name] = [PROBE_DAG_ID for _ in value]
            elif key_name in ("dag_run_id", "run_id") and isinstance(value, str):
                if trigger:
                    node[key_name] = self.owned_name("run")
                elif not value.startswith(prefix):
                    node[key_name] = path.get("dag_run_id") or s.owned.get("dag_run") or f"{prefix}prop_missing_run"
            else:
                self._pin_dag_refs(value, path, trigger=trigger)


def drop_undeclared_properties(info: OperationInfo, case) -> None:
    """Positive bodies keep to the properties the spec declares.

    The spec leaves request objects open (no `additionalProperties: false`), so generated bodies
    carry random extra keys; Airflow 2 rejects those wholesale, which would stop almost every write
    at validation. Explore cases keep them, so that mismatch is still observed.
    """
    body = getattr(case, "body", None)
    if not isinstance(body, dict) or not case.media_type or "json" not in case.media_type:
        return
    raw = info.operation.definition.raw.get("requestBody") or {}
    spec = info.operation.schema.raw_schema

    def resolve(ref: str):
        node = spec
        for part in ref.lstrip("#/").split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        return node

    if "$ref" in raw:
        raw = resolve(raw["$ref"])
    schema = ((raw.get("content") or {}).get(case.media_type) or {}).get("schema")
    names = _declared_properties(schema, resolve) if schema else None
    if names is None:
        return
    extra = [k for k in body if k not in names]
    if extra:
        case.body = {k: v for k, v in body.items() if k in names}


def _declared_properties(schema: dict, resolve, depth: int = 0) -> set[str] | None:
    """Writable property names an object schema declares (through $ref/allOf); None when it is open-ended.

    Properties marked readOnly are left out: a client does not send them.
    """
    if depth > 8 or not isinstance(schema, dict):
        return None
    if "$ref" in schema:
        return _declared_properties(resolve(schema["$ref"]), resolve, depth + 1)
    props = schema.get("properties") or {}
    names: set[str] = {k for k, v in props.items() if not _read_only(v, resolve)}
    if props and not names:
        names = {""}  # only read-only properties: nothing to send, but the schema is closed
    for part in schema.get("allOf") or []:
        more = _declared_properties(part, resolve, depth + 1)
        if more is None:
            return None
        names |= more
    if any(k in schema for k in ("anyOf", "oneOf")) or (not names and schema.get("additionalProperties") is not False):
        return None
    return names


def _read_only(schema, resolve, depth: int = 0) -> bool:
    if not isinstance(schema, dict) or depth > 4:
        return False
    if schema.get("readOnly") is True:
        return True
    if "$ref" in schema:
        return _read_only(resolve(schema["$ref"]), resolve, depth + 1)
    return any(_read_only(part, resolve, depth + 1) for part in schema.get("allOf") or [])


def strip_credentials(case) -> None:
    """Generated credentials never replace the run's own (Basic on 2.x, JWT on 3.x)."""
    headers = case.headers
    if headers and any(k.lower() in ("authorization", "cookie") for k in headers):
        case.headers = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie")}
    if getattr(case, "cookies", None):
        case.cookies = {}


def case_key(case) -> str:
    """What goes on the wire for a case, as one comparable string (a read is not sent twice)."""
    return json.dumps(
        [case.method, case.formatted_path, case.query, case.headers, getattr(case, "body", None), case.media_type],
        sort_keys=True,
        default=repr,
    )


def case_beyond_int64(case) -> bool:
    return any(_beyond_int64(getattr(case, name, None)) for name in ("path_parameters", "query", "body"))


def _beyond_int64(value) -> bool:
    """A number no database column holds; the spec leaves most numbers unbounded.

    Beyond int64 every backend fails in its driver (SQLite: "Python int too large"), which says
    nothing about the API contract, so such cases are not sent (numbers inside the range are).
    """
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return not INT64[0] <= value <= INT64[1]
    if isinstance(value, float):
        return abs(value) >= 2.0**63
    if isinstance(value, str):
        stripped = value.lstrip("-")
        return stripped.isdigit() and len(stripped) > 18 and not INT64[0] <= int(value) <= INT64[1]
    if isinstance(value, dict):
        return any(_beyond_int64(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_beyond_int64(v) for v in value)
    return False
