"""Reading a results.json written before schema 1.3: the reason codes its skips did not carry yet.

Since 1.3 every skipped and error result, and every skipped operation, carries a `reason_code`,
and whatever classifies results (the matrix's cells, its second passes) reads only that. The
runs published before (`reports/runs/`, schema 1.1 and 1.2) left some skips without one, or with
the broad `refused_by_guard`. They are given their code here, once, when a file is read, from the
wording those versions of the suite wrote; the wording is frozen below, so a later change of a
message never changes how an old file is read, and no new file is ever read by its words.
"""

from __future__ import annotations

import json
from pathlib import Path

from conformance.model.reasons import ReasonCode

CODED_SINCE = (1, 3)  # every skip has its code from this schema version on
# the wording of results.json 1.0-1.2, as those versions of the suite wrote it
_NOT_APPLICABLE_PREFIX = "not applicable to Airflow "  # selection: another version range
_NO_SUCH_OPERATION = "this client has no such operation"  # an official client older than the operation
_AUTH_DEFAULT = "needs a target running Airflow's default auth settings (airflow-conformance up --auth-config default)"
_GUARD_REFUSAL = "refused by the safety guard"  # authorization ("...: <reason>"), property ("... (N cases): <reason>")
_DISRUPTIVE_ONLY_ENDINGS = (
    "users, roles and permissions are never written outside the disruptive profile",
    "writes a whole collection; the sandbox cannot bind it to this run's objects",
)


def _version(data: dict) -> tuple[int, int]:
    try:
        major, minor = str(data.get("schema_version") or "1.0").split(".")[:2]
        return int(major), int(minor)
    except ValueError:
        return (1, 0)


def _code(message: str, code: str) -> str:
    """The code an old skip gets: its own where it is as narrow as today's, else the one its wording meant."""
    if message.startswith(_NOT_APPLICABLE_PREFIX) or message.endswith(_NO_SUCH_OPERATION):
        return ReasonCode.NOT_APPLICABLE.value
    if message == _AUTH_DEFAULT:
        return ReasonCode.AUTH_DEFAULT.value
    if message.startswith(_GUARD_REFUSAL) and message.endswith(_DISRUPTIVE_ONLY_ENDINGS):
        return ReasonCode.DISRUPTIVE_ONLY.value
    return code


def upgrade(data: dict) -> dict:
    """`data` (a results.json) with the reason codes of schema 1.3 on its skips; a 1.3 file is returned as it is."""
    if _version(data) >= CODED_SINCE:
        return data
    for result in data.get("results") or []:
        if isinstance(result, dict) and result.get("status") == "skipped":
            code = _code(result.get("message") or "", result.get("reason_code") or "")
            if code:
                result["reason_code"] = code
    for row in (data.get("operations") or {}).values():
        if isinstance(row, dict) and row.get("status") == "skipped":
            code = _code(row.get("reason") or "", row.get("reason_code") or "")
            if code:
                row["reason_code"] = code
    return data


def load(path: Path) -> dict:
    """A results.json as schema 1.3 reads (ValueError when it is no JSON document)."""
    return upgrade(json.loads(Path(path).read_text(encoding="utf-8")))
