"""The effects table of a reference spec: every documented effect of every parameter and body field.

Derived from the spec by the parameter's name and the answer's item schema (a
`state` parameter of a list whose items have a `state` field filters by it, a
`*_gte` parameter bounds its field, ...), so a new release's parameters appear
in the table without anyone listing them. Whether an effect is checked is
decided here too, from what the effects tier can read back
(`conformance.tiers.effects`), so `list --effects`, results.json and the tier
never disagree about what is covered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.model.effects import Effect, EffectClass, Observation, WriteGap
from conformance.specs.catalog import operations, resolve

SCALAR_ITEM = "_value"  # the field name a list of plain values (3.x dagTags) gives its items
# a parameter's stem -> the item field it is read on, where the names differ
FIELD_ALIASES = {
    "variable_key": ("key",),
    "xcom_key": ("key",),
    "pool_name": ("name", "pool"),
    "queue_name": ("queue",),
    "tag_name": ("tags", SCALAR_ITEM),
    "owner": ("owners",),
    "run_id": ("dag_run_id", "run_id"),
    "operator_name": ("operator_name", "operator"),
    "dag_display_name": ("dag_display_name",),
    "name": ("name",),
    "section": ("name",),
    "included_events": ("event",),
    "excluded_events": ("event",),
    "dag_ids": ("dag_id",),  # DAG stats: one item per DAG
    "paused": ("is_paused",),
    "before": ("when", "created_at"),  # event logs: `when`; queued asset events: `created_at`
    "after": ("when", "created_at"),
}
# bounds named without a suffix: parameter -> the suffix whose comparison it documents
BARE_BOUNDS = {"before": "_lt", "after": "_gt"}
# a list read by a POST whose body carries the filters (2.x and 3.x `.../list`): body field -> item field
LIST_BODIES = frozenset({"get_task_instances_batch", "get_dag_runs_batch", "get_list_dag_runs_batch"})
BODY_ALIASES = {
    "dag_ids": ("dag_id",),
    "dag_run_ids": ("dag_run_id", "run_id"),
    "task_ids": ("task_id",),
    "states": ("state",),
}
BODY_PAGE = {"page_limit": "limit", "page_offset": "offset"}  # a list body's paging fields, as the query names them
RANGE_SUFFIXES = ("_gte", "_gt", "_lte", "_lt")
PAGE_PARAMS = ("limit", "offset")
CHECK_FILTER = "effects: every item of the filtered answer matches (values taken from the target's data)"
CHECK_ORDER = "effects: the items come in the named field's order, both directions, on the suite's own objects"
CHECK_PAGE = "effects: limit bounds the page and offset shifts it by exactly that many items"
CHECK_MASK = "effects: a masked patch changes the masked field and no other (read back)"
CHECK_DRY_RUN = "effects: a dry run answers what it would change and changes nothing (read back)"
CHECK_ROUND_TRIP = "effects: the written value is read back"
NO_FIELD = "the answer's items carry no `{field}` field: seeing the filter needs a read of another object"
# bounds on a field the answer does not carry, judged on the tier's own run: stem -> the field that bounds it below
HIDDEN_BOUNDS = {"updated_at": "start_date"}  # an object is updated when it starts, and maybe later
CHECK_HIDDEN = (
    "effects: the probe run's own objects (updated when they start, or later) are kept by a bound below "
    "their start_date and left out by one in 2100, and the reverse for an upper bound"
)
CHECK_SELECTOR = (
    "effects: the parameter selects the object read: the probe run's task instance answers 200 with its "
    "map index, a map index it does not have answers 404"
)
CHECK_PROJECTION = "effects: `fields` limits the answer (each item) to exactly the named fields"
NOT_YET = "no check of this effect yet"
WRITE_ONLY = "write-only: the API never returns it (scenario connections.password_write_only checks that)"

# writes whose effects the tier reads back on objects it owns: operationId -> the collection it reads
OWNED_WRITES = {
    "post_variables": "variables",
    "post_variable": "variables",
    "patch_variable": "variables",
    "post_pool": "pools",
    "patch_pool": "pools",
    "post_connection": "connections",
    "patch_connection": "connections",
}
WRITE_ONLY_FIELDS = {"password"}
# body fields whose effect needs a deployment set up for it (not the local targets, not the suite's sandbox)
NEEDS_SETUP = {
    "team_name": "needs a deployment in multi-team mode ([core] multi_team, off by default and on the "
    "local targets) with teams configured; without it the field names nothing to read back"
}
# operations none of whose body fields a target can show, and why
NOT_OBSERVABLE_OPS = {
    "test_connection": "answered 403 unless [core] test_connection is Enabled (Disabled by default and on the local "
    "targets); even then the answer is only a status and a message from a real connection attempt "
    "to a system the suite does not own, and nothing is stored to read back",
    **{
        op: "users and roles are written only in the disruptive profile (the guard refuses them otherwise): a write "
        "there changes who can reach the deployment, a resource the suite may never own in a sandbox run"
        for op in ("post_user", "patch_user", "post_role", "patch_role")
    },
    "enqueue_connection_test": "needs [core] test_connection Enabled (Disabled by default and on the local targets) "
    "and an executor whose workers run connection tests; the effect of each field is a "
    "worker's connection attempt to a system the suite does not own",
}
# writes on the tier's own probe run and its task instances: operationId -> the body fields read back
TI_WRITES = {
    "post_clear_task_instances": {"dry_run"},
    "patch_task_instance": {"dry_run", "new_state", "note"},
    "patch_task_instance_dry_run": {"new_state"},
    "patch_task_instance_by_map_index": {"new_state", "note"},  # 3.x: the echo task instance at map index -1
    "patch_task_instance_dry_run_by_map_index": {"new_state"},
    "patch_mapped_task_instance": {"dry_run", "new_state"},
    "post_set_task_instances_state": {"dry_run", "new_state"},
    "set_task_instance_note": {"note"},
    "set_mapped_task_instance_note": {"note"},
    "set_dag_run_note": {"note"},
    "update_dag_run_state": {"state"},
    "patch_dag_run": {"state", "note"},
    "clear_dag_run": {"dry_run"},
}
CHECK_NEW_STATE = "effects: the written state or note reads back on the task instance or run"
# the trigger of a second run of the probe DAG with every body field set: operationId -> the fields read back
RUN_CREATES = {
    "post_dag_run": {
        "conf",
        "dag_run_id",
        "data_interval_end",
        "data_interval_start",
        "execution_date",
        "logical_date",
        "note",
    },
    "trigger_dag_run": {
        "conf",
        "dag_run_id",
        "data_interval_end",
        "data_interval_start",
        "logical_date",
        "note",
        "run_after",
    },
}
# operations whose effects are observable but need an object or a request the suite does not make yet (gaps)
GAP_OPS = {
    "patch_dags": "the guard sends a pattern patch of DAGs only as a negative probe (a pattern can reach DAGs the "
    "suite does not own)",
    "create_dataset_event": "needs an asset the suite may write events to (the asset probe DAG's keep their one queued "
    "event: a run posts events only to an asset that does not exist)",
    "create_asset_event": "needs an asset the suite may write events to (the asset probe DAG's keep their one queued "
    "event: a run posts events only to an asset that does not exist)",
    "patch_task_group_instances": "needs a probe DAG with a task group (the probe DAG has none)",
    "patch_task_group_instances_dry_run": "needs a probe DAG with a task group (the probe DAG has none)",
    "update_hitl_detail": "needs a probe DAG with a human-in-the-loop task (the probe DAG has none)",
}
# body fields observable only on an object the suite does not ship yet: field -> what it needs (a gap, unchecked)
NEEDS_OBJECT = {
    "partition_key": "needs a partitioned DAG (the probe DAG is not one: 3.3 answers 400 'is not a "
    "partitioned Dag' to a trigger with a partition_key)"
}
# flags of clears and state changes judged by their dry runs on the tier's probe run and two sibling runs
CLEAR_FLAGS = {
    "dag_run_id",
    "task_ids",
    "only_failed",
    "only_running",
    "include_past",
    "include_future",
    "start_date",
    "end_date",
}
FLAG_OPERATIONS = {
    "post_clear_task_instances": CLEAR_FLAGS,
    "post_set_task_instances_state": {"include_past", "include_future", "task_id", "dag_run_id", "execution_date"},
    "patch_task_instance_dry_run": {"include_past", "include_future"},
    "patch_task_instance_dry_run_by_map_index": {"include_past", "include_future"},
    "clear_dag_run": {"only_failed", "only_new"},
}
CHECK_FLAG = (
    "effects: a dry run with the flag names the task instances it documents and no others (the probe run and "
    "two sibling runs a second before and after it)"
)
# flags whose effect needs a DAG shape the probe DAG does not have (a gap, unchecked, with what it needs)
NEEDS_DAG = {
    "include_upstream": "needs a probe DAG with task dependencies (the probe DAG's tasks have none)",
    "include_downstream": "needs a probe DAG with task dependencies (the probe DAG's tasks have none)",
    "include_subdags": "needs a probe DAG with a SubDAG (the probe DAG has none)",
    "include_parentdag": "needs a probe DAG with a SubDAG (the probe DAG has none)",
}
# 3.x bulk operations on the tier's own variables, pools and connections: operationId -> collection
BULK_OPERATIONS = {"bulk_variables": "variables", "bulk_pools": "pools", "bulk_connections": "connections"}
CHECK_BULK = (
    "effects: each bulk action (create with fail/skip/overwrite, update with fail/skip, delete with fail/skip) "
    "on the suite's own names, read back"
)
# 3.x XCom writes on the probe run's echo task instance: operationId -> the body fields read back
XCOM_WRITES = {"create_xcom_entry": {"key", "value", "map_index"}, "update_xcom_entry": {"value", "map_index"}}
CHECK_XCOM = "effects: the XCom entry written on the probe run's task instance reads back at the map index written"
CHECK_STRINGIFY = (
    "effects: the probe run's XCom (an object) answers as a string with stringify=true, as the object without"
)
CHECK_DELETE_SELECTOR = (
    "effects: a write naming a map index the object does not have answers 404 and changes nothing (read back)"
)
XCOM_DESERIALIZE_V1 = (
    "answered 400 unless [api] enable_xcom_deserialize_support is on (off by default and on the local targets)"
)
# 3.x task state store operations on the probe run's task instance: operationId -> the body fields read back
STORE_OPERATIONS = {
    "set_task_state_store": {"value", "expires_at"},
    "patch_task_state_store": {"value"},
    "delete_task_state_store": set(),
    "clear_task_state_store": set(),
}
CHECK_STORE = "effects: the task state store key written on the probe run's task instance reads back as written"
# the pause of a DAG, toggled on the probe DAG once its run is done and put back
DAG_PATCHES = {"patch_dag"}
CHECK_PAUSE = "effects: is_paused written on the probe DAG reads back (then put back as it was)"
ONE_FIELD_MASK = (
    "the DAG patch body has one writable field (is_paused): which fields a mask limits the patch to cannot show"
)
CHECK_RUN_CREATE = "effects: a run triggered with the field reads it back (then deleted, and answers 404)"


@dataclass(frozen=True)
class ListShape:
    """Where a list answer keeps its items, and the fields an item has."""

    key: str
    fields: frozenset[str]


def _properties(spec: Mapping, schema: Any) -> dict:
    """An object schema's properties, `allOf` parts merged (one level is what the Airflow specs use)."""
    schema = resolve(spec, schema)
    if not isinstance(schema, dict):
        return {}
    props = dict(schema.get("properties") or {})
    for part in schema.get("allOf") or ():
        props.update(_properties(spec, part))
    return props


