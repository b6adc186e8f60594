"""The fields a client writes and reads per operation, flattened, and how they changed between two specs.

A client breaks on a field it reads that is gone or changed type, and on a field it writes that is
no longer accepted; where a list wraps the objects (`dag_runs[]`), the fields inside it are what it
reads. So request bodies and 2xx JSON responses are flattened to dotted names (`dag_runs[].logical_date`)
a few levels deep, and compared name by name; a field that vanished while another appeared under the
name a generation's renamed term gives it (`execution_date` -> `logical_date`) is reported as renamed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.specs.catalog import Operation, resolve
from conformance.specs.diff import parameters, schema_fields, type_summary
from conformance.specs.pairing import rename_term

MAX_DEPTH = 3


def _object_of(spec: dict, schema: Any) -> tuple[str, Any] | None:
    """("", object schema) or ("[]", item object schema) when `schema` holds named fields, else None."""
    node = resolve(spec, schema)
    if not isinstance(node, dict):
        return None
    for key in ("anyOf", "oneOf"):  # `X | null`: the object branch
        subs = [resolve(spec, s) for s in node.get(key) or []]
        objects = [s for s in subs if isinstance(s, dict) and (s.get("properties") or s.get("allOf") or s.get("items"))]
        if len(objects) == 1:
            node = objects[0]
    if node.get("type") == "array" or "items" in node:
        inner = _object_of(spec, node.get("items"))
        return ("[]", inner[1]) if inner and not inner[0] else None
    if node.get("properties") or node.get("allOf"):
        return "", node
    return None


def flat_fields(spec: dict, schema: Any, prefix: str = "", depth: int = 0, writable: bool = False) -> dict[str, str]:
    """{dotted name: type summary} of an object schema and the objects inside it, MAX_DEPTH levels deep
    (`writable`: without readOnly fields, which a request body never carries)."""
    out: dict[str, str] = {}
    top = _object_of(spec, schema)
    if top is None or depth >= MAX_DEPTH:
        return out
    raw = _properties(spec, top[1])
    for name, info in schema_fields(spec, top[1]).items():
        if writable and info["readOnly"]:
            continue
        dotted = f"{prefix}{top[0]}.{name}" if prefix or top[0] else name
        out[dotted.lstrip(".")] = field_type(spec, raw.get(name))
        inner = _object_of(spec, raw.get(name))
        if inner is not None:
            out.update(flat_fields(spec, raw.get(name), dotted.lstrip("."), depth + 1, writable))
    return out


def _properties(spec: dict, node: Any, depth: int = 0) -> dict[str, Any]:
    """The raw property schemas of an object (allOf merged), for descending into them."""
    node = resolve(spec, node)
    if not isinstance(node, dict) or depth > 6:
        return {}
    out: dict[str, Any] = {}
    for sub in node.get("allOf") or []:
        out.update(_properties(spec, sub, depth + 1))
    out.update(node.get("properties") or {})
    return out


def _json_schema(spec: dict, holder: Any) -> Any:
    content = (resolve(spec, holder) or {}).get("content") or {}
    media = content.get("application/json") or next(iter(content.values()), None) or {}
    return media.get("schema") if isinstance(media, dict) else None


def request_fields(spec: dict, raw_op: dict) -> dict[str, str]:
    """The request body's fields (empty without a JSON body)."""
    body = raw_op.get("requestBody")
    return flat_fields(spec, _json_schema(spec, body), writable=True) if body else {}


def parameter_fields(spec: dict, op: Operation) -> dict[str, str]:
    """The operation's parameters as request fields: `query:limit`, `path:dag_id`, `header:accept`."""
    return {f"{where}:{name}": info["type"] for (where, name), info in parameters(spec, op).items()}


def required_inputs(spec: dict, raw_op: dict, op: Operation) -> set[str]:
    """What a request must carry: its required parameters and the required top-level body fields
    (readOnly ones aside); a client of the older spec that leaves one out is refused."""
    out = {f"{where}:{name}" for (where, name), info in parameters(spec, op).items() if info["required"]}
    body = raw_op.get("requestBody")
    if body:
        top = _object_of(spec, _json_schema(spec, body))
        if top is not None and not top[0]:
            out |= {n for n, info in schema_fields(spec, top[1]).items() if info["required"] and not info["readOnly"]}
    return out


