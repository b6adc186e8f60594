"""What changed in the REST API contract between two reference specs.

Operations are matched by ``operationId``; an operation that disappears and
another that appears under the same method and path (relative to the API base,
path-parameter names ignored) count as one *renamed* operation. For every
operation present in both, the diff lists parameters, request-body fields and
response status codes that were added, removed or changed; for component
schemas, fields added, removed or changed.

Types are summarised the same way for both API generations so that a 2.x
``nullable: true`` string and a 3.x ``anyOf: [string, null]`` both read
``string|null``.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from conformance.specs._common import HTTP_METHODS
from conformance.specs.catalog import (
    Operation,
    api_generation,
    base_path,
    full_path,
    operations,
    resolve,
)


@dataclass(frozen=True)
class OperationRef:
    operation_id: str
    method: str
    path: str


@dataclass(frozen=True)
class Rename:
    old_id: str
    new_id: str
    method: str
    old_path: str
    new_path: str


@dataclass(frozen=True)
class FieldChange:
    """``name``'s ``aspect`` (type, required, readOnly, in) went from ``before`` to ``after``."""

    name: str
    aspect: str
    before: Any
    after: Any


@dataclass
class OperationChange:
    operation_id: str  # the id in spec B
    method: str
    path: str  # full path in spec B
    renamed_from: str | None = None
    old_path: str | None = None  # set when the path relative to the API base changed
    old_method: str | None = None
    parameters_added: list[str] = field(default_factory=list)  # "in:name (type)"
    parameters_removed: list[str] = field(default_factory=list)
    parameters_changed: list[FieldChange] = field(default_factory=list)
    request_body: str | None = None  # "added" / "removed" / None
    request_body_fields_added: list[str] = field(default_factory=list)  # "name (type)"
    request_body_fields_removed: list[str] = field(default_factory=list)
    request_body_fields_changed: list[FieldChange] = field(default_factory=list)
    responses_added: list[str] = field(default_factory=list)
    responses_removed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True for a bare rename, which operations_renamed already lists."""
        return not _records_a_change(self, ("operation_id", "method", "path", "renamed_from"))


@dataclass
class SchemaChange:
    name: str
    fields_added: list[str] = field(default_factory=list)  # "name (type)"
    fields_removed: list[str] = field(default_factory=list)
    fields_changed: list[FieldChange] = field(default_factory=list)


@dataclass
class SpecDiff:
    version_a: str
    version_b: str
    api_a: str
    api_b: str
    base_path_a: str
    base_path_b: str
    operation_count_a: int
    operation_count_b: int
    operations_added: list[OperationRef] = field(default_factory=list)
    operations_removed: list[OperationRef] = field(default_factory=list)
    operations_renamed: list[Rename] = field(default_factory=list)
    operations_changed: list[OperationChange] = field(default_factory=list)
    schemas_added: list[str] = field(default_factory=list)
    schemas_removed: list[str] = field(default_factory=list)
    schemas_changed: list[SchemaChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when the two specs describe the same contract (as far as this diff sees)."""
        return not _records_a_change(
            self,
            (
                "version_a",
                "version_b",
                "api_a",
                "api_b",
                "base_path_a",
                "base_path_b",
                "operation_count_a",
                "operation_count_b",
            ),
        )


def _records_a_change(record: Any, identity: tuple[str, ...]) -> bool:
    """Whether any field of a diff record other than those naming what it describes is set.

    Every other field is a change, so a field added to a record later counts without being listed here.
    """
    return any(getattr(record, f.name) for f in dataclasses.fields(record) if f.name not in identity)


# --------------------------------------------------------------------------- types