def list_shape(spec: Mapping, raw_op: Mapping) -> ListShape | None:
    """The item list of an operation's 200 answer (an array property beside `total_entries`), or None."""
    content = resolve(spec, (raw_op.get("responses") or {}).get("200") or {}).get("content") or {}
    schema = (content.get("application/json") or {}).get("schema")
    props = _properties(spec, schema)
    arrays = [(name, resolve(spec, p)) for name, p in props.items() if resolve(spec, p).get("type") == "array"]
    if len(arrays) != 1:
        return None
    name, array = arrays[0]
    items = resolve(spec, array.get("items") or {})
    if isinstance(items, dict) and items.get("type") in ("string", "integer", "number"):
        return ListShape(name, frozenset({SCALAR_ITEM}))
    return ListShape(name, frozenset(_properties(spec, items)))


def raw_operations(spec: Mapping) -> dict[str, Mapping]:
    """operationId -> the operation object as the spec has it (responses, requestBody)."""
    return {
        op["operationId"]: op
        for item in (spec.get("paths") or {}).values()
        for op in resolve(spec, item).values()
        if isinstance(op, dict) and "operationId" in op
    }


def _field_of(stem: str, fields: frozenset[str], aliases: Mapping[str, tuple[str, ...]] = FIELD_ALIASES) -> str | None:
    for candidate in (stem, *aliases.get(stem, ())):
        if candidate in fields:
            return candidate
    return None


