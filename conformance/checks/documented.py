"""What the reference spec documents for one operation: its statuses and their media types.

Several checks and the deviation judge need the same reading of an operation's
`responses` (an exact code, a `4XX` range, or `default`), so it lives here once.
A status the spec documents is conformant as a status whatever the reason the
server gave it: OpenAPI lists the answers a client must be ready for.
"""

from __future__ import annotations

from collections.abc import Mapping

from conformance.specs.catalog import resolve
from conformance.specs.documented import response_key


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
    key = response_key(responses, status)
    return responses[key] if key else None


def is_documented(op: Mapping, status: int) -> bool:
    return response_for(op, status) is not None


def media_types(spec: Mapping, op: Mapping, status: int) -> tuple[str, ...] | None:
    """The media types documented for `status` (() for a body-less answer, None when the status is undocumented)."""
    found = resolve(spec, response_for(op, status))
    if found is None:
        return None
    content = found.get("content") if isinstance(found, dict) else None
    return tuple(str(t).split(";")[0].strip().lower() for t in (content or {}))
