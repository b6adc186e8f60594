"""The half of an upgrade report that the two reference specs decide: the contract on paper.

Which API generation and base path each side serves, how it authenticates (its security schemes),
which status it documents for invalid input, which operations left, arrived or were renamed (paired
by the evidence `specs.pairing` names), and per operation present on both sides the request and
response fields removed, renamed or retyped. Every operation carries a short excerpt of its spec entry,
the evidence a reader checks an item against.
"""

from __future__ import annotations

from collections import Counter

from conformance.model.generations import renamed_terms
from conformance.specs import catalog, diff, fields, pairing

EXCERPT_CHARS = 400
VALIDATION = ("400", "422")  # the statuses Airflow documents for a request its validation refused


def security(spec: dict) -> list[str]:
    """The spec's security schemes as a client reads them: `http basic`, `http bearer`, `oauth2 password -> /auth/token`."""
    out = []
    for scheme in ((spec.get("components") or {}).get("securitySchemes") or {}).values():
        kind = str(scheme.get("type", ""))
        if kind == "http":
            out.append(f"http {scheme.get('scheme', '')}".strip())
        elif kind == "oauth2":
            for flow, data in (scheme.get("flows") or {}).items():
                out.append(f"oauth2 {flow} -> {data.get('tokenUrl', '')}".strip(" ->"))
        elif kind:
            out.append(kind)
    return sorted(set(out))


def validation_status(spec: dict) -> dict:
    """How many operations document 400 and 422, and which of the two the spec uses for invalid input."""
    counts: Counter[str] = Counter()
    for raw in diff.raw_operations(spec).values():
        codes = {str(c) for c in raw.get("responses") or {}}
        counts.update(c for c in VALIDATION if c in codes)
    main = max(VALIDATION, key=lambda c: counts[c]) if any(counts.values()) else ""
    return {"status": main, "operations": len(diff.raw_operations(spec)), **{c: counts[c] for c in VALIDATION}}


def excerpt(spec: dict, raw: dict, method: str, path: str) -> str:
    """The operation's entry in the reduced spec, one line per part: id and tags, parameters, request body,
    responses (each schema by its name or type), cut to EXCERPT_CHARS a line."""

    def cut(text: str) -> str:
        return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"

    params = []
    for p in raw.get("parameters") or []:
        p = catalog.resolve(spec, p)
        params.append(
            f"{p.get('in')}:{p.get('name')} ({diff.type_summary(spec, p.get('schema'))}"
            f"{', required' if p.get('required') else ''})"
        )
    lines = [
        f"{method} {path}  (Airflow {spec.get('x-airflow-version', '?')} reference spec)",
        f"operationId: {raw.get('operationId', '?')}; tags: {', '.join(raw.get('tags') or []) or '-'}",
    ]
    if params:
        lines.append(cut("parameters: " + "; ".join(params)))
    if raw.get("requestBody"):
        lines.append(cut(f"requestBody: {_media_types(spec, raw['requestBody'])}"))
    responses = raw.get("responses") or {}
    lines.append(cut("responses: " + "; ".join(f"{code} {_media_types(spec, responses[code])}" for code in responses)))
    return "\n".join(lines)


def _media_types(spec: dict, holder: object) -> str:
    content = (catalog.resolve(spec, holder) or {}).get("content") or {}
    return (
        ", ".join(f"{media} {diff.type_summary(spec, (body or {}).get('schema'))}" for media, body in content.items())
        or "(no body)"
    )


def _ref(spec: dict, raw_ops: dict, op: diff.OperationRef, tags: dict[str, str]) -> dict:
    raw = raw_ops.get((op.method, op.path), {})
    return {
        "operation": op.operation_id,
        "method": op.method,
        "path": op.path,
        "tag": tags.get(op.operation_id, ""),
        "excerpt": excerpt(spec, raw, op.method, op.path),
    }