def _query_effect(op, name: str, shape: ListShape | None, location: str = "query") -> Effect:
    """One query parameter's effect (or a list body's field), classified by its name, read on the list's item fields."""

    def make(cls: EffectClass, field: str | None, obs: Observation, reason: str) -> Effect:
        return Effect(op.operation_id, op.method, name, location, cls, field, obs, reason)

    if op.operation_id in NOT_OBSERVABLE_OPS:
        return make(
            EffectClass.MASK if name == "update_mask" else EffectClass.OTHER,
            None,
            Observation.NOT_OBSERVABLE,
            NOT_OBSERVABLE_OPS[op.operation_id],
        )
    if op.operation_id in GAP_OPS:
        return make(EffectClass.OTHER, None, Observation.UNCHECKED, GAP_OPS[op.operation_id])
    if name == "update_mask" and op.operation_id in DAG_PATCHES:
        return make(EffectClass.MASK, None, Observation.NOT_OBSERVABLE, ONE_FIELD_MASK)
    if name == "update_mask":
        checked = op.operation_id in OWNED_WRITES
        return make(
            EffectClass.MASK,
            None,
            Observation.CHECKED if checked else Observation.UNCHECKED,
            CHECK_MASK if checked else NOT_YET,
        )
    if name == "dry_run":
        return make(EffectClass.DRY_RUN, None, Observation.UNCHECKED, NOT_YET)
    if (
        name == "map_index"
        and _path_names(op) >= {"dag_id", "task_id"}
        and (shape is None or "map_index" not in shape.fields)
    ):
        if op.method == "GET":
            return make(EffectClass.SELECTOR, "map_index", Observation.CHECKED, CHECK_SELECTOR)
        if op.operation_id in ("delete_xcom_entry", "delete_task_instance") or op.operation_id in STORE_OPERATIONS:
            return make(EffectClass.SELECTOR, "map_index", Observation.CHECKED, CHECK_DELETE_SELECTOR)
    if op.operation_id == "get_xcom_entry" and name == "stringify":
        return make(EffectClass.OTHER, "value", Observation.CHECKED, CHECK_STRINGIFY)
    if op.operation_id == "get_xcom_entry" and name == "deserialize" and op.path.startswith("/api/v1"):
        return make(EffectClass.OTHER, "value", Observation.NOT_OBSERVABLE, XCOM_DESERIALIZE_V1)
    if name == "fields" and op.method == "GET":
        return make(EffectClass.PROJECTION, None, Observation.CHECKED, CHECK_PROJECTION)
    if shape is None:
        return make(EffectClass.OTHER, None, Observation.UNCHECKED, NOT_YET)
    if name in PAGE_PARAMS or (location == "body" and name in BODY_PAGE):
        return make(EffectClass.PAGE, None, Observation.CHECKED, CHECK_PAGE)
    if name == "order_by":
        return make(EffectClass.ORDER, None, Observation.CHECKED, CHECK_ORDER)
    if name == "cursor":
        return make(EffectClass.CURSOR, None, Observation.UNCHECKED, NOT_YET)
    cls, stem = _filter_class(name)
    field = _field_of(stem, shape.fields, {**FIELD_ALIASES, **BODY_ALIASES} if location == "body" else FIELD_ALIASES)
    if (
        field is None
        and cls is EffectClass.RANGE
        and HIDDEN_BOUNDS.get(stem) in shape.fields
        and _path_names(op) >= {"dag_id"}
    ):
        return make(cls, stem, Observation.CHECKED, CHECK_HIDDEN)
    if field is None:
        return make(cls, None, Observation.UNCHECKED, NO_FIELD.format(field=stem))
    return make(cls, field, Observation.CHECKED, CHECK_FILTER)


