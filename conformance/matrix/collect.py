"""Run the suite once per Airflow release and gather the results.

Each version runs in its own `airflow-conformance run` process (a clean
pytest session per target) and writes its reports to `<report-dir>/runs/<V>/`.
A version that cannot be provisioned or run becomes an `error` column with
the reason; the others still run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from conformance.errors import ConfigError, ConformanceError
from conformance.matrix import clients, databases, passes
from conformance.options import ENV_PREFIX, env_name
from conformance.reporting import legacy

HEARTBEAT_S = 60.0
_PYTEST_PROGRESS = re.compile(r"^[.sxXFE]+\s*(\[\s*\d+%\])?$")  # pytest's dots: not worth repeating


@dataclass
class Column:
    """One Airflow release in the matrix."""

    version: str
    status: str = "pending"  # ran | error
    reason: str = ""
    exit_code: int | None = None
    duration_s: float = 0.0
    results: dict = field(default_factory=dict)  # results.json of the run
    replays: list = field(default_factory=list)  # `deviations verify --json` on the same target
    clients: list = field(default_factory=list)  # official clients' readings of the run's cassette (matrix.clients)

    def as_dict(self) -> dict:
        data = {
            "version": self.version,
            "status": self.status,
            "reason": self.reason,
            "exit_code": self.exit_code,
            "duration_s": round(self.duration_s, 1),
        }
        if self.results:
            data.update(
                {
                    "verdict": self.results.get("verdict"),
                    "summary": self.results.get("summary"),
                    "reference_spec": self.results.get("reference_spec"),
                    "run_id": self.results.get("run_id"),
                    "seed": self.results.get("seed"),
                }
            )
        return data


@dataclass(frozen=True)
class _Child:
    """How each release's child process starts: `run` flags, environment settings (secrets: never argv), time allowed."""

    flags: list[str]
    env: dict[str, str]
    timeout: float


def _child_env(auth: str, child: _Child) -> dict[str, str]:
    """The environment of a child `airflow-conformance`: the auth spec and the matrix's own settings travel here.

    Every other AIRFLOW_CONFORMANCE_* variable of ours is dropped: the child gets its flags on the command
    line, and a target URL or release in the environment would contradict them.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX) or k == ENV_PREFIX + "CACHE"}
    if auth:  # empty: a local target's own credentials are found by URL
        env[env_name("auth")] = auth
    env.update(child.env)
    return env


def run_one(url: str, auth: str, out_dir: Path, child: _Child, say: Callable[[str], None]) -> tuple[int, str]:
    """One suite run in a child process, its progress passed on as it comes and a heartbeat while it is quiet."""
    timeout = child.timeout
    cmd = [sys.executable, "-m", "conformance", "run", "--target", url, "--report-dir", str(out_dir), *child.flags]
    proc = subprocess.Popen(
        cmd, env=_child_env(auth, child), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    tail: deque[str] = deque(maxlen=50)
    reader = threading.Thread(target=_pass_on, args=(proc, tail, say), daemon=True)
    reader.start()
    started = time.monotonic()
    try:
        while proc.poll() is None:
            try:
                proc.wait(timeout=HEARTBEAT_S)
            except subprocess.TimeoutExpired:
                if time.monotonic() - started > timeout:
                    proc.terminate()  # the child cleans up on SIGTERM like on Ctrl-C
                    proc.wait()
                    return 3, f"the run did not finish within {int(timeout)} s"
                say(f"still running the suite ({(time.monotonic() - started) / 60:.0f} min)")
    finally:
        if proc.poll() is None:  # interrupted here: stop the child too (it cleans up)
            proc.terminate()
            proc.wait()
    reader.join(timeout=10)
    return proc.returncode, _reason(list(tail)) if proc.returncode >= 2 else ""


def _pass_on(proc: subprocess.Popen, tail: deque, say: Callable[[str], None]) -> None:
    """Forward a child's lines (not pytest's progress dots) and keep the last ones for the reason of a failure."""
    for line in proc.stdout or ():
        line = line.rstrip()
        if line:
            tail.append(line)
            if not _PYTEST_PROGRESS.match(line):
                say(line)


def _reason(lines: list[str]) -> str:
    """Why a child run failed: its own one-line error when it printed one, else its last line."""
    own = [line for line in lines if line.startswith("airflow-conformance:")]
    return (own or lines or [""])[-1]


def collect_local(
    versions: list[str],
    report_dir: Path,
    extra: list[str],
    progress: Callable[[str], None],
    timeout: float = 1800,
    python: str | None = None,
    env: dict[str, str] | None = None,
    database: str = "sqlite",
) -> list[Column]:
    """Provision each release locally in turn (on `database`), run the suite, stop it (unless it was already running).

    `extra` are flags for every `run`; `env` settings every child gets in its environment. A
    PostgreSQL column is labelled "V · PostgreSQL" and runs into runs/V-postgres/.
    """
    child = _Child(extra, env or {}, timeout)
    labels = [databases.column_label(v, database) for v in versions]
    return _in_turn(labels, progress, lambda col, say: _provision_and_run(col, say, report_dir, child, python))


def collect_targets(
    urls: list[str],
    auth: str,
    report_dir: Path,
    extra: list[str],
    progress: Callable[[str], None],
    timeout: float = 1800,
    env: dict[str, str] | None = None,
) -> list[Column]:
    """Run against already deployed targets (one per release)."""
    child = _Child(extra, env or {}, timeout)

    def turn(col: Column, say: Callable[[str], None]) -> None:
        url = col.version  # a target's column is named by its URL until its results say which release it is
        say(f"{url}: running the suite")
        _run_into(col, url, auth, report_dir, child, say)
        if col.results:
            col.version = col.results["target"]["airflow_version"]

    return _in_turn(urls, progress, turn)


def _in_turn(
    names: list[str], progress: Callable[[str], None], turn: Callable[[Column, Callable[[str], None]], None]
) -> list[Column]:
    """A Column per name, filled by `turn` one after the other and timed.

    `turn` reports through a progress function that prefixes each line with its place, "[2/5] ...".
    """
    columns = []
    for i, name in enumerate(names, 1):
        col = Column(name)
        columns.append(col)
        started = time.monotonic()

        def say(message: str, i: int = i, t0: float = started) -> None:
            progress(f"[{i}/{len(names)}] {_clock(t0)} {message}")

        turn(col, say)
        col.duration_s = time.monotonic() - started
    return columns


def _clock(started: float) -> str:
    """Time since a release's turn began, `+4:07`, so a quiet phase shows how long it has lasted."""
    seconds = int(time.monotonic() - started)
    return f"+{seconds // 60}:{seconds % 60:02d}"


