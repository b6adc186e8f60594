"""Response validation against the reference spec with openapi-core.

Hand-written scenarios use this to check bodies against the schema the
version documents, on top of their behaviour assertions.
"""

from __future__ import annotations

import copy
import threading
from typing import TYPE_CHECKING

import requests

if TYPE_CHECKING:  # imported when the first response is validated: openapi-core takes ~0.5 s to import
    from openapi_core import OpenAPI

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


def _where(error) -> str:
    return "/".join(str(p) for p in error.absolute_path) or "<body>"


def _leaf(error) -> str:
    """One error of a branch, short; a oneOf that more than one schema satisfies is named as such.

    jsonschema raises oneOf with no sub-errors exactly when several schemas matched, so the
    structure, not the message's wording, tells that overlap from "none matched".
    """
    if error.validator == "oneOf" and not error.context:
        return f"{_where(error)} [oneOf] matches more than one of its schemas"
    return f"{_where(error)} [{error.validator}] {str(error.message)[:160]}"


def _branches(error) -> list[str]:
    """For an anyOf/oneOf no schema satisfied: one line per schema, with every error that schema found.

    The root line alone ("not valid under any of") is the same for every way an answer can fail,
    so nothing could be told apart by it; a branch's line says why that schema refused the answer.
    """
    if error.validator not in ("anyOf", "oneOf") or not error.context:
        return []
    by_branch: dict[int, list[str]] = {}
    for sub in error.context:
        branch = sub.relative_schema_path[0] if sub.relative_schema_path else -1
        by_branch.setdefault(int(branch), []).append(_leaf(sub))
    return [
        f"{_where(error)} {error.validator}/{branch}: " + "; ".join(sorted(leaves)[:20])
        for branch, leaves in sorted(by_branch.items())
    ]


def _schema_details(exc: BaseException) -> list[str]:
    """Each schema error of the exception chain on its own (they say what to fix); [] when none is one."""
    return _walk(exc)[0]


def _flatten(exc: BaseException) -> list[str]:
    """Each schema error on its own; else the exception chain, briefly."""
    details, chain = _walk(exc)
    return details or ["; ".join(chain)[:1500]]


def _walk(exc: BaseException) -> tuple[list[str], list[str]]:
    details: list[str] = []
    chain: list[str] = []
    cause: BaseException | None = exc
    seen = 0
    while cause is not None and seen < 4:
        errors = getattr(cause, "schema_errors", None)
        if errors:
            # the keyword that failed ends the line: a long instance would otherwise cut it off
            # an anyOf/oneOf error carries its schemas' own errors on the lines below it, in the same entry
            details.extend(
                "\n".join(
                    [
                        f"{_where(e)}: {str(e.message)[:200]}"
                        + (f" [{e.validator}]" if getattr(e, "validator", None) else ""),
                        *_branches(e),
                    ]
                )
                for e in list(errors)[:20]
            )
        else:
            chain.append(str(cause)[:200])
        cause = cause.__cause__ or cause.__context__
        seen += 1
    return details, chain


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
    def spec(self) -> dict:
        """The spec the responses are validated against: the reference spec with this target's server, and 3.0's
        `nullable` spelled as the validators read it."""
        return self._spec

    @property
    def api(self) -> OpenAPI:
        with self._lock:
            if self._api is None:  # building the validator is slow; only pay for it when used
                from openapi_core import Config, OpenAPI  # noqa: PLC0415

                # not validated again here (3-8 s per run for a 3.x spec): the fast layer validates this very spec
                # for every locked release (tests/specs/test_specs.py), and the lock pins the files it reads
                self._api = OpenAPI.from_dict(self._spec, config=Config(spec_validator_cls=None))
            return self._api

    def errors(self, response: requests.Response) -> list[str]:
        """Every way the response breaks the documented contract (empty when it conforms)."""
        exc = self._validate(response)
        return _flatten(exc) if exc is not None else []

    def schema_errors(self, response: requests.Response) -> list[str]:
        """Only the body's schema errors, each an entry of its own ([] when the body conforms or cannot be judged)."""
        exc = self._validate(response)
        return _schema_details(exc) if exc is not None else []

    def _validate(self, response: requests.Response) -> BaseException | None:
        """What openapi-core raised for the response (None when it conforms)."""
        from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse  # noqa: PLC0415

        try:
            self.api.validate_response(RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response))
        except Exception as exc:  # noqa: BLE001 - openapi-core raises a family of validation errors
            return exc
        return None