def type_summary(spec: dict, schema: Any, _depth: int = 0) -> str:
    """A short, generation-independent description of a schema's type."""
    if not isinstance(schema, dict) or _depth > 6:
        return "any"
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            parts: list[str] = []
            for sub in schema[key]:
                text = type_summary(spec, sub, _depth + 1)
                for piece in text.split("|"):
                    if piece not in parts:
                        parts.append(piece)
            return _nullable("|".join(parts), schema)
    if isinstance(schema.get("allOf"), list):
        subs = [type_summary(spec, s, _depth + 1) for s in schema["allOf"]]
        text = subs[0] if len(subs) == 1 else "&".join(subs)
        return _nullable(text, schema)
    types = schema.get("type")
    if isinstance(types, list):
        names = [_one_type(spec, schema, t, _depth) for t in types]
        return "|".join(dict.fromkeys(names))
    if types is None:
        if "properties" in schema:
            types = "object"
        elif "const" in schema:
            return _nullable(f"const({schema['const']!r})", schema)
        else:
            return _nullable("any", schema)
    return _nullable(_one_type(spec, schema, str(types), _depth), schema)


def _one_type(spec: dict, schema: dict, name: str, depth: int) -> str:
    if name == "array":
        return f"array[{type_summary(spec, schema.get('items'), depth + 1)}]"
    fmt = schema.get("format")
    return f"{name}({fmt})" if fmt and name != "null" else name


def _nullable(text: str, schema: dict) -> str:
    if schema.get("nullable") and "null" not in text.split("|"):
        return text + "|null"
    return text


def schema_fields(spec: dict, schema: Any) -> dict[str, dict]:
    """``{field: {"type", "required", "readOnly"}}`` of an object schema (allOf merged)."""
    fields: dict[str, dict] = {}
    required: set[str] = set()
    seen: set[str] = set()

    def walk(node: Any, depth: int) -> None:
        if not isinstance(node, dict) or depth > 8:
            return
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in seen:
                return
            seen.add(ref)
            walk(resolve(spec, node), depth + 1)
            return
        for sub in node.get("allOf") or []:
            walk(sub, depth + 1)
        required.update(r for r in node.get("required") or [] if isinstance(r, str))
        for name, prop in (node.get("properties") or {}).items():
            target = resolve(spec, prop) if isinstance(prop, dict) and "$ref" in prop else prop
            fields[name] = {
                "type": type_summary(spec, prop),
                "readOnly": bool(isinstance(target, dict) and target.get("readOnly")),
            }

    walk(schema, 0)
    for name, info in fields.items():
        info["required"] = name in required
    return fields


def _compare_fields(a: dict[str, dict], b: dict[str, dict]) -> tuple[list[str], list[str], list[FieldChange]]:
    added = [f"{n} ({b[n]['type']})" for n in b if n not in a]
    removed = [f"{n} ({a[n]['type']})" for n in a if n not in b]
    changed = []
    for name in (n for n in b if n in a):
        for aspect in ("type", "required", "readOnly"):
            if a[name][aspect] != b[name][aspect]:
                changed.append(FieldChange(name, aspect, a[name][aspect], b[name][aspect]))
    return added, removed, changed


# --------------------------------------------------------------------------- operations


def _relative(path: str, base: str) -> str:
    return path[len(base) :] if base and path.startswith(base + "/") else path


def _template(path: str) -> str:
    """Path shape for matching: parameter names dropped, and 2.x's literal ``~``
    ("all DAGs/runs") counted as a parameter, as 3.x declares it."""
    segments = re.sub(r"\{[^}]*\}", "{}", path).split("/")
    return "/".join("{}" if seg == "~" else seg for seg in segments)


def raw_operations(spec: dict) -> dict[tuple[str, str], dict]:
    """``{(METHOD, full path): operation object}`` of a spec."""
    out = {}
    for path, item in (spec.get("paths") or {}).items():
        item = resolve(spec, item)
        for method in HTTP_METHODS:
            if isinstance(item.get(method), dict):
                out[(method.upper(), full_path(spec, path))] = item[method]
    return out


def parameters(spec: dict, op: Operation) -> dict[tuple[str, str], dict]:
    """{(in, name): {"type", "required"}} of an operation's parameters."""
    out = {}
    for param in op.parameters:
        key = (str(param.get("in", "")), str(param.get("name", "")))
        schema = param.get("schema")
        if schema is None and isinstance(param.get("content"), dict):
            first: object = next(iter(param["content"].values()), {})
            schema = first.get("schema") if isinstance(first, dict) else None
        out[key] = {
            "type": type_summary(spec, schema),
            "required": bool(param.get("required", False)),
        }
    return out


