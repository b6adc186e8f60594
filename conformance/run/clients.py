"""The client check at the end of a run: official clients read the run's recorded answers.

After the tiers and the cleanup, the run's cassette holds its successful JSON
answers; each client release the run was asked for (`--client`, default the
one matching the server) reads them with its own models (no new request). Each
operation with recorded answers becomes one `client.<operationId>` result: its
`checks` hold one row per client release, and it fails when any release
refused an answer no recorded deviation explains. A client that cannot be
installed or run is one `client.environment` error, never a silent pass.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from conformance.checks.registry import must_of
from conformance.clients.reading import Reading, Tally, read
from conformance.expectations.deviations import CLIENT_CHECK
from conformance.model.reasons import ReasonCode
from conformance.model.status import Status
from conformance.reporting.results import Result
from conformance.run.context import RunContext
from conformance.verdict import excuses, result_classes

MAX_LISTED = 5
RANK = {Status.FAILED: 0, Status.KNOWN_DEVIATION: 1, Status.PASSED: 2, Status.SKIPPED: 3}


def _stderr(message: str) -> None:
    print(f"airflow-conformance: {message}", file=sys.stderr, flush=True)


def check_clients(ctx: RunContext, progress: Callable[[str], None] = _stderr) -> tuple[list[Result], dict]:
    """(client results, the `clients` section of results.json) for this run's cassette."""
    entries = ctx.cassette.entries()
    section: dict = {
        "cassette": {
            "answers": len(entries),
            "operations": len({e["operation"] for e in entries}),
            "file": "cassette.json",
        },
        "readings": [],
        "off": ctx.clients_off,
    }
    if not ctx.clients or not entries:
        if ctx.clients and not entries:
            section["off"] = "no successful JSON answer was recorded, so there was nothing for a client to read"
        return [], section
    readings = []
    for version in ctx.clients:
        progress(f"apache-airflow-client {version} reads {len(entries)} recorded answers")
        readings.append(read(version, entries, ctx.expectations, progress))
    section["readings"] = [r.as_dict() for r in readings]
    return results_of(readings), section


def results_of(readings: list[Reading]) -> list[Result]:
    """One result per operation the clients read, plus an error for each client that could not read at all."""
    out = [
        Result(
            id="client.environment",
            kind="client",
            title=f"apache-airflow-client {r.version} can read answers",
            operation_ids=[],
            status="error",
            must=must_of(CLIENT_CHECK),
            message=f"{r.error}; nothing was read by this client (pass --client none to leave the client check out)",
            reason_code=ReasonCode.CLIENT_UNAVAILABLE.value,
        )
        for r in readings
        if r.error
    ]
    ready = [r for r in readings if not r.error]
    for op in sorted({op for r in ready for op in r.operations}):
        out.append(_operation_result(op, [(r.version, r.operations[op]) for r in ready if op in r.operations]))
    return out


def _operation_result(op: str, rows: list[tuple[str, Tally]]) -> Result:
    checks = [_row(version, tally) for version, tally in rows]
    status = min((c["status"] for c in checks), key=RANK.__getitem__)
    known = [(r.deviation, CLIENT_CHECK, op) for _, t in rows for r in t.refusals if r.deviation is not None]
    excused = excuses(known)
    unknown = [(version, r) for version, t in rows for r in t.refusals if r.deviation is None]
    base: dict[str, Any] = dict(
        id=f"client.{op}",
        kind="client",
        title=f"Official clients read the answers of {op}",
        operation_ids=[op],
        must=must_of(CLIENT_CHECK),
        checks=checks,
        deviations=[e.as_dict() for e in excused],
        upstream=", ".join(dict.fromkeys(e.deviation.reference for e in excused)),
    )
    if unknown:
        lines = [f"{len(unknown)} recorded answer(s) of {op} could not be read by the official client:"]
        for version, refusal in unknown[:MAX_LISTED]:
            lines += [f"- apache-airflow-client {version}: {refusal.describe()}", f"  reproduce: {refusal.curl}"]
        if len(unknown) > MAX_LISTED:
            lines.append(f"- ... and {len(unknown) - MAX_LISTED} more")
        return Result(
            status="failed",
            message="\n".join(lines),
            reproduce=unknown[0][1].curl,
            classes=_classes("failed", [r for _, r in unknown]),
            **base,
        )
    if status == Status.KNOWN_DEVIATION:
        seen = "; ".join(f"{v}: {r.describe()}" for v, t in rows for r in t.refusals[:1])
        text = "; ".join(e.deviation.describe() for e in excused) + f" | observed: {seen}"
        return Result(
            status=status,
            message=text,
            reproduce=known_curl(rows),
            classes=_classes(status, [r for _, t in rows for r in t.refusals]),
            **base,
        )
    if status == "skipped":
        return Result(
            status="skipped",
            message="; ".join(f"apache-airflow-client {v}: {t.skip_reason}" for v, t in rows),
            reason_code=rows[-1][1].skip_code,
            **base,
        )  # the newest release's: the one the matrix's cell names
    return Result(
        status="passed",
        message="; ".join(
            f"apache-airflow-client {v} read {t.parsed} answer(s) into {', '.join(sorted(t.models))}"
            for v, t in rows
            if t.parsed
        ),
        **base,
    )


def known_curl(rows: list[tuple[str, Tally]]) -> str:
    return next((r.curl for _, t in rows for r in t.refusals if r.curl), "")


def _row(version: str, tally: Tally) -> dict:
    row = {
        "name": f"apache-airflow-client {version}",
        "status": tally.status,
        "judged": tally.parsed + tally.failed + tally.excused,
        "must": must_of(CLIENT_CHECK),
        "parsed": tally.parsed,
    }
    if tally.failed:
        row["failures"] = tally.failed
    if tally.excused:
        row["excused"] = tally.excused
        row["deviations"] = sorted({r.deviation.id for r in tally.refusals if r.deviation is not None})
    if tally.skipped:
        row["skipped"] = tally.skipped
    if tally.status in (Status.FAILED, Status.KNOWN_DEVIATION):
        row["classes"] = _classes(tally.status, tally.refusals)
    return row


def _classes(status: str, refusals) -> list[str]:
    """The classes of a client's refusals: unexplained ones when it failed, the excusing deviations' otherwise."""
    return result_classes(
        status,
        "client",
        [(CLIENT_CHECK, r.status) for r in refusals if r.deviation is None],
        [r.deviation for r in refusals if r.deviation is not None],
    )
