"""What a reference spec documents for one operation: its statuses, their content types, their schemas.

An upstream report has to say what the server *should* have answered, in the
spec's own terms, so the reader can check the claim without the suite: the
documented statuses of the operation and, for a body-shape defect, the schema
of the documented answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from conformance.specs._common import HTTP_METHODS
from conformance.specs.catalog import full_path, resolve

EXCERPT_LINES = 40  # a schema longer than this is cut: the report quotes it, the spec holds the rest


def response_key(responses: dict, status: int | None) -> str:
    """The key of `responses` that documents an answer of `status`: its own, its class (`4XX`), then `default`."""
    if status is None:
        return ""
    return next(
        (k for k in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx", "default") if k in responses), ""
    )


@dataclass(frozen=True)
class Documented:
    """One operation as its spec documents it (responses with `$ref` resolved one level)."""

    operation_id: str
    method: str
    path: str  # from the server root, API base included (/api/v2/pools/{pool_name})
    responses: dict  # status text ("200", "default") -> resolved response object
    spec: dict  # the whole spec, to resolve the `$ref`s of a schema

    def statuses(self) -> list[str]:
        return list(self.responses)

    def content_types(self, status: str) -> list[str]:
        return list((self.responses.get(status) or {}).get("content") or {})

    def summary(self) -> str:
        """`200 application/json; 204 (no body); 404 application/json`: every documented answer on one line."""
        return "; ".join(f"{s} {', '.join(self.content_types(s)) or '(no body)'}" for s in self.statuses())

    def answer_for(self, status: int | None) -> str:
        """The documented response that stands for an answer of `status` ("" when none does)."""
        return response_key(self.responses, status)

    def schema_excerpt(self, status: str, max_lines: int = EXCERPT_LINES) -> str:
        """The JSON schema of the documented `status` answer (top `$ref` resolved), cut to `max_lines` lines."""
        content = (self.responses.get(status) or {}).get("content") or {}
        media: dict = content.get("application/json") or next(iter(content.values()), {})
        schema = (media or {}).get("schema")
        if schema is None:
            return ""
        ref = schema.get("$ref", "") if isinstance(schema, dict) else ""
        lines = json.dumps(resolve(self.spec, schema), indent=2, sort_keys=False).splitlines()
        head = [f"// {ref}"] if ref else []
        if len(lines) > max_lines:
            lines = lines[:max_lines] + [f"// … {len(lines) - max_lines} more lines in the spec"]
        return "\n".join(head + lines)


def documented(spec: dict, operation_id: str) -> Documented | None:
    """The operation `operation_id` of `spec`, None when the spec does not have it."""
    for path, item in (spec.get("paths") or {}).items():
        item = resolve(spec, item)
        for method in HTTP_METHODS:
            op = item.get(method)
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                responses = {str(s): resolve(spec, r) for s, r in (op.get("responses") or {}).items()}
                return Documented(operation_id, method.upper(), full_path(spec, path), responses, spec)
    return None
