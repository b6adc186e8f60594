"""One client release reads a run's recorded answers: what it parsed, what it refused and why.

The reading happens in the client's own venv (`runner.py`, fed the cassette on
stdin); here its verdicts are gathered per operation, and each refusal is
matched against the recorded deviations like a server failure is: by the
answer (status, content type, body, JSON pointer) and the client's own error,
as `schema_error` ("<field>: <error>"), for the `client_parse` check, plus the
client release for a client defect. An unexplained refusal fails; a client
that cannot be installed or crashes is an error, never a pass.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import Version

from conformance.clients import environment, versions
from conformance.errors import ConformanceError
from conformance.expectations import Expectations
from conformance.expectations.deviations import CLIENT_CHECK, Deviation, Observation
from conformance.model.status import Status

RUNNER = Path(__file__).with_name("runner.py")
ABSENT = "(absent)"  # the runner's word for a field the answer does not carry
RUN_TIMEOUT_S = 600
Progress = Callable[[str], None]


@dataclass
class Refusal:
    """One recorded answer the client could not read."""

    operation: str
    status: int
    field: str
    value: object
    error: str
    model: str
    curl: str
    deviation: Deviation | None = None

    @property
    def shown_value(self) -> str:
        """The value the server sent, as JSON (cut), or `(absent)` when it sent no such field."""
        if self.value == ABSENT:
            return ABSENT
        value = json.dumps(self.value, default=str)
        return value if len(value) <= 120 else value[:119] + "…"

    @property
    def signature(self) -> str:
        """`<field> = <value>: <the client's error>`, what a deviation's `schema_error` is matched against."""
        return f"{self.field} = {self.shown_value}: {self.error}" if self.field else self.error

    def describe(self) -> str:
        return f"HTTP {self.status} into {self.model}: " + (f"field {self.signature}" if self.field else self.error)


@dataclass
class Tally:
    """What one client made of one operation's answers."""

    parsed: int = 0
    failed: int = 0
    excused: int = 0
    skipped: int = 0
    skip_reason: str = ""
    skip_code: str = ""  # the ReasonCode value of that reason
    models: set[str] = field(default_factory=set)
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.failed:
            return "failed"
        if self.excused:
            return Status.KNOWN_DEVIATION
        return "passed" if self.parsed else "skipped"


@dataclass
class Reading:
    """One client release's reading of a cassette."""

    version: str
    generation: int = 0
    operations: dict[str, Tally] = field(default_factory=dict)
    error: str = ""  # the client could not be installed or run: nothing was decided

    def total(self, key: str) -> int:
        return sum(getattr(t, key) for t in self.operations.values())

    def as_dict(self) -> dict:
        return {
            "client": self.version,
            "generation": self.generation,
            "error": self.error,
            "answers": sum(self.total(k) for k in ("parsed", "failed", "excused", "skipped")),
            "parsed": self.total("parsed"),
            "failed": self.total("failed"),
            "excused": self.total("excused"),
            "skipped": self.total("skipped"),
            "packages": {
                k: v
                for k, v in environment.packages(self.version).items()
                if k.lower() in ("pydantic", "urllib3", "python-dateutil")
            },
            "operations": {
                op: {
                    "status": t.status,
                    "parsed": t.parsed,
                    "failed": t.failed,
                    "excused": t.excused,
                    "skipped": t.skipped,
                    "skip_reason": t.skip_reason,
                    "refusals": [
                        {
                            "status": r.status,
                            "field": r.field,
                            "value": r.value,
                            "error": r.error,
                            "model": r.model,
                            "deviation": r.deviation.id if r.deviation else "",
                            "reproduce": r.curl,
                        }
                        for r in t.refusals[:3]
                    ],
                }
                for op, t in sorted(self.operations.items())
            },
        }


