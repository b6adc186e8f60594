"""A real PostgreSQL server owned by one local target, on 127.0.0.1, started and stopped by PID.

Why PyPI: CI machines reach PyPI and nothing else is guaranteed, so the server binaries come
from the `pgserver` wheel (PostgreSQL 16 built into a wheel), installed by the suite's own
install path into a cached venv of their own. Only its binaries are used: pgserver's Python
API picks ports, trusts every local connection and stops servers it finds by process name,
none of which a shared machine should get.

One cluster per target lives in `<cache>/postgres/<target>/data`. Two generated passwords (the
cluster's superuser, and the `airflow` role that owns the `airflow` database) are kept in a
mode-600 file in the target's home and never printed; every connection is TCP with
SCRAM-SHA-256, no Unix socket is opened. PostgreSQL refuses to run as root, so when the suite
runs as root the server runs as the unprivileged `nobody` user (the data folder is handed to it
and the folders above it get the search bit for others, nothing more).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from conformance import paths
from conformance.errors import ConfigError
from conformance.local import processes
from conformance.local.venv import MARKER_NAME, build_venv, cached_venv, read_marker

try:
    import pwd
except ImportError:  # Windows: local targets are refused there (processes.require_posix) before any use
    pwd = None  # type: ignore[assignment]

PGSERVER = "pgserver==0.1.4"  # PostgreSQL 16.2 binaries in a wheel (manylinux, macOS)
DATABASE = "airflow"
ROLE = "airflow"
SUPERUSER = "postgres"
SERVICE_USER = "nobody"  # who runs the server when the suite runs as root
CREDENTIALS_FILE = "postgres-credentials.json"
READY_TIMEOUT_S = 60
STOP_GRACE_S = 30

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Server:
    """A running PostgreSQL server as recorded in the target's state (no secret in it)."""

    pid: int
    starttime: int  # ms since the epoch (PID reuse guard)
    port: int
    data: str

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Server | None:
        try:
            return cls(int(data["pid"]), int(data["starttime"]), int(data["port"]), str(data["data"]))
        except (KeyError, TypeError, ValueError):
            return None


# ---------------------------------------------------------------- binaries


def _bin_dir(venv: Path) -> Path | None:
    found = sorted(venv.glob("lib/python*/site-packages/pgserver/pginstall/bin"))
    return found[0] if found and (found[0] / "postgres").is_file() else None


def binaries(progress: Progress = lambda _m: None) -> Path:
    """The folder holding initdb, postgres and psql, installing the pgserver wheel once into the cache."""
    venv = cached_venv("postgresql-" + PGSERVER.replace("==", "-"))
    marker = read_marker(venv)
    found = _bin_dir(venv)
    if marker and marker.get("package") == PGSERVER and found:
        return found
    if venv.exists():
        shutil.rmtree(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    log = venv.parent / f"{venv.name}.install.log"
    log.write_text("", encoding="utf-8")
    build_venv(
        venv, sys.executable, [PGSERVER], log, what=f"PostgreSQL ({PGSERVER})", progress=progress, expect="~5-20 s"
    )
    found = _bin_dir(venv)
    if found is None:
        raise ConfigError(f"installing {PGSERVER} left no PostgreSQL binaries in {venv} (log: {log})")
    (venv / MARKER_NAME).write_text(json.dumps({"package": PGSERVER}), encoding="utf-8")
    return found


# ---------------------------------------------------------------- credentials


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, 0o600)


def credentials(home: Path) -> dict[str, str]:
    """{"superuser": password, "airflow": password}, generated once per home (URL-safe characters only)."""
    file = home / CREDENTIALS_FILE
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get(SUPERUSER) and data.get(ROLE):
            return data
    except (OSError, ValueError):
        pass
    data = {SUPERUSER: secrets.token_urlsafe(24), ROLE: secrets.token_urlsafe(24)}
    _write_private(file, json.dumps(data))
    return data


def connection_url(home: Path, port: int) -> str:
    """SQLAlchemy URL Airflow connects with (contains the password: environment only, never printed)."""
    return f"postgresql+psycopg2://{ROLE}:{credentials(home)[ROLE]}@127.0.0.1:{port}/{DATABASE}"


# ---------------------------------------------------------------- running as root


def _service_user() -> pwd.struct_passwd | None:
    """Who the server runs as: None (this user) unless we are root, which PostgreSQL refuses."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        raise ConfigError(
            f"running as root, and there is no '{SERVICE_USER}' user to run PostgreSQL as; "
            "run the suite as an ordinary user"
        ) from None


def _searchable(path: Path) -> None:
    """Give others the search (x) bit on every folder above `path`, so the service user can reach it."""
    for folder in path.resolve().parents:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)


def _as_service(user: pwd.struct_passwd | None) -> dict:
    return {} if user is None else {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


# ---------------------------------------------------------------- cluster


def data_dir(name: str) -> Path:
    return paths.cache_dir() / "postgres" / name / "data"


def _initdb(bindir: Path, data: Path, home: Path, log: Path, user: pwd.struct_passwd | None) -> None:
    """A fresh cluster whose only way in is a password (the superuser's, from a file deleted right after)."""
    parent = data.parent
    if parent.exists():
        shutil.rmtree(parent)
    parent.mkdir(parents=True, mode=0o700)
    pwfile = parent / "pwfile"
    _write_private(pwfile, credentials(home)[SUPERUSER] + "\n")
    if user is not None:
        for p in (parent, pwfile):
            os.chown(p, user.pw_uid, user.pw_gid)
        _searchable(parent)
        _searchable(bindir)
    try:
        _run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
            ],
            log,
            user=user,
        )
    finally:
        pwfile.unlink(missing_ok=True)