def _path_names(op) -> set[str]:
    return {str(p.get("name")) for p in op.parameters if p.get("in") == "path"}


def _filter_class(name: str) -> tuple[EffectClass, str]:
    if name.startswith("excluded_"):
        return EffectClass.EXCLUDES, name
    if name in BARE_BOUNDS:
        return EffectClass.RANGE, name
    if name.endswith("_prefix_pattern"):
        return EffectClass.PREFIX, name[: -len("_prefix_pattern")]
    if name.endswith("_pattern"):
        return EffectClass.PATTERN, name[: -len("_pattern")]
    for suffix in RANGE_SUFFIXES:
        if name.endswith(suffix):
            return EffectClass.RANGE, name[: -len(suffix)]
    return EffectClass.EQUALS, name


def body_arrays(spec: Mapping, raw_op: Mapping) -> frozenset[str]:
    """The body fields whose schema is an array (3.x: `anyOf` an array and null): a filter sends them a list."""
    out = set()
    for name, prop in _body_fields(spec, raw_op).items():
        prop = resolve(spec, prop)
        types = [resolve(spec, a).get("type") for a in prop.get("anyOf") or ()] + [prop.get("type")]
        if "array" in types:
            out.add(name)
    return frozenset(out)


def _body_fields(spec: Mapping, raw_op: Mapping) -> dict:
    """The request body's input fields (`readOnly` ones are answers, not inputs: 2.x pools list them)."""
    content = resolve(spec, raw_op.get("requestBody") or {}).get("content") or {}
    props = _properties(spec, (content.get("application/json") or {}).get("schema"))
    return {name: p for name, p in props.items() if not resolve(spec, p).get("readOnly")}


