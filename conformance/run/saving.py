"""The end of a run: its reports and cassette on disk, wherever that still works.

`--report-dir` was proven writable before the first request
(`conformance.run.preflight`); if writing there fails anyway at the end, the
same files go to a private folder in the system's temp directory, and the run
says where and exits 3, so a CI gate never reads a stale or half-written
`results.json` as this run's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from conformance.reporting.outputs import fallback_folder, reason
from conformance.reporting.results import RunResults
from conformance.reporting.writer import write_all
from conformance.run.context import RunContext


@dataclass(frozen=True)
class Saved:
    """Where the reports went, and why not where they were asked for (empty: they are there)."""

    folder: Path
    problem: str = ""

    @property
    def rescued(self) -> bool:
        return bool(self.problem)


def save(run: RunResults, ctx: RunContext) -> Saved:
    """results.json, junit.xml, report.html, summary.md and cassette.json in --report-dir, else in a fallback folder."""
    wanted = Path(ctx.options.report_dir)
    try:
        _write(run, ctx, wanted)
        return Saved(wanted)
    except OSError as exc:
        problem = f"cannot write the reports to {wanted} ({reason(exc)})"
    rescue = fallback_folder(run.run_id)
    _write(run, ctx, rescue)  # fails only when the temp directory cannot be written either: an internal error
    return Saved(rescue, problem)


def _write(run: RunResults, ctx: RunContext, folder: Path) -> None:
    """results.json first: it is what a gate reads, so it is written before anything that could fail after it."""
    write_all(run, folder, ctx.redactor)
    ctx.cassette.write(folder / "cassette.json", target=ctx.target.describe())
