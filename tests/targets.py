"""Real local Airflow targets and runs of the suite against them, for every test module and the fault proxy.

A target is started through the public command line (`airflow-conformance up`)
and reused when it already runs: each test module, the fault proxy and the
benchmark reach it the same way. Whoever starts a target stops it (by the CLI,
which stops recorded PIDs), so a target that ran before the tests keeps running
after them. Runs of the suite go through the CLI too (`run_suite`, on
tests/harness.py's `cli`): exit codes, stderr and report files are the contract under test.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

from conformance.reporting.findings import keyword_for as findings_keyword
from tests.faultproxy.proxy import Credentials
from tests.harness import cli

VERSIONS = ("2.10.5", "3.3.2")
PROBE_DAG = "conformance_probe"
DISPOSABLE_DAG = "conformance_probe_disposable"
UP_TIMEOUT = 1200  # a cold cache installs the release first
DOWN_TIMEOUT = 300


# ----------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    """A running local Airflow. `auth_spec` holds the password: pass it to the CLI, never print it."""

    version: str
    url: str
    home: Path
    kind: str  # basic | jwt
    user: str
    password: str = field(repr=False)
    roles: dict = field(default_factory=dict, repr=False)  # role -> auth spec of the target's role users

    def role_env(self) -> dict[str, str]:
        """AIRFLOW_CONFORMANCE_AUTH_<ROLE> for each role user (keeps the secrets off the command line)."""
        return {f"AIRFLOW_CONFORMANCE_AUTH_{role.upper()}": spec for role, spec in self.roles.items()}

    @property
    def auth_spec(self) -> str:
        return f"{self.kind}:{self.user}:{self.password}"

    @property
    def credentials(self) -> Credentials:
        return Credentials(self.kind, self.user, self.password)

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    @property
    def api(self) -> str:
        return "v1" if self.major == 2 else "v2"

    @property
    def api_root(self) -> str:
        return f"{self.url}/api/{self.api}"

    # Direct (proxy-less) access, for the tests' own preconditions and snapshots only.
    def session(self) -> requests.Session:
        """An authenticated requests session straight to the target (no proxy)."""
        s = requests.Session()
        s.trust_env = False
        if self.kind == "basic":
            s.auth = (self.user, self.password)
        else:
            r = s.post(f"{self.url}/auth/token", json={"username": self.user, "password": self.password}, timeout=30)
            r.raise_for_status()
            s.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        return s

    def scheduler_healthy(self) -> bool:
        path = "/health" if self.major == 2 else "/monitor/health"
        try:
            body = requests.get(self.api_root + path, timeout=30).json()
        except (requests.RequestException, ValueError):
            return False
        return (body.get("scheduler") or {}).get("status") == "healthy"

    def dag(self, dag_id: str) -> dict | None:
        r = self.session().get(f"{self.api_root}/dags/{dag_id}", timeout=30)
        return r.json() if r.status_code == 200 else None

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> bool:
        """Wait (bounded) until a DAG is listed again, e.g. after a check deleted and re-parsed it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.dag(dag_id) is not None:
                return True
            time.sleep(2)
        return False

    def wait_for_dags_parsed(self, quiet_s: float = 20, timeout: float = 240) -> int:
        """Wait (bounded) until the number of listed DAGs stops growing; return it.

        A freshly started target's DAG processor keeps adding the example DAGs for a minute or two: a snapshot
        taken before that ends would see DAGs appear during a run that the run did not make.
        """
        deadline, last, since = time.monotonic() + timeout, -1, time.monotonic()
        while time.monotonic() < deadline:
            r = self.session().get(f"{self.api_root}/dags", params={"limit": 1}, timeout=30)
            count = r.json().get("total_entries", -1) if r.status_code == 200 else -1
            if count != last:
                last, since = count, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                return count
            time.sleep(3)
        return last

    def set_paused(self, dag_id: str, paused: bool) -> None:
        r = self.session().patch(
            f"{self.api_root}/dags/{dag_id}",
            params={"update_mask": "is_paused"},
            json={"is_paused": paused},
            timeout=30,
        )
        r.raise_for_status()