def response_fields(spec: dict, raw_op: dict) -> dict[str, str]:
    """The fields of the operation's first documented 2xx JSON answer."""
    responses = raw_op.get("responses") or {}
    code = next((c for c in sorted(map(str, responses)) if c.startswith("2")), None)
    if code is None:
        return {}
    return flat_fields(spec, _json_schema(spec, responses.get(code) if code in responses else responses.get(int(code))))


@dataclass
class FieldDiff:
    """What happened to the fields of one side (request or response) of one operation."""

    removed: list[str] = field(default_factory=list)  # "name (type)"
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (old, new): the old name is gone
    retyped: list[tuple[str, str, str]] = field(default_factory=list)  # (name, old type, new type)
    added: list[str] = field(default_factory=list)

    @property
    def breaking(self) -> bool:
        """Something a client of the old spec relied on is gone or different."""
        return bool(self.removed or self.renamed or self.retyped)


def compare_fields(a: dict[str, str], b: dict[str, str], terms: tuple[tuple[str, str], ...] = ()) -> FieldDiff:
    """The fields of `a` missing, renamed (by the renamed `terms`) or retyped in `b`, and those only in `b`.

    A field inside an object that is itself removed, renamed or added is not listed again: `sla_miss`
    removed says what `sla_miss.dag_id` removed would.
    """
    out = FieldDiff()
    gone = [n for n in a if n not in b]
    new = [n for n in b if n not in a]
    for name in gone:
        renamed = rename_term(name, terms) if terms else name
        if renamed != name and renamed in b:  # the new name may already be there beside the old one
            out.renamed.append((name, renamed))
            if renamed in new:
                new.remove(renamed)
        else:
            out.removed.append(name)
    covered = {*out.removed, *(old for old, _ in out.renamed)}
    out.renamed = [(o, n) for o, n in out.renamed if not _inside(o, covered)]
    out.removed = [f"{n} ({a[n]})" for n in out.removed if not _inside(n, covered)]
    out.retyped = [(n, a[n], b[n]) for n in a if n in b and _base_type(a[n]) != _base_type(b[n])]
    out.added = [f"{n} ({b[n]})" for n in new if not _inside(n, set(new))]
    return out


def _inside(name: str, parents: set[str]) -> bool:
    """Whether a field sits inside one of `parents` (`sla_miss.dag_id` inside `sla_miss`, `runs[].id` inside `runs`)."""
    parts = name.replace("[]", "").split(".")
    return any(".".join(parts[:i]) in {p.replace("[]", "") for p in parents} for i in range(1, len(parts)))


def _base_type(summary: str) -> str:
    """A type with nullability left aside: `string|null` and `string` read the same to a client that sends or
    reads strings (a field that may now be null is a detail, not a type change); a format other than a date's
    (`password`, `uuid`, `path`) changes no JSON type, and `string(date-time)` and `string(datetime)` are one
    type spelled by two generations."""
    parts = set()
    for part in summary.split("|"):
        if part == "null":
            continue
        part = part.replace("(datetime)", "(date-time)")
        parts.add(
            part
            if part.endswith(("(date-time)", "(date)")) or "(" not in part or "[" in part
            else part.split("(", 1)[0]
        )
    return "|".join(sorted(parts)) or "null"


def field_type(spec: dict, schema: Any) -> str:
    """A field's type with schema names resolved: an enum schema reads `string`, an object schema `object`,
    so a schema renamed between generations (`DagState` -> `DagRunState`) is no type change."""
    return type_summary(spec, _plain(spec, schema, 0))


def _plain(spec: dict, node: Any, depth: int) -> Any:
    if depth > 6 or not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = resolve(spec, node)
        if isinstance(target, dict) and (target.get("properties") or target.get("allOf")):
            return {"type": "object"}
        return _plain(spec, target, depth + 1)
    out = dict(node)
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(node.get(key), list):
            out[key] = [_plain(spec, sub, depth + 1) for sub in node[key]]
    if isinstance(node.get("items"), dict):
        out["items"] = _plain(spec, node["items"], depth + 1)
    return out