def _run(
    cmd: list[str],
    log: Path,
    *,
    user: pwd.struct_passwd | None = None,
    stdin: str = "",
    env: dict[str, str] | None = None,
) -> None:
    """Run one PostgreSQL tool, output appended to `log`; ConfigError with the log's last line if it fails."""
    with log.open("a", encoding="utf-8") as fh:
        fh.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} {Path(cmd[0]).name}\n")
        fh.flush()
        proc = subprocess.run(
            cmd,
            input=stdin,
            stdout=fh,
            stderr=subprocess.STDOUT,
            text=True,
            cwd="/",
            env=env,
            timeout=120,
            check=False,
            **_as_service(user),
        )
    if proc.returncode != 0:
        lines = [ln for ln in log.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
        raise ConfigError(f"PostgreSQL {Path(cmd[0]).name} failed: {lines[-1] if lines else 'no output'} (log: {log})")


def psql(bindir: Path, home: Path, port: int, sql: str, log: Path, *, as_superuser: bool = False) -> None:
    """Run SQL (on stdin: passwords in it never reach a command line) against the target's server."""
    user, db = (SUPERUSER, "postgres") if as_superuser else (ROLE, DATABASE)
    env = {**os.environ, "PGPASSWORD": credentials(home)[user], "PGCONNECT_TIMEOUT": "5"}
    _run(
        [
            str(bindir / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            user,
            "-d",
            db,
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-f",
            "-",
        ],
        log,
        stdin=sql,
        env=env,
    )


def query(home: Path, port: int, sql: str) -> str:
    """One query as the `airflow` role, its rows as unaligned text (for tests and diagnostics)."""
    bindir = binaries()
    env = {**os.environ, "PGPASSWORD": credentials(home)[ROLE], "PGCONNECT_TIMEOUT": "5"}
    proc = subprocess.run(
        [
            str(bindir / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            ROLE,
            "-d",
            DATABASE,
            "-X",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        raise ConfigError(f"PostgreSQL query failed: {lines[-1] if lines else f'psql exited {proc.returncode}'}")
    return proc.stdout


def _create_database(bindir: Path, home: Path, port: int, log: Path) -> None:
    password = credentials(home)[ROLE]  # URL-safe characters: safe inside a SQL string literal
    psql(
        bindir,
        home,
        port,
        f"CREATE ROLE {ROLE} LOGIN PASSWORD '{password}';\nCREATE DATABASE {DATABASE} OWNER {ROLE} ENCODING 'UTF8';\n",
        log,
        as_superuser=True,
    )


# ---------------------------------------------------------------- start / stop


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait_ready(proc: subprocess.Popen, bindir: Path, port: int, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            raise ConfigError(f"PostgreSQL exited during startup (code {proc.returncode}); see {log}")
        if (
            _accepts(port)
            and subprocess.run(
                [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-q"], check=False, timeout=10
            ).returncode
            == 0
        ):
            return
        if time.monotonic() > deadline:
            raise ConfigError(f"PostgreSQL did not accept connections within {READY_TIMEOUT_S} s; see {log}")
        time.sleep(0.3)


def start(
    name: str, home: Path, port: int, log: Path, *, fresh: bool, progress: Progress = lambda _m: None
) -> tuple[Server, bool]:
    """Start the target's server on 127.0.0.1:`port`; (server, whether its cluster was created just now).

    `fresh` asks for a new cluster (the target's Airflow database is being created anew). The server
    is its own process group and is stopped on any failure here.
    """
    processes.require_posix()
    bindir = binaries(progress)
    user = _service_user()
    data = data_dir(name)
    created = fresh or not (data / "PG_VERSION").is_file()
    if created:
        progress(f"creating a PostgreSQL cluster in {data}")
        _initdb(bindir, data, home, log, user)
    cmd = [
        str(bindir / "postgres"),
        "-D",
        str(data),
        "-p",
        str(port),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "unix_socket_directories=",
        "-c",
        "max_connections=200",
    ]
    with log.open("ab") as fh:
        fh.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} postgres -p {port}\n".encode())
        fh.flush()
        proc = subprocess.Popen(
            cmd,
            cwd="/",
            stdin=subprocess.DEVNULL,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **_as_service(user),
        )
    server = Server(proc.pid, processes.starttime(proc.pid) or 0, port, str(data))
    try:
        _wait_ready(proc, bindir, port, log)
        if created:
            _create_database(bindir, home, port, log)
    except BaseException:
        stop(server)
        raise
    progress(f"PostgreSQL ready on 127.0.0.1:{port} (pid {proc.pid}, data {data})")
    return server, created


def is_alive(server: Server) -> bool:
    return processes.is_alive(server.pid, server.starttime) or bool(processes.members({server.pid: server.starttime}))


def stop(server: Server) -> set[int]:
    """Fast shutdown of the recorded postmaster (SIGINT), then its group is made sure gone; PIDs left (normally none)."""
    if processes.is_alive(server.pid, server.starttime):
        try:
            os.kill(server.pid, signal.SIGINT)
        except OSError:
            pass
        deadline = time.monotonic() + STOP_GRACE_S
        while processes.is_alive(server.pid, server.starttime) and time.monotonic() < deadline:
            time.sleep(0.2)
    return processes.terminate({server.pid: server.starttime}, grace=5.0)