def _body_effect(op, name: str) -> Effect:
    def make(cls: EffectClass, obs: Observation, reason: str) -> Effect:
        return Effect(op.operation_id, op.method, name, "body", cls, name, obs, reason)

    if name == "dry_run":
        checked = "dry_run" in TI_WRITES.get(op.operation_id, ())
        return make(
            EffectClass.DRY_RUN,
            Observation.CHECKED if checked else Observation.UNCHECKED,
            CHECK_DRY_RUN if checked else NOT_YET,
        )
    if op.operation_id in DAG_PATCHES and name == "is_paused":
        return make(EffectClass.BODY_FIELD, Observation.CHECKED, CHECK_PAUSE)
    if name in STORE_OPERATIONS.get(op.operation_id, ()):
        return make(EffectClass.BODY_FIELD, Observation.CHECKED, CHECK_STORE)
    if name in XCOM_WRITES.get(op.operation_id, ()):
        return make(EffectClass.BODY_FIELD, Observation.CHECKED, CHECK_XCOM)
    if op.operation_id in BULK_OPERATIONS and name == "actions":
        return make(EffectClass.BODY_FIELD, Observation.CHECKED, CHECK_BULK)
    if name in FLAG_OPERATIONS.get(op.operation_id, ()):
        return make(EffectClass.DRY_RUN, Observation.CHECKED, CHECK_FLAG)
    if name in NEEDS_DAG:
        return make(EffectClass.BODY_FIELD, Observation.UNCHECKED, NEEDS_DAG[name])
    if name in TI_WRITES.get(op.operation_id, ()):
        if op.operation_id.endswith("_dry_run"):  # 3.x: the operation itself is the dry run of a state change
            return make(EffectClass.DRY_RUN, Observation.CHECKED, CHECK_DRY_RUN)
        return make(EffectClass.BODY_FIELD, Observation.CHECKED, CHECK_NEW_STATE)
    if name in RUN_CREATES.get(op.operation_id, ()):
        return make(EffectClass.BODY_FIELD, Observation.CHECKED, CHECK_RUN_CREATE)
    if name in NEEDS_SETUP:
        return make(EffectClass.BODY_FIELD, Observation.NOT_OBSERVABLE, NEEDS_SETUP[name])
    if name in NEEDS_OBJECT:
        return make(EffectClass.BODY_FIELD, Observation.UNCHECKED, NEEDS_OBJECT[name])
    if op.operation_id in NOT_OBSERVABLE_OPS:
        return make(EffectClass.BODY_FIELD, Observation.NOT_OBSERVABLE, NOT_OBSERVABLE_OPS[op.operation_id])
    if op.operation_id in GAP_OPS:
        return make(EffectClass.BODY_FIELD, Observation.UNCHECKED, GAP_OPS[op.operation_id])
    if op.operation_id in OWNED_WRITES:
        if name in WRITE_ONLY_FIELDS:
            return make(EffectClass.BODY_FIELD, Observation.NOT_OBSERVABLE, WRITE_ONLY)
        return make(EffectClass.BODY_FIELD, Observation.CHECKED, CHECK_ROUND_TRIP)
    return make(EffectClass.BODY_FIELD, Observation.UNCHECKED, NOT_YET)


