"""Response validation against the reference spec with openapi-core.

Hand-written scenarios use this to check bodies against the schema the
version documents, on top of their behaviour assertions.
"""

from __future__ import annotations

import copy
import threading

import requests
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse


_NULL_ONLY = {"type": "string", "nullable": True, "enum": [None]}


def _nullable_as_validators_read_it(node):
    """OpenAPI 3.0 `nullable: true` beside `enum`, `$ref` or `anyOf` means "or null".

    Airflow's 2.x specs use it that way (health statuses, schedule_interval);
    openapi-core ignores it there, which would blame Airflow for the
    validator's reading. Rewrite those spots into an explicit "or null".
    """
    if isinstance(node, list):
        return [_nullable_as_validators_read_it(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: _nullable_as_validators_read_it(v) for k, v in node.items()}
    if node.get("nullable") is True:
        if "enum" in node and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
        elif "type" not in node and any(k in node for k in ("$ref", "anyOf", "oneOf", "allOf")):
            rest = {k: v for k, v in node.items() if k not in ("nullable", "readOnly", "discriminator")}
            return {"anyOf": [rest, dict(_NULL_ONLY)]}
    return node


def _flatten(exc: BaseException) -> list[str]:
    """Each schema error on its own (they say what to fix); else the exception chain, briefly."""
    details: list[str] = []
    chain: list[str] = []
    cause: BaseException | None = exc
    seen = 0
    while cause is not None and seen < 4:
        errors = getattr(cause, "schema_errors", None)
        if errors:
            # the keyword that failed ends the line: a long instance would otherwise cut it off
            details.extend(f"{'/'.join(str(p) for p in e.absolute_path) or '<body>'}: {str(e.message)[:200]}"
                           + (f" [{e.validator}]" if getattr(e, "validator", None) else "")
                           for e in list(errors)[:20])
        else:
            chain.append(str(cause)[:200])
        cause = cause.__cause__ or cause.__context__
        seen += 1
    return details or ["; ".join(chain)[:1500]]


class ResponseValidator:
    """Validates real `requests` responses of one target against one spec."""

    def __init__(self, spec: dict, root_url: str, base_path: str) -> None:
        spec = copy.deepcopy(spec)
        if str(spec.get("openapi", "")).startswith("3.0"):
            spec = _nullable_as_validators_read_it(spec)
        spec["servers"] = [{"url": root_url.rstrip("/") + base_path}]
        self._spec = spec
        self._api: OpenAPI | None = None
        self._lock = threading.Lock()

    @property
    def api(self) -> OpenAPI:
        with self._lock:
            if self._api is None:  # building the validator is slow; only pay for it when used
                self._api = OpenAPI.from_dict(self._spec)
            return self._api

    def errors(self, response: requests.Response) -> list[str]:
        """Every way the response breaks the documented contract (empty when it conforms)."""
        try:
            self.api.validate_response(RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response))
        except Exception as exc:  # openapi-core raises a family of validation errors
            return _flatten(exc)
        return []
