"""Where a run's time went: wall time, requests and waiting per phase (tier), for results.json and the summary.

A phase is the stretch of a run in which one tier's checks run (and the clients'
reading at the end). Requests and waits are read off the run's shared request
counter at each phase boundary, so every request a tier sends, through any of
its sessions and workers, lands in its phase. Waits that overlap (property
workers, a probe run waited for while other reads go on) are summed, so a
phase's waiting can exceed its wall time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from conformance.http.client import Stats


@dataclass
class _Open:
    phase: str
    started: float
    requests: int
    waited: dict[str, float]


@dataclass
class PhaseClock:
    """Opened at each phase's first check, closed by the next phase or by `close` at the end of the run."""

    stats: Stats
    rows: dict[str, dict] = field(default_factory=dict)  # phase -> {"wall_s", "requests", "waited_s"}
    _open: _Open | None = None

    def enter(self, phase: str) -> None:
        self.close()
        self._open = _Open(phase, time.monotonic(), self.stats.requests, dict(self.stats.waited))

    def close(self) -> None:
        if self._open is None:
            return
        now, o = time.monotonic(), self._open
        row = self.rows.setdefault(o.phase, {"wall_s": 0.0, "requests": 0, "waited_s": {}})
        row["wall_s"] = round(row["wall_s"] + now - o.started, 2)
        row["requests"] += self.stats.requests - o.requests
        for kind, total in dict(self.stats.waited).items():
            seconds = total - o.waited.get(kind, 0.0)
            if seconds > 0.005:
                row["waited_s"][kind] = round(row["waited_s"].get(kind, 0.0) + seconds, 2)
        self._open = None

    def as_list(self) -> list[dict]:
        """results.json's `timing.phases`: one row per phase, in the order the phases ran."""
        return [{"phase": phase, **row} for phase, row in self.rows.items()]


def describe(phases: list[dict]) -> str:
    """One line for the end-of-run summary: `time: scenarios 31 s (412 requests; waited 12 s probe_runs), ...`."""
    parts = []
    for row in phases:
        waits = ", ".join(f"{s:.0f} s {kind}" for kind, s in row.get("waited_s", {}).items() if s >= 0.5)
        parts.append(
            f"{row['phase']} {row['wall_s']:.0f} s ({row['requests']} requests"
            + (f"; waited {waits})" if waits else ")")
        )
    return "time: " + ", ".join(parts) if parts else ""