def _provision_and_run(
    col: Column, say: Callable[[str], None], report_dir: Path, child: _Child, python: str | None
) -> None:
    """The release's run; then a restart for each second pass whose checks wait (conformance.matrix.passes)."""
    from conformance.local import instance  # noqa: PLC0415

    already = {t.key for t in instance.running()}
    _provision_and_run_once(col, say, report_dir, child, python)
    for p in passes.PASSES:
        if col.results and passes.waiting(col.results, p):
            _second_pass(col, p, say, report_dir, child, python, already)


def _provision_and_run_once(
    col: Column, say: Callable[[str], None], report_dir: Path, child: _Child, python: str | None
) -> None:
    from conformance.local import instance  # noqa: PLC0415

    version, database = databases.split_label(col.version)
    say(f"Airflow {col.version}: provisioning")
    already = {t.key for t in instance.running()}
    try:
        local = instance.start(version, python=python, database=database, progress=say)
    except ConformanceError as exc:
        col.status, col.reason = "error", f"could not provision: {exc}"
        folder = report_dir / "runs" / databases.run_dir_name(col.version)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "error.txt").write_text(col.reason + "\n", encoding="utf-8")
        say(f"Airflow {col.version}: {col.reason}")
        return
    try:
        say(f"Airflow {col.version}: running the suite")
        _run_into(col, local.url, local.auth_spec, report_dir, child, say)
    finally:
        if local.key not in already:
            instance.stop(version, database)
    say(
        f"Airflow {col.version}: {col.status}"
        + (f" ({col.results.get('verdict')})" if col.results else f": {col.reason}")
    )


def _second_pass(
    col: Column,
    p: passes.Pass,
    say: Callable[[str], None],
    report_dir: Path,
    child: _Child,
    python: str | None,
    already: set[str],
) -> None:
    """Restart the release as pass `p` configures it, decide the checks waiting for it, merge them in."""
    from conformance.local import instance  # noqa: PLC0415
    from conformance.local.target import target_key  # noqa: PLC0415

    version, database = databases.split_label(col.version)
    waiting = ", ".join(passes.waiting(col.results, p))
    if target_key(version, database) in already:  # someone else's running target: never restart it under them
        say(f"Airflow {col.version}: {waiting} stay undecided: the target was already running, not restarted")
        return
    say(f"Airflow {col.version}: {p.name} restart: {p.describe} for {waiting}")
    flags = passes.flags(col.results, p, child.flags)
    out = report_dir / "runs" / databases.run_dir_name(col.version) / p.folder
    try:
        local = instance.start(
            version, python=python, database=database, auth_config=p.auth_config, settings=p.settings, progress=say
        )
    except ConformanceError as exc:
        say(f"Airflow {col.version}: {p.name} restart failed, {waiting} stay undecided: {exc}")
        return
    try:
        code, reason = run_one(local.url, local.auth_spec, out, _Child(flags, child.env, child.timeout), say)
    finally:
        instance.stop(version, database)
    second = passes.load(out.parent, p)
    if second is None:
        say(
            f"Airflow {col.version}: the {p.name} run gave no results ({reason or f'exit {code}'}); "
            f"{waiting} stay undecided"
        )
        return
    col.results = passes.merge(col.results, second, p)
    if col.results.get("verdict") != "conformant":
        col.exit_code = col.exit_code or 1
    say(
        f"Airflow {col.version}: merged {', '.join(col.results['second_passes'][p.name]['checks']) or 'nothing'} "
        f"from the {p.name} run"
    )