def spec_part(version_a: str, version_b: str, uses: set[str] | None = None) -> dict:
    """Everything the specs of `version_a` and `version_b` say a client meets; `uses`: the operations of A the
    client calls (None: all), which the field changes are limited to."""
    spec_a, spec_b = catalog.load_spec(version_a), catalog.load_spec(version_b)
    d = diff.diff_specs(spec_a, spec_b)
    terms = renamed_terms(d.api_a, d.api_b)
    pairs, removed, added = pairing.pair_operations(d, terms)
    raw_a, raw_b = diff.raw_operations(spec_a), diff.raw_operations(spec_b)
    tags_a, tags_b = catalog.operation_tags(spec_a), catalog.operation_tags(spec_b)
    ops_b: dict[str, list[catalog.Operation]] = {}
    for n in catalog.operations(spec_b):  # read once: operations() resolves and copies every parameter
        ops_b.setdefault(n.operation_id, []).append(n)
    kept = [
        pairing.Pair(
            diff.OperationRef(o.operation_id, o.method, o.path), diff.OperationRef(o.operation_id, n.method, n.path), ""
        )
        for o in catalog.operations(spec_a)
        for n in ops_b.get(o.operation_id, [])
    ]
    return {
        "versions": [version_a, version_b],
        "api": [d.api_a, d.api_b],
        "base_path": [d.base_path_a, d.base_path_b],
        "operation_count": [d.operation_count_a, d.operation_count_b],
        "security": [security(spec_a), security(spec_b)],
        "validation": [validation_status(spec_a), validation_status(spec_b)],
        "terms": [list(t) for t in terms],
        "removed": [_ref(spec_a, raw_a, o, tags_a) for o in removed],
        "added": [_ref(spec_b, raw_b, o, tags_b) for o in added],
        "renamed": [
            {
                "from": _ref(spec_a, raw_a, p.old, tags_a),
                "to": _ref(spec_b, raw_b, p.new, tags_b),
                "how": p.how,
                "rule": p.rule,
            }
            for p in pairs
        ],
        "fields": _field_changes(spec_a, spec_b, [*kept, *pairs], terms, uses),
    }


def _field_changes(
    spec_a: dict, spec_b: dict, pairs: list[pairing.Pair], terms: tuple, uses: set[str] | None
) -> list[dict]:
    """Per operation on both sides (and in `uses`): its request fields (parameters and body) and response fields
    removed, renamed or retyped, and the request inputs TO requires that FROM did not."""
    raw_a, raw_b = diff.raw_operations(spec_a), diff.raw_operations(spec_b)
    ops_a = {(o.method, o.path): o for o in catalog.operations(spec_a)}
    ops_b = {(o.method, o.path): o for o in catalog.operations(spec_b)}
    out = []
    for pair in pairs:
        if uses is not None and pair.old.operation_id not in uses:
            continue
        key_a, key_b = (pair.old.method, pair.old.path), (pair.new.method, pair.new.path)
        op_a, op_b = raw_a.get(key_a, {}), raw_b.get(key_b, {})
        request_a = {**fields.parameter_fields(spec_a, ops_a[key_a]), **fields.request_fields(spec_a, op_a)}
        request_b = {**fields.parameter_fields(spec_b, ops_b[key_b]), **fields.request_fields(spec_b, op_b)}
        sides = {
            "request": fields.compare_fields(request_a, request_b, terms),
            "response": fields.compare_fields(
                fields.response_fields(spec_a, op_a), fields.response_fields(spec_b, op_b), terms
            ),
        }
        renamed = dict(sides["request"].renamed)
        required = sorted(
            fields.required_inputs(spec_b, op_b, ops_b[key_b])
            - {renamed.get(n, n) for n in fields.required_inputs(spec_a, op_a, ops_a[key_a])}
        )
        if not any(f.breaking for f in sides.values()) and not required:
            continue
        row: dict = {
            "operation": pair.old.operation_id,
            "to": pair.new.operation_id,
            "method": pair.new.method,
            "path": pair.new.path,
            "excerpt": excerpt(spec_b, op_b, pair.new.method, pair.new.path),
            "excerpt_from": excerpt(spec_a, op_a, pair.old.method, pair.old.path),
            "newly_required": required,
        }
        for side, f in sides.items():
            row[side] = {
                "removed": f.removed,
                "renamed": [list(r) for r in f.renamed],
                "retyped": [list(r) for r in f.retyped],
                "added": len(f.added),
            }
        out.append(row)
    return out