def _body_schema(spec: dict, raw_op: dict) -> tuple[bool, Any]:
    body = raw_op.get("requestBody")
    if body is None:
        return False, None
    body = resolve(spec, body)
    content = (body or {}).get("content") or {}
    media: dict = content.get("application/json") or next(iter(content.values()), {})
    return True, (media or {}).get("schema")


def _compare_operations(
    spec_a: dict,
    op_a: Operation,
    raw_a: dict,
    spec_b: dict,
    op_b: Operation,
    raw_b: dict,
    bases: tuple[str, str],
) -> OperationChange:
    base_a, base_b = bases
    change = OperationChange(op_b.operation_id, op_b.method, op_b.path)
    if op_a.operation_id != op_b.operation_id:
        change.renamed_from = op_a.operation_id
    if _relative(op_a.path, base_a) != _relative(op_b.path, base_b):
        change.old_path = op_a.path
    if op_a.method != op_b.method:
        change.old_method = op_a.method

    pa, pb = parameters(spec_a, op_a), parameters(spec_b, op_b)
    change.parameters_added = [f"{k[0]}:{k[1]} ({pb[k]['type']})" for k in pb if k not in pa]
    change.parameters_removed = [f"{k[0]}:{k[1]} ({pa[k]['type']})" for k in pa if k not in pb]
    for key in (k for k in pb if k in pa):
        for aspect in ("type", "required"):
            if pa[key][aspect] != pb[key][aspect]:
                change.parameters_changed.append(
                    FieldChange(f"{key[0]}:{key[1]}", aspect, pa[key][aspect], pb[key][aspect])
                )

    has_a, body_a = _body_schema(spec_a, raw_a)
    has_b, body_b = _body_schema(spec_b, raw_b)
    if has_a != has_b:
        change.request_body = "added" if has_b else "removed"
    fa = schema_fields(spec_a, body_a) if has_a else {}
    fb = schema_fields(spec_b, body_b) if has_b else {}
    (
        change.request_body_fields_added,
        change.request_body_fields_removed,
        change.request_body_fields_changed,
    ) = _compare_fields(fa, fb)

    ra = [str(c) for c in (raw_a.get("responses") or {})]
    rb = [str(c) for c in (raw_b.get("responses") or {})]
    change.responses_added = [c for c in rb if c not in ra]
    change.responses_removed = [c for c in ra if c not in rb]
    return change


def _label(spec: dict) -> str:
    return str(spec.get("x-airflow-version") or (spec.get("info") or {}).get("version") or "?")


def diff_specs(spec_a: dict, spec_b: dict) -> SpecDiff:
    """Compare two (reduced) specs: what a client of ``spec_a`` meets in ``spec_b``."""
    base_a, base_b = base_path(spec_a), base_path(spec_b)
    ops_a, ops_b = operations(spec_a), operations(spec_b)
    diff = SpecDiff(
        version_a=_label(spec_a),
        version_b=_label(spec_b),
        api_a=api_generation(spec_a),
        api_b=api_generation(spec_b),
        base_path_a=base_a,
        base_path_b=base_b,
        operation_count_a=len(ops_a),
        operation_count_b=len(ops_b),
    )
    by_id_a = {op.operation_id: op for op in ops_a}
    by_id_b = {op.operation_id: op for op in ops_b}
    only_a = [op for op in ops_a if op.operation_id not in by_id_b]
    only_b = [op for op in ops_b if op.operation_id not in by_id_a]
    renamed = _match_renames(only_a, only_b, (base_a, base_b))
    diff.operations_renamed = [
        Rename(op.operation_id, match.operation_id, match.method, op.path, match.path) for op, match in renamed
    ]
    diff.operations_removed = [OperationRef(o.operation_id, o.method, o.path) for o in only_a]
    diff.operations_added = [OperationRef(o.operation_id, o.method, o.path) for o in only_b]
    pairs = [(by_id_a[op.operation_id], op) for op in ops_b if op.operation_id in by_id_a] + renamed
    diff.operations_changed = _changed_operations(spec_a, spec_b, pairs, (base_a, base_b))
    diff.schemas_added, diff.schemas_removed, diff.schemas_changed = _schema_changes(spec_a, spec_b)
    return diff


