"""What the reference spec documents for one operation: its statuses and their media types.

Several checks and the deviation judge need the same reading of an operation's
`responses` (an exact code, a `4XX` range, or `default`), so it lives here once.
A status the spec documents is conformant as a status whatever the reason the
server gave it: OpenAPI lists the answers a client must be ready for.
"""

from __future__ import annotations

from collections.abc import Mapping


def operation(spec: Mapping, operation_id: str) -> dict:
    """The operation object with this operationId ({} when the spec has none)."""
    for item in (spec.get("paths") or {}).values():
        if not isinstance(item, dict):
            continue
        for op in item.values():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                return op
    return {}


def response_for(op: Mapping, status: int) -> object:
    """The response object documented for `status` (exact, then `NXX`, then `default`), or None."""
    responses = op.get("responses") or {}
    for key in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx", "default"):
        if key in responses:
            return responses[key]
    return None


def is_documented(op: Mapping, status: int) -> bool:
    return response_for(op, status) is not None


def media_types(spec: Mapping, op: Mapping, status: int) -> tuple[str, ...] | None:
    """The media types documented for `status` (() for a body-less answer, None when the status is undocumented)."""
    found = _resolve(spec, response_for(op, status))
    if found is None:
        return None
    content = found.get("content") if isinstance(found, dict) else None
    return tuple(str(t).split(";")[0].strip().lower() for t in (content or {}))


def _resolve(spec: Mapping, node: object) -> object:
    """Follow local `$ref`s (components/responses/...) to the response object."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 8:
        ref = str(node["$ref"])
        if not ref.startswith("#/"):
            return node
        target: object = spec
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        node, seen = target, seen + 1
    return node