def replay_deviations(url: str, auth: str, out_dir: Path, child: _Child | None = None, timeout: float = 600) -> list:
    """`deviations verify --every-entry --json` in a child process: which deviations of the data occur on this release.

    A run only meets the deviations its generated cases happen to hit; the replay asks
    each one directly, so an entry that no longer occurs shows up as stale. Every entry
    is replayed, whatever its range says, so the evidence also shows a range that is too
    narrow (`deviations range`); each outcome says whether the release is `in_range`.
    """
    env = _child_env(auth, child or _Child([], {}, timeout))
    cmd = [sys.executable, "-m", "conformance", "deviations", "verify", "--target", url, "--every-entry", "--json"]
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        replays = json.loads(proc.stdout) if proc.stdout.strip() else []
    except (subprocess.TimeoutExpired, ValueError):
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "deviations.json").write_text(json.dumps(replays, indent=1) + "\n", encoding="utf-8")
    return replays


def _run_into(col: Column, url: str, auth: str, report_dir: Path, child: _Child, say: Callable[[str], None]) -> None:
    out = report_dir / "runs" / databases.run_dir_name(col.version)
    code, reason = run_one(url, auth, out, child, say)
    if code in (0, 1):
        say("replaying the recorded deviations")
        col.replays = replay_deviations(url, auth, out, child)
    col.exit_code = code
    results = out / "results.json"
    if code in (0, 1) and results.exists():
        col.status = "ran"
        col.results = legacy.load(results)
        col.clients = clients.read_neighbours(out, col.results, say)  # the run's cassette: no new request
    else:
        col.status = "error"
        col.reason = reason or f"the run exited {code}"
        if results.exists():
            col.results = legacy.load(results)
        out.mkdir(parents=True, exist_ok=True)
        (out / "error.txt").write_text(col.reason + "\n", encoding="utf-8")


def _replays(path: Path) -> list:
    """A release's `deviations verify --json` output; none when it is missing or empty (the replay failed)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return data if isinstance(data, list) else []


def load_runs(report_dir: Path, progress: Callable[[str], None] = lambda _m: None) -> list[Column]:
    """Columns from the results already under `<report-dir>/runs/` (re-render without re-running).

    A run whose client readings were not saved (runs collected from several CI machines) has its
    cassette read by the clients here; a run without a cassette has no client cells.
    """
    columns = []
    for results in sorted((report_dir / "runs").glob("*/results.json")):
        try:
            data = legacy.load(results)
        except ValueError as exc:
            raise ConfigError(f"{results} is not a results.json of this suite ({exc.__class__.__name__})") from exc
        data = passes.merge_stored(data, results.parent)  # the checks decided on a restart (second passes)
        readings = (
            clients.load(results.parent)
            if (results.parent / clients.FILE).is_file()
            else clients.read_neighbours(results.parent, data, progress)
        )
        version = databases.label_of_dir(results.parent.name, data.get("target", {}).get("airflow_version"))
        columns.append(
            Column(
                version,
                status="ran",
                exit_code=0 if data.get("verdict") == "conformant" else 1,
                duration_s=float(data.get("duration_s") or 0.0),
                results=data,
                replays=_replays(results.parent / "deviations.json"),
                clients=readings,
            )
        )
    for reason_file in sorted((report_dir / "runs").glob("*/error.txt")):
        columns.append(
            Column(
                databases.label_of_dir(reason_file.parent.name), status="error", reason=reason_file.read_text().strip()
            )
        )
    return columns


def with_stored(
    columns: list[Column], report_dir: Path, database: str, progress: Callable[[str], None] = lambda _m: None
) -> list[Column]:
    """`columns` plus the stored runs of the other databases, so a PostgreSQL matrix adds columns beside SQLite's.

    Runs on the same database as this invocation are left out as before: it replaces them.
    """
    have = {c.version for c in columns}
    stored = [
        c
        for c in load_runs(report_dir, progress)
        if c.version not in have and databases.split_label(c.version)[1] != database
    ]
    return columns + stored