def _match_renames(
    only_a: list[Operation], only_b: list[Operation], bases: tuple[str, str]
) -> list[tuple[Operation, Operation]]:
    """Pair operations that vanished from A with ones new in B under the same method and path shape.

    Matched operations are taken out of ``only_a`` and ``only_b``, which are left holding
    the operations really removed and added.
    """
    base_a, base_b = bases

    def key(op: Operation, base: str) -> tuple[str, str]:
        return op.method, _template(_relative(op.path, base))

    pool_b = {key(op, base_b): op for op in only_b}
    pairs: list[tuple[Operation, Operation]] = []
    for op in list(only_a):
        match = pool_b.pop(key(op, base_a), None)
        if match is not None:
            pairs.append((op, match))
            only_a.remove(op)
            only_b.remove(match)
    return pairs


def _changed_operations(
    spec_a: dict, spec_b: dict, pairs: list[tuple[Operation, Operation]], bases: tuple[str, str]
) -> list[OperationChange]:
    """What changed in each operation of both specs, leaving out those that did not change."""
    raw_a, raw_b = raw_operations(spec_a), raw_operations(spec_b)
    changes = []
    for op_a, op_b in pairs:
        change = _compare_operations(
            spec_a,
            op_a,
            raw_a.get((op_a.method, op_a.path), {}),
            spec_b,
            op_b,
            raw_b.get((op_b.method, op_b.path), {}),
            bases,
        )
        if not change.empty:  # a bare rename is already listed under operations_renamed
            changes.append(change)
    return changes


def _schema_changes(spec_a: dict, spec_b: dict) -> tuple[list[str], list[str], list[SchemaChange]]:
    """Component schemas added, removed and changed (fields, or the schema's own type)."""
    schemas_a = ((spec_a.get("components") or {}).get("schemas")) or {}
    schemas_b = ((spec_b.get("components") or {}).get("schemas")) or {}
    added_schemas = [n for n in schemas_b if n not in schemas_a]
    removed_schemas = [n for n in schemas_a if n not in schemas_b]
    changed_schemas = []
    for name in (n for n in schemas_b if n in schemas_a):
        added, removed, changed = _compare_fields(
            schema_fields(spec_a, schemas_a[name]), schema_fields(spec_b, schemas_b[name])
        )
        a_type, b_type = _top_type(spec_a, schemas_a[name]), _top_type(spec_b, schemas_b[name])
        if a_type != b_type:
            changed.insert(0, FieldChange("(schema)", "type", a_type, b_type))
        if added or removed or changed:
            changed_schemas.append(SchemaChange(name, added, removed, changed))
    return added_schemas, removed_schemas, changed_schemas


def _top_type(spec: dict, schema: Any) -> str:
    """The schema's own type, not looking inside object properties."""
    if isinstance(schema, dict) and ("properties" in schema or "allOf" in schema):
        return "object"
    return type_summary(spec, schema)


# --------------------------------------------------------------------------- output


def to_dict(diff: SpecDiff) -> dict:
    """A JSON-serialisable form (used by the compatibility matrix)."""
    data = dataclasses.asdict(diff)
    data["empty"] = diff.empty
    data["summary"] = {
        "operations_added": len(diff.operations_added),
        "operations_removed": len(diff.operations_removed),
        "operations_renamed": len(diff.operations_renamed),
        "operations_changed": len(diff.operations_changed),
        "schemas_added": len(diff.schemas_added),
        "schemas_removed": len(diff.schemas_removed),
        "schemas_changed": len(diff.schemas_changed),
    }
    return data