def effects_of(spec: Mapping) -> list[Effect]:
    """Every documented effect of the spec's operations, in the spec's order."""
    raw = raw_operations(spec)
    table: list[Effect] = []
    for op in operations(dict(spec)):
        raw_op = raw.get(op.operation_id) or {}
        shape = list_shape(spec, raw_op) if op.method == "GET" or op.operation_id in LIST_BODIES else None
        for param in op.parameters:
            if param.get("in") == "query":
                table.append(_query_effect(op, str(param.get("name")), shape))
        if op.operation_id in LIST_BODIES:  # a read: its body fields filter, order and page like query parameters
            table.extend(_query_effect(op, name, shape, "body") for name in _body_fields(spec, raw_op))
        elif op.method in ("POST", "PATCH", "PUT"):
            table.extend(_body_effect(op, name) for name in _body_fields(spec, raw_op))
    return table


def summary(table: list[Effect]) -> dict:
    """Counts per observation, overall and per class (the figures results.json and `list --effects` show)."""
    counts = {obs.value: 0 for obs in Observation}
    by_class: dict[str, dict[str, int]] = {}
    for effect in table:
        counts[effect.observation.value] += 1
        row = by_class.setdefault(effect.effect_class.value, {obs.value: 0 for obs in Observation})
        row[effect.observation.value] += 1
    return {"documented": len(table), **counts, "by_class": by_class}