def _running() -> dict:
    """{version: LocalTarget} of the SQLite targets whose processes are alive (a release's PostgreSQL
    target, when it runs too, is tests/local/test_postgres.py's own)."""
    from conformance.local import instance  # noqa: PLC0415

    return {t.version: t for t in instance.running() if t.database == "sqlite"}


def running_versions() -> set[str]:
    """Versions `airflow-conformance status` lists as running."""
    return set(_running())


def find(version: str) -> Target | None:
    """The running target of `version` (credentials read from its state, never from output), or None."""
    local = _running().get(version)
    if local is None:
        return None
    return Target(
        version,
        local.url,
        Path(local.home),
        local.auth["kind"],
        local.auth["user"],
        local.auth["password"],
        local.role_specs(),
    )


def up(version: str) -> Target:
    """`up --airflow VERSION` (returns at once when it already runs)."""
    proc = cli("up", "--airflow", version, timeout=UP_TIMEOUT)
    target = find(version) if proc.returncode == 0 else None
    if target is None:
        raise RuntimeError(
            f"airflow-conformance up --airflow {version} failed ({proc.returncode}): {proc.stderr[-2000:]}"
        )
    return target


def down(version: str) -> None:
    cli("down", "--airflow", version, timeout=DOWN_TIMEOUT)


class TargetPool:
    """Targets started on demand and reused; `stop_started` stops only those this pool started."""

    def __init__(self) -> None:
        self.started: list[str] = []

    def get(self, version: str) -> Target:
        target = find(version)
        if target is None:
            target = up(version)
            self.started.append(version)
        return target

    def stop_started(self) -> None:
        for version in self.started:
            down(version)
        self.started.clear()


@contextlib.contextmanager
def provide(version: str) -> Iterator[Target]:
    """A running target of `version` for one fixture's lifetime; stopped afterwards only if this call started it.

    For modules that should not keep a second Airflow running on a small machine once they are done.
    """
    pool = TargetPool()
    try:
        yield pool.get(version)
    finally:
        pool.stop_started()


# ----------------------------------------------------------------- runs


@dataclass
class RunOutcome:
    """What one `airflow-conformance run` produced."""

    returncode: int
    stdout: str
    stderr: str
    duration_s: float
    report_dir: Path
    results: dict = field(default_factory=dict)  # results.json, {} when missing

    def status_of(self, result_id: str) -> str | None:
        for r in self.results.get("results", []):
            if r["id"] == result_id:
                return r["status"]
        return None

    def result(self, result_id: str) -> dict:
        return next((r for r in self.results.get("results", []) if r["id"] == result_id), {})

    def by_status(self, *statuses: str) -> list[dict]:
        return [r for r in self.results.get("results", []) if r["status"] in statuses]


def run_suite(
    url: str,
    auth_spec: str,
    report_dir: Path,
    *,
    keyword: str | None = None,
    only: str = "scenarios,posture",
    timeout: float = 600,
    env: dict[str, str] | None = None,
    extra: tuple[str, ...] = (),
) -> RunOutcome:
    """`airflow-conformance run --target URL --auth SPEC --only ... [-k ...] --report-dir DIR`."""
    args = ["run", "--target", url, "--auth", auth_spec, "--only", only, "--report-dir", str(report_dir), *extra]
    if keyword:
        args += ["-k", keyword]
    started = time.monotonic()
    proc = cli(*args, timeout=timeout, env=env)
    duration = time.monotonic() - started
    results_file = report_dir / "results.json"
    results = json.loads(results_file.read_text(encoding="utf-8")) if results_file.exists() else {}
    return RunOutcome(proc.returncode, proc.stdout, proc.stderr, duration, report_dir, results)


def keyword_for(result_ids: Iterable[str]) -> str:
    """A `run -k` expression selecting exactly these checks (the plugin matches `-k` against check ids)."""
    return " or ".join(sorted(set(result_ids)))


def no_traceback(outcome: RunOutcome) -> bool:
    return "Traceback (most recent call last)" not in outcome.stdout + outcome.stderr


def exact_keyword(result_ids: Iterable[str]) -> str:
    """A `run -k` expression selecting exactly these results, none whose id merely starts with one of them.

    `keyword_for` matches substrings: `property.clear_dag_run` would also run `property.clear_dag_runs`.
    """
    return " or ".join(findings_keyword(r) for r in sorted(set(result_ids)))