def run_client(python: Path, entries: list[dict]) -> dict:
    """The runner's verdicts for `entries`, computed by `python` (a client venv's interpreter)."""
    payload = {
        "entries": [
            {
                "operation": e["operation"],
                "method": e["method"],
                "path": e["path"],
                "status": e["status"],
                "headers": e.get("headers") or {},
                "body": "" if e.get("no_body") else json.dumps(e["body"]),
            }
            for e in entries
        ]
    }
    try:
        proc = subprocess.run(
            [str(python), str(RUNNER)],
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ConformanceError(
            f"the client did not finish reading {len(entries)} answers within {RUN_TIMEOUT_S} s"
        ) from None
    try:
        out = json.loads(proc.stdout) if proc.returncode == 0 else None
    except ValueError:
        out = None
    if not isinstance(out, dict) or len(out.get("results") or []) != len(entries):
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ConformanceError(f"the client's reader crashed (exit {proc.returncode}): {tail[:300]}")
    return out


def read(
    version: str, entries: list[dict], expectations: Expectations, progress: Progress = lambda _m: None
) -> Reading:
    """Install (or reuse) the client, let it read every entry, and judge its refusals against the deviations."""
    reading = Reading(version)
    try:
        python = environment.ensure(version, progress)
        out = run_client(python, entries)
    except ConformanceError as exc:
        reading.error = f"apache-airflow-client {version}: {exc}"
        return reading
    reading.generation = int(out.get("generation") or 0)
    for entry, verdict in zip(entries, out["results"]):
        tally = reading.operations.setdefault(entry["operation"], Tally())
        _count(tally, entry, verdict, version, expectations)
    return reading


def _count(tally: Tally, entry: dict, verdict: dict, version: str, expectations: Expectations) -> None:
    outcome = verdict.get("outcome")
    if verdict.get("model"):
        tally.models.add(str(verdict["model"]))
    if outcome == "parsed":
        tally.parsed += 1
    elif outcome == "skipped":
        tally.skipped += 1
        if not tally.skip_reason:
            tally.skip_reason, tally.skip_code = str(verdict.get("reason", "")), str(verdict.get("code", ""))
    else:
        refusal = Refusal(
            entry["operation"],
            int(entry["status"]),
            str(verdict.get("field", "")),
            verdict.get("value"),
            str(verdict.get("error", "")),
            str(verdict.get("model", "")),
            str(entry.get("request", "")),
        )
        refusal.deviation = expectations.known(observation(entry, refusal, version))
        if refusal.deviation is None:
            tally.failed += 1
        else:
            tally.excused += 1
        tally.refusals.append(refusal)


def observation(entry: dict, refusal: Refusal, version: str) -> Observation:
    """The facts a deviation may match: the recorded answer and the client's own error, never the request."""
    headers = {k.lower(): v for k, v in (entry.get("headers") or {}).items()}
    ctype = str(headers.get("content-type", "")).split(";")[0].strip()
    return Observation(
        result_id=f"client.{entry['operation']}",
        check=CLIENT_CHECK,
        status=int(entry["status"]),
        content_type=ctype,
        body=json.dumps(entry["body"])[:8000],
        json=entry["body"],
        operation=entry["operation"],
        schema_error=refusal.signature,
        client=version,
    )


def replay_reader(server_version: str, progress: Progress = lambda _m: None) -> Callable:
    """What `deviations verify` asks of a client defect's replayed answer: the errors a client reads in it.

    The client is the newest published release in the entry's `client:` range (of the server's major),
    or, for a server defect the clients show, the release matching the server.
    """

    def client_for(dev: Deviation) -> str | None:
        if not dev.client:
            return versions.matching(server_version)
        major = Version(server_version).major
        fits = [v for v in versions.PUBLISHED if Version(v).major == major and dev.reads_with(v)]
        return max(fits, key=versions.Version) if fits else None

    def read_answer(dev: Deviation, route, response) -> list[str]:
        client = client_for(dev)
        try:
            body = response.json()
        except ValueError:
            return []
        if client is None:
            return []
        entry = {
            "operation": route.operation_id,
            "method": route.method,
            "path": route.template,
            "status": response.status_code,
            "headers": {"Content-Type": response.headers.get("Content-Type", "")},
            "body": body,
        }
        try:
            verdict = run_client(environment.ensure(client, progress), [entry])["results"][0]
        except ConformanceError as exc:
            progress(f"apache-airflow-client {client} could not read the replayed answer: {exc}")
            return []
        if verdict.get("outcome") != "failed":
            return []
        return [
            Refusal(
                route.operation_id,
                response.status_code,
                str(verdict.get("field", "")),
                verdict.get("value"),
                str(verdict.get("error", "")),
                str(verdict.get("model", "")),
                "",
            ).signature
        ]

    return read_answer
