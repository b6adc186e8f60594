"""Lint rules that keep a deviation from excusing more than one defect (design.md, "Known deviations").

Each rule rejects a way an entry has excused behaviour it does not describe:
a crash page that matches any crash, a framework message every validator emits,
a schema error at the root of an `anyOf` (every error of such an answer), a
signature that switches a data check off on its operations, a range without an
end (a fix upstream would never be noticed), and a check that cannot fail on the
entry's operations because the spec documents the status (it excuses nothing).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from conformance.checks.documented import operation
from conformance.expectations.judge import violates

# Bodies that every defect of their kind produces; a pattern matching one tells no defect apart.
GENERIC_BODIES = (
    "Internal Server Error",
    "<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1>"
    "<p>The server encountered an internal error and was unable to complete your request.</p></body></html>",
    '{"detail": "Internal Server Error"}',
    '{"detail": {"reason": "Database error", "statement": "INSERT INTO x", "orig_error": "locked", "message": "x"}}',
    '{"detail": [{"type": "value_error", "loc": ["body"], "msg": "Value error, anything", "input": {}}]}',
    '{"detail": [{"type": "missing", "loc": ["body", "x"], "msg": "Field required", "input": {}}]}',
)
ROOT_ANYOF_ERROR = "/: {'x': 1} is not valid under any of the given schemas (anyOf)"
DATA_CHECKS = frozenset({"negative_data_rejection", "positive_data_acceptance"})
# checks that fire on the status alone: judged as the replay judges them (expectations.judge), one rule for both
STATUS_BOUND = {
    check: (lambda op, status, check=check: bool(violates(check, {}, op, status, "", b"")))
    for check in ("status_code_conformance", "not_a_server_error", "positive_data_acceptance")
}

SpecFor = Callable[[str], Mapping]


def _statuses(response: Mapping) -> list[int]:
    raw = response.get("status")
    return [int(s) for s in (raw if isinstance(raw, list) else [raw] if raw is not None else [])]


def _values_at(pointer: str) -> tuple[str, ...]:
    """The generic bodies' values at a JSON pointer, as text (for pointer patterns)."""
    found = []
    for sample in GENERIC_BODIES:
        try:
            node: object = json.loads(sample)
        except ValueError:
            continue
        for part in [p for p in pointer.split("/") if p]:
            if isinstance(node, dict):
                node = node.get(part)
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                node = None
        if isinstance(node, str):
            found.append(node)
    return tuple(found)


def _matches_any(pattern: str | None, samples: tuple[str, ...]) -> bool:
    if not pattern:
        return False
    try:
        rx = re.compile(str(pattern))
    except re.error:
        return False  # reported by the pattern rule
    return any(rx.search(sample) for sample in samples)


def problems(raw: Mapping, releases: list[str], spec_for: SpecFor | None = None) -> list[str]:
    """What makes this entry excuse more than its defect ([] when nothing)."""
    response = raw.get("response") or {}
    if not isinstance(response, Mapping):
        return []
    out: list[str] = []
    statuses = _statuses(response)
    checks = [str(c) for c in (raw.get("checks") or [])]
    operations = [str(o) for o in (raw.get("operations") or [])]
    answer_tells = any(response.get(k) for k in ("body", "pointer", "schema_error"))
    if any(s >= 500 for s in statuses):
        if operations and not raw.get("trigger"):
            out.append(
                "a 5xx signature needs a `trigger` (what in the request causes it): a crash page matches any crash"
            )
        if not raw.get("control"):
            out.append("a 5xx signature needs a `control` (the same request without the trigger)")
    if _matches_any(response.get("body"), GENERIC_BODIES):
        out.append(
            f"body pattern {response.get('body')!r} matches a generic error text every defect of its kind produces"
        )
    for pointer, pattern in (response.get("pointer") or {}).items():
        if _matches_any(pattern, _values_at(str(pointer))):
            out.append(f"pointer {pointer} pattern {pattern!r} matches a generic error text")
    if _matches_any(response.get("schema_error"), (ROOT_ANYOF_ERROR,)):
        out.append("schema_error pattern matches the root error of an anyOf answer (every schema error of it)")
    if set(checks) & DATA_CHECKS and any(s < 400 for s in statuses) and not answer_tells:
        out.append(
            "a 2xx/3xx signature without body, pointer or schema_error switches "
            f"{', '.join(sorted(set(checks) & DATA_CHECKS))} off on its operations"
        )
    out += _range_problems(str(raw.get("versions") or ""))
    if spec_for is not None and operations:
        out += _cannot_fire(checks, operations, statuses, releases, spec_for)
    return out


def _range_problems(versions: str) -> list[str]:
    try:
        spec = SpecifierSet(versions)
    except InvalidSpecifier:
        return []  # reported by the specifier rule
    if not any(s.operator in ("<", "<=", "==", "===", "~=") for s in spec):
        return [f"version range {versions!r} has no upper bound: name the last release where the replay occurs"]
    return []


def _cannot_fire(
    checks: list[str], operations: list[str], statuses: list[int], releases: list[str], spec_for: SpecFor
) -> list[str]:
    """Status-bound checks that no listed status can fail on an operation, in any release of the range."""
    out = []
    for check, fires in STATUS_BOUND.items():
        if check not in checks or not statuses:
            continue
        dead = []
        for op_id in operations:
            ops = [op for op in (operation(spec_for(v), op_id) for v in releases) if op]
            if ops and not any(fires(op, s) for op in ops for s in statuses):
                dead.append(op_id)
        if dead:
            out.append(
                f"{check} cannot fail on {', '.join(dead)}: HTTP {'/'.join(map(str, statuses))} is documented "
                "there (or is no 5xx) in every release of the range, so the entry excuses nothing for it"
            )
    return out