_LIKE_SPECIALS = re.compile(r"[%_]")


def like_regex(pattern: str, *, prefix: bool = False) -> re.Pattern[str]:
    """A SQL LIKE pattern (`%` any run, `_` any one character) as a case-insensitive regex over the whole value."""
    parts = []
    for token in re.split(r"([%_])", pattern):
        parts.append(".*" if token == "%" else "." if token == "_" else re.escape(token))
    body = "".join(parts)
    return re.compile(("^" + body + ".*$") if prefix else ("^.*" + body + ".*$"), re.IGNORECASE | re.DOTALL)


_ASSET_GUARD = (
    "assets come only from DAG files and the suite may write to none: the asset probe DAG's keep their one "
    "queued event, so a run sends this only for an asset or event that does not exist (answered 404)"
)
_ADMIN = "users and roles are written only in the disruptive profile: a sandbox run's guard refuses them"
# write operations the suite gets no 2xx from on a local target, and why (`airflow-conformance list --writes`)
NO_2XX: dict[str, tuple[WriteGap, str]] = {
    "test_connection": (
        WriteGap.SETTING,
        "answered 403 while [core] test_connection is Disabled (the default; the local targets keep it)",
    ),
    "enqueue_connection_test": (
        WriteGap.SETTING,
        "answered 403 while [core] test_connection is Disabled; enabled, it "
        "also needs an executor whose workers run connection tests",
    ),
    "create_default_connections": (
        WriteGap.GUARD,
        "writes Airflow's default connections, which the run does not own: never sent in a sandbox run",
    ),
    **{
        op: (WriteGap.GUARD, _ADMIN)
        for op in ("post_user", "patch_user", "delete_user", "post_role", "patch_role", "delete_role")
    },
    **{
        op: (WriteGap.GUARD, _ASSET_GUARD)
        for op in (
            "create_dataset_event",
            "delete_dataset_queued_events",
            "delete_dag_dataset_queued_events",
            "delete_dag_dataset_queued_event",
            "create_asset_event",
            "materialize_asset",
            "delete_asset_queued_events",
            "delete_dag_asset_queued_events",
            "delete_dag_asset_queued_event",
            "clear_asset_state_store",
            "set_asset_state_store",
            "delete_asset_state_store",
        )
    },
    "create_backfill": (
        WriteGap.NEEDS_OBJECT,
        "needs a probe DAG with a periodic schedule: the probe DAG has none, and "
        "3.x answers 422 (deviation v2-backfill-non-periodic-422)",
    ),
    "create_backfill_dry_run": (
        WriteGap.NEEDS_OBJECT,
        "needs a probe DAG with a periodic schedule: the probe DAG has "
        "none, and 3.x answers 422 (deviation v2-backfill-non-periodic-422)",
    ),
    **{
        op: (
            WriteGap.NEEDS_OBJECT,
            "needs a backfill of the run's own, which needs a probe DAG with a periodic schedule",
        )
        for op in ("cancel_backfill", "pause_backfill", "unpause_backfill")
    },
    "clear_dag_run_partitions": (WriteGap.NEEDS_OBJECT, "needs a partitioned DAG (the probe DAG is not one)"),
    "patch_task_group_instances": (WriteGap.NEEDS_OBJECT, "needs a probe DAG with a task group (it has none)"),
    "patch_task_group_instances_dry_run": (WriteGap.NEEDS_OBJECT, "needs a probe DAG with a task group (it has none)"),
    "update_hitl_detail": (WriteGap.NEEDS_OBJECT, "needs a probe DAG with a human-in-the-loop task (it has none)"),
    "favorite_dag": (
        WriteGap.NEEDS_OBJECT,
        "answered 409 when the probe DAG is already a favorite of the user "
        "(deviation v2-unique-constraint-409); favoriting after an unfavorite is "
        "not sequenced yet",
    ),
}