def _fc(change: FieldChange) -> str:
    return f"{change.name} {change.aspect} {change.before} -> {change.after}"


def format_text(diff: SpecDiff) -> str:
    """A plain-text report for people."""
    lines = _headline(diff)
    if diff.empty:
        lines.append("")
        lines.append("No differences.")
        return "\n".join(lines) + "\n"
    width = 7
    lines += _section(
        "Added operations", [f"  + {o.method:<{width}} {o.path}  {o.operation_id}" for o in diff.operations_added]
    )
    lines += _section(
        "Removed operations", [f"  - {o.method:<{width}} {o.path}  {o.operation_id}" for o in diff.operations_removed]
    )
    lines += _section(
        "Renamed operations",
        [f"  ~ {r.method:<{width}} {r.new_path}  {r.old_id} -> {r.new_id}" for r in diff.operations_renamed],
    )
    lines += _section(
        "Changed operations",
        [row for c in diff.operations_changed for row in operation_rows(c)],
        count=len(diff.operations_changed),
    )
    lines += _section("Added schemas", [f"  + {n}" for n in diff.schemas_added])
    lines += _section("Removed schemas", [f"  - {n}" for n in diff.schemas_removed])
    lines += _section(
        "Changed schemas",
        [row for c in diff.schemas_changed for row in _schema_rows(c)],
        count=len(diff.schemas_changed),
    )
    return "\n".join(lines) + "\n"


def _section(title: str, rows: list[str], count: int | None = None) -> list[str]:
    """A titled block of rows, or nothing when there are none.

    ``count`` is what the title counts when one item spans several rows (a change and its details).
    """
    if not rows:
        return []
    return ["", f"{title} ({len(rows) if count is None else count}):", *rows]


def _headline(diff: SpecDiff) -> list[str]:
    """The two releases and how many operations and schemas changed, whatever the details."""
    return [
        f"Airflow {diff.version_a} ({diff.api_a} {diff.base_path_a or '/'}) -> "
        f"Airflow {diff.version_b} ({diff.api_b} {diff.base_path_b or '/'})",
        f"operations: {diff.operation_count_a} -> {diff.operation_count_b} "
        f"(+{len(diff.operations_added)} added, -{len(diff.operations_removed)} removed, "
        f"{len(diff.operations_renamed)} renamed, {len(diff.operations_changed)} changed)",
        f"component schemas: +{len(diff.schemas_added)} added, -{len(diff.schemas_removed)} "
        f"removed, {len(diff.schemas_changed)} changed",
    ]


def operation_rows(c: OperationChange) -> list[str]:
    head = f"  ~ {c.operation_id}  {c.method} {c.path}"
    if c.renamed_from:
        head += f"  (was {c.renamed_from})"
    rows = [head]
    if c.old_path:
        rows.append(f"      path: {c.old_path} -> {c.path}")
    if c.old_method:
        rows.append(f"      method: {c.old_method} -> {c.method}")
    rows += [f"      parameter added: {p}" for p in c.parameters_added]
    rows += [f"      parameter removed: {p}" for p in c.parameters_removed]
    rows += [f"      parameter changed: {_fc(p)}" for p in c.parameters_changed]
    if c.request_body:
        rows.append(f"      request body {c.request_body}")
    rows += [f"      body field added: {p}" for p in c.request_body_fields_added]
    rows += [f"      body field removed: {p}" for p in c.request_body_fields_removed]
    rows += [f"      body field changed: {_fc(p)}" for p in c.request_body_fields_changed]
    if c.responses_added:
        rows.append(f"      responses added: {', '.join(c.responses_added)}")
    if c.responses_removed:
        rows.append(f"      responses removed: {', '.join(c.responses_removed)}")
    return rows


def _schema_rows(s: SchemaChange) -> list[str]:
    rows = [f"  ~ {s.name}"]
    rows += [f"      field added: {p}" for p in s.fields_added]
    rows += [f"      field removed: {p}" for p in s.fields_removed]
    rows += [f"      field changed: {_fc(p)}" for p in s.fields_changed]
    return rows
