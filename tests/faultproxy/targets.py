"""Real local Airflow targets and the CLI, as the proxy tests use them.

Everything goes through the public command line (`airflow-conformance up /
status / down / run`) in subprocesses: exit codes and report files are the
contract under test. A target already running is reused and left running;
one these helpers start is stopped by the same helper that started it.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import requests

from .proxy import Credentials

REPO_ROOT = Path(__file__).resolve().parents[2]
VERSIONS = ("2.10.5", "3.3.2")
PROBE_DAG = "conformance_probe"
DISPOSABLE_DAG = "conformance_probe_disposable"
UP_TIMEOUT = 900  # a cold cache installs the release first
CREDENTIALS_FILE = "conformance-credentials.json"


def cli_env(pycache: Path | None = None) -> dict[str, str]:
    """Environment for CLI subprocesses.

    AIRFLOW_CONFORMANCE_CACHE passes through (CI sets it, so venvs are reused).
    When PYTHONDONTWRITEBYTECODE is set, pytest inside each run re-compiles its
    assertion-rewritten plugin modules every time (~5 s per run); pointing
    bytecode at a private `pycache` folder instead keeps the source tree clean
    and each run short.
    """
    env = dict(os.environ)
    if pycache is not None and env.get("PYTHONDONTWRITEBYTECODE"):
        env.pop("PYTHONDONTWRITEBYTECODE")
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def cli(*args: str, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`airflow-conformance ARGS...` in a subprocess (text output, never raises on exit codes)."""
    return subprocess.run([sys.executable, "-m", "conformance", *args], capture_output=True, text=True,
                          timeout=timeout, env=env or cli_env(), check=False)


@dataclass(frozen=True)
class Target:
    """A running local Airflow. `auth_spec` holds the password: never print it."""

    version: str
    url: str
    home: Path
    kind: str  # basic | jwt
    user: str
    password: str = field(repr=False)

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
    def api_root(self) -> str:
        return f"{self.url}/api/v{1 if self.major == 2 else 2}"

    # Direct (proxy-less) access, for the test harness's own preconditions only.
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

    def set_paused(self, dag_id: str, paused: bool) -> None:
        r = self.session().patch(f"{self.api_root}/dags/{dag_id}", params={"update_mask": "is_paused"},
                                 json={"is_paused": paused}, timeout=30)
        r.raise_for_status()


def running_versions() -> set[str]:
    """Versions `airflow-conformance status` lists as running."""
    out = cli("status", timeout=60).stdout
    return {line.split()[0] for line in out.splitlines()[1:] if line.strip() and line[0].isdigit()}


def _parse_up(stdout: str, version: str) -> Target:
    fields = {}
    for line in stdout.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    home = Path(fields["home"])
    secrets = json.loads((home / CREDENTIALS_FILE).read_text(encoding="utf-8"))
    kind, user, _ = fields["auth"].split()[0].split(":", 2)
    return Target(version, fields["url"], home, kind, user, secrets["password"])


def up(version: str) -> Target:
    """`up --airflow VERSION` (returns at once when it already runs); the password comes from its home."""
    proc = cli("up", "--airflow", version, timeout=UP_TIMEOUT)
    if proc.returncode != 0:
        raise RuntimeError(f"airflow-conformance up --airflow {version} failed ({proc.returncode}): "
                           f"{proc.stderr.strip().splitlines()[-1:]}")
    return _parse_up(proc.stdout, version)


def down(version: str) -> None:
    cli("down", "--airflow", version, timeout=120)


@contextlib.contextmanager
def provide(version: str) -> Iterator[Target]:
    """A running target of `version`; stopped afterwards only if this call started it."""
    already = version in running_versions()
    target = up(version)
    try:
        yield target
    finally:
        if not already:
            down(version)


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


def run_suite(url: str, auth_spec: str, report_dir: Path, *, keyword: str | None = None,
              only: str = "scenarios,posture", timeout: float = 600, env: dict[str, str] | None = None,
              extra: tuple[str, ...] = ()) -> RunOutcome:
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
