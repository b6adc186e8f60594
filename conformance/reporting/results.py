"""The results model and `results.json`.

The file's published contract is `results.schema.json` beside this module (JSON Schema
2020-12, shipped in the package); `schema_version` in every file says which version of
it the file follows: a minor version only adds fields, a major one removes or changes one.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from conformance import __version__
from conformance.model.classes import ALL_CLASSES, FailureClass, classify, gate_text, ordered
from conformance.model.reasons import ReasonCode
from conformance.model.status import STATUSES, Status

# 1.1: failure classes (results, checks, deviations), the gate, reason codes; 1.2: effects; 1.3: a reason code on
# every skipped and error result and operation (new codes: conformance/model/reasons.py), and `timing`
SCHEMA_VERSION = "1.3"
SCHEMA_FILE = Path(__file__).with_name("results.schema.json")


def schema() -> dict:
    """The JSON Schema results.json follows (for validating a file, or publishing the contract)."""
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


@dataclass
class Result:
    id: str
    kind: str  # scenario | property | posture, or a kind a newer tier adds (reports treat kinds generically)
    title: str
    operation_ids: list[str]
    status: str
    message: str = ""
    upstream: str = ""
    reproduce: str = ""
    duration_s: float = 0.0
    must: str = ""
    stale_deviation: str = ""
    # the known deviations that explained failures of this result: id, upstream, checks, operations, count
    deviations: list[dict] = field(default_factory=list)
    # property results: every check that judged the operation's answers, with its own status
    checks: list[dict] = field(default_factory=list)
    # authorization results: one cell per identity (expected allowed/denied, outcome, status, reason, curl)
    cells: list[dict] = field(default_factory=list)
    group: str = ""  # authorization results: the operation's group (spec tag)
    # failed and known_deviation results: the FailureClass names of what failed (or of the deviations that excused it)
    classes: list[str] = field(default_factory=list)
    reason_code: str = ""  # skipped and error results: why, as a ReasonCode name (what code reads, never the message)

    def __post_init__(self) -> None:
        """A failed result always carries a class: one nobody classed is classed by its kind (see result_classes)."""
        if self.status == "failed" and not self.classes:
            self.classes = [classify("", None, self.kind).value]

    def as_dict(self) -> dict:
        data = asdict(self)
        for key in ("stale_deviation", "deviations", "checks", "cells", "group", "classes", "reason_code"):
            if not data[key]:
                del data[key]
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
    # set when the target refuses valid credentials by configuration (2.0-2.2 deny_all): exit 2
    refused_by_configuration: str = ""
    # the official clients' reading of the run's cassette: {"cassette": {...}, "readings": [...], "off": why not}
    clients: dict = field(default_factory=dict)
    # documented effects: the reference spec's table and what the effects tier decided ({} when not computed)
    effects: dict = field(default_factory=dict)
    # where the run's time went: {"phases": [{"phase", "wall_s", "requests", "waited_s": {kind: s}}]} (conformance.run.timing)
    timing: dict = field(default_factory=dict)
    # `run --fail-on`: a failed result fails the run only when one of its classes is in this set
    fail_on: frozenset[FailureClass] = frozenset(ALL_CLASSES)

    def summary(self) -> dict:
        counts = Counter(r.status for r in self.results)
        out: dict[str, int] = {status.value: counts.get(status, 0) for status in STATUSES}
        out["requests"] = self.requests
        return out

    # -- the gate: the one place that says which failures fail the run ---------------------------
    def gated(self, result: Result) -> bool:
        """Whether a failed result fails the run: any of its classes is gated (a result of several classes counts once)."""
        return result.status == "failed" and any(FailureClass(c) in self.fail_on for c in result.classes)

    @property
    def gated_failures(self) -> int:
        return sum(1 for r in self.results if self.gated(r))

    @property
    def ungated_failures(self) -> int:
        """Failed results none of whose classes is gated: reported, but they do not fail the run."""
        return sum(1 for r in self.results if r.status == "failed" and not self.gated(r))

    def class_counts(self) -> dict[str, dict[str, int]]:
        """How many failed and known_deviation results carry each class (a result of two classes counts in both)."""
        out: dict[str, dict[str, int]] = {}
        for status in (Status.FAILED, Status.KNOWN_DEVIATION):
            tally = Counter(c for r in self.results if r.status == status for c in r.classes)
            out[status] = {c: tally[c] for c in ordered(tally)}
        return out

    def gate(self) -> dict:
        """The gate as results.json records it: the classes that fail the run, and failures outside it."""
        return {"fail_on": ordered(self.fail_on), "failed_outside": self.ungated_failures}

    def gate_text(self) -> str:
        """`gated: all classes`, or `gated: server_error, contract_break; 3 failed results outside the gate`."""
        return gate_text(self.fail_on, self.ungated_failures)

    @property
    def exercised(self) -> int:
        """Operations where some request got past authentication."""
        return sum(1 for row in self.operations.values() if row.get("exercised"))

    @property
    def nothing_decided(self) -> str:
        """Why the run decided nothing (every check skipped, or no request got past authentication)."""
        s = self.summary()
        if not self.results:
            return "no check ran"
        if s[Status.PASSED] + s[Status.FAILED] + s[Status.KNOWN_DEVIATION] == 0:
            return "every check was skipped or could not be decided"
        if self.operations and not self.exercised:
            return "no request got past authentication on any operation"
        return ""

    @property
    def conformant(self) -> bool:
        """No gated failure and nothing undecided (an error has no class: it fails every gate)."""
        s = self.summary()
        return (
            self.gated_failures == 0
            and s["error"] == 0
            and not self.aborted
            and not self.nothing_decided
            and not self.cleanup_problems
            and not self.refused_by_configuration
        )

    @property
    def verdict(self) -> str:
        if self.aborted:
            return "aborted"
        if self.refused_by_configuration:
            return "credentials refused by configuration"
        if self.conformant:
            return "conformant"
        s = self.summary()
        if self.cleanup_problems and self.gated_failures == 0 and s["error"] == 0 and not self.nothing_decided:
            return "cleanup incomplete"
        return "not conformant"

    def exit_code(self) -> int:
        """0 conformant; 1 not conformant or nothing decided; 2 credentials refused by configuration;
        3 the suite could not finish (aborted, or its cleanup left objects behind)."""
        if self.aborted:
            return 3
        if self.refused_by_configuration:
            return 2
        if self.verdict == "cleanup incomplete":
            return 3
        return 0 if self.conformant else 1

    def as_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "suite_version": self.suite_version,
            "seed": self.seed,
            "profile": self.profile,
            "run_id": self.run_id,
            "target": self.target,
            "reference_spec": self.spec_version,
            "started": datetime.fromtimestamp(self.started, timezone.utc).isoformat(timespec="seconds"),
            "duration_s": round(self.duration_s, 2),
            "verdict": self.verdict,
            "verdict_reason": self.refused_by_configuration or self.nothing_decided or "",
            "summary": self.summary(),
            "gate": self.gate(),
            "classes": self.class_counts(),
            **({"authorization": table} if (table := authorization_table(self.results)) else {}),
            **({"effects": self.effects} if self.effects else {}),
            "operations": self.operations,
            "results": [r.as_dict() for r in self.results],
            "configuration": self.configuration,
            "cleanup_problems": self.cleanup_problems,
            "aborted": self.aborted,
            "clients": self.clients,
            **({"timing": self.timing} if self.timing else {}),
        }

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.as_dict(), indent=2, sort_keys=False) + "\n", encoding="utf-8")


def operations_table(
    spec_ops: list[str],
    results: list[Result],
    requests_by_op: dict,
    refused_by_op: dict,
    answers_by_op: dict | None = None,
    tags: dict | None = None,
    statuses_by_op: dict | None = None,
) -> dict:
    """Every operationId of the reference spec with a status, request count, coverage and reason.

    Coverage counts what the answers say: `reached` (2xx/3xx), `validated` (4xx other than
    401/403), `refused` (401/403), `server_error` (5xx) and `not_sent` (the guard kept the request
    back). An operation is exercised only when a request got past authentication; the property
    tier makes an operation whose every answer was 401 an `error` ("credentials refused").
    `tags` (operationId -> its first tag in the spec) groups the coverage picture of report.html.
    """
    answers_by_op = answers_by_op or {}
    by_op: dict[str, list[Result]] = {}
    for r in results:
        for op in r.operation_ids:
            by_op.setdefault(op, []).append(r)
    rank: dict[str, int] = {
        Status.FAILED: 0,
        Status.ERROR: 1,
        Status.KNOWN_DEVIATION: 2,
        Status.PASSED: 3,
        Status.SKIPPED: 4,
    }
    table = {}
    for op in spec_ops:
        rs = by_op.get(op, [])
        decided = [r for r in rs if r.status != "skipped"]
        count = int(requests_by_op.get(op, 0))
        tally = {k: int(v) for k, v in (answers_by_op.get(op) or {}).items()}
        coverage = {k: tally.get(k, 0) for k in ("reached", "validated", "refused", "server_error", "not_sent")}
        exercised = coverage["reached"] + coverage["validated"] + coverage["server_error"] > 0
        row: dict = {
            "requests": count,
            **coverage,
            "exercised": exercised,
            "statuses": dict(sorted((statuses_by_op or {}).get(op, {}).items())),
        }
        if tags is not None:
            row["tag"] = tags.get(op, "")
        if decided:
            worst = min(decided, key=lambda r: rank[r.status])
            row.update(status=worst.status, reason=worst.message[:300] if worst.status != "passed" else "")
            if worst.reason_code:
                row["reason_code"] = worst.reason_code
            if not exercised and coverage["refused"] and worst.status == "passed":
                row["reason"] = (
                    f"not exercised: all {coverage['refused']} answers were 401/403, documented refusals "
                    "(e.g. a setting that hides the configuration); an operation whose every "
                    "authenticated request answers 401 is an error instead"
                )
        elif rs:
            row.update(
                status="skipped",
                reason=rs[0].message[:300],
                **({"reason_code": rs[0].reason_code} if rs[0].reason_code else {}),
            )
        else:
            reason = refused_by_op.get(op) or (
                f"{count} request(s) sent while setting up or cleaning up, but no selected check verifies this operation"
                if count
                else "not exercised by the checks selected for this run"
            )
            code = ReasonCode.REFUSED_BY_GUARD if op in refused_by_op else ReasonCode.NOT_EXERCISED
            row.update(status="skipped", reason=reason, reason_code=code.value)
        table[op] = row
    return table


def client_lines(section: dict) -> list[str]:
    """One line per client release that read the run's answers (terminal and summary.md), or why none did."""
    if not section:
        return []
    cassette = section.get("cassette") or {}
    recorded = f"{cassette.get('answers', 0)} recorded answers of {cassette.get('operations', 0)} operations"
    if not section.get("readings"):
        return [f"client check: none ({section.get('off') or 'no client'}); {recorded}"] if section.get("off") else []
    lines = []
    for r in section["readings"]:
        if r.get("error"):
            lines.append(f"client check: {r['error']}")
            continue
        lines.append(
            f"client check: apache-airflow-client {r['client']} parsed {r['parsed']} of {recorded}: "
            f"{r['failed']} refused, {r['excused']} refused as known deviations, {r['skipped']} not readable by it"
        )
    return lines


