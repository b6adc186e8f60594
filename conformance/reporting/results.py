"""The results model and `results.json` (schema in design.md)."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from conformance import __version__

STATUSES = ("passed", "failed", "known_deviation", "skipped", "error")


@dataclass
class Result:
    id: str
    kind: str  # scenario | property | posture
    title: str
    operation_ids: list[str]
    status: str
    message: str = ""
    upstream: str = ""
    reproduce: str = ""
    duration_s: float = 0.0
    must: str = ""
    stale_deviation: str = ""

    def as_dict(self) -> dict:
        data = asdict(self)
        if not data["stale_deviation"]:
            del data["stale_deviation"]
        return data


@dataclass
class RunResults:
    """What a run produced; reporters render it, the CLI turns it into an exit code."""

    suite_version: str = __version__
    seed: int | None = None
    profile: str = "sandbox"
    run_id: str = ""
    target: dict = field(default_factory=dict)
    spec_version: str = ""
    started: float = field(default_factory=time.time)
    duration_s: float = 0.0
    results: list[Result] = field(default_factory=list)
    operations: dict = field(default_factory=dict)
    requests: int = 0
    configuration: dict = field(default_factory=dict)
    cleanup_problems: list[str] = field(default_factory=list)
    aborted: str = ""

    def summary(self) -> dict:
        counts = Counter(r.status for r in self.results)
        out = {status: counts.get(status, 0) for status in STATUSES}
        out["requests"] = self.requests
        return out

    @property
    def conformant(self) -> bool:
        s = self.summary()
        return s["failed"] == 0 and s["error"] == 0 and not self.aborted

    def exit_code(self) -> int:
        if self.aborted:
            return 3
        return 0 if self.conformant else 1

    def as_dict(self) -> dict:
        return {
            "suite_version": self.suite_version,
            "seed": self.seed,
            "profile": self.profile,
            "run_id": self.run_id,
            "target": self.target,
            "reference_spec": self.spec_version,
            "started": datetime.fromtimestamp(self.started, timezone.utc).isoformat(timespec="seconds"),
            "duration_s": round(self.duration_s, 2),
            "verdict": "conformant" if self.conformant else ("aborted" if self.aborted else "not conformant"),
            "summary": self.summary(),
            "operations": self.operations,
            "results": [r.as_dict() for r in self.results],
            "configuration": self.configuration,
            "cleanup_problems": self.cleanup_problems,
            "aborted": self.aborted,
        }

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.as_dict(), indent=2, sort_keys=False) + "\n", encoding="utf-8")


def operations_table(spec_ops: list[str], results: list[Result], requests_by_op: dict, refused_by_op: dict) -> dict:
    """Every operationId of the reference spec with a status, request count and reason."""
    by_op: dict[str, list[Result]] = {}
    for r in results:
        for op in r.operation_ids:
            by_op.setdefault(op, []).append(r)
    rank = {"failed": 0, "error": 1, "known_deviation": 2, "passed": 3, "skipped": 4}
    table = {}
    for op in spec_ops:
        rs = by_op.get(op, [])
        exercised = [r for r in rs if r.status != "skipped"]
        count = int(requests_by_op.get(op, 0))
        if exercised:
            worst = min(exercised, key=lambda r: rank[r.status])
            table[op] = {"status": worst.status, "requests": count, "reason": worst.message[:300] if worst.status != "passed" else ""}
        elif rs:
            table[op] = {"status": "skipped", "requests": count, "reason": rs[0].message[:300]}
        else:
            reason = refused_by_op.get(op) or (
                f"{count} request(s) sent while setting up or cleaning up, but no selected check verifies this operation"
                if count else "not exercised by the checks selected for this run")
            table[op] = {"status": "skipped", "requests": count, "reason": reason}
    return table