OUTCOMES = ("allowed", "denied", "unexpected", "skipped", "error")


def authorization_table(results: list[Result]) -> dict:
    """The role x operation-group table of the authorization results, and the pair figures ({} without any).

    Each cell counts, for one identity and one group of operations (the operation's tag in the
    reference spec), the pairs that came out allowed, denied, unexpected (a failure), skipped or error.
    """
    rows = [r for r in results if r.kind == "authorization"]
    if not rows:
        return {}
    identities: list[str] = []
    groups: dict[str, dict[str, dict[str, int]]] = {}
    totals = dict.fromkeys(OUTCOMES, 0)
    for r in rows:
        for cell in r.cells:
            who, outcome = cell.get("identity", "?"), cell.get("outcome", "error")
            if who not in identities:
                identities.append(who)
            row = groups.setdefault(r.group or "other", {}).setdefault(who, dict.fromkeys(OUTCOMES, 0))
            row[outcome] = row.get(outcome, 0) + 1
            totals[outcome] = totals.get(outcome, 0) + 1
    decided = totals["allowed"] + totals["denied"] + totals["unexpected"]
    return {
        "identities": identities,
        "groups": dict(sorted(groups.items())),
        "pairs": {"total": sum(totals.values()), "decided": decided, **totals},
    }
