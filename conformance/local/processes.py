"""Start Airflow components as process groups and stop exactly those processes again.

Every component runs in its own session (so its own process group) and is
recorded by PID, PGID and creation time. Stopping signals those groups plus
any descendants that left them (2.x task runners call setpgid), found through
parent links. Nothing is ever selected by process name: on a shared machine
another user's `airflow scheduler` must never be touched, and a recycled PID is
recognised by its different creation time.

The process table, parent links, creation times and listening sockets come from
psutil, so the same code stops Airflow on Linux and macOS; reading `/proc`
directly would find nothing on macOS and let `down` report success while
Airflow keeps running. Process groups are POSIX; elsewhere local targets are
refused with one line.

Components that exit while this process still runs are reaped with waitpid on
their recorded PIDs, so no zombies pile up in a long-lived caller (a matrix run
starts and stops one release after another). No table of children is kept:
waitpid only ever concerns this process's own children, so it cannot reach
anyone else's process, and the kernel already knows which PIDs are ours.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import psutil

from conformance.errors import ConfigError

# creation times are recorded as integer milliseconds since the epoch; a smaller number is a record
# written by an earlier version of the suite: Linux clock ticks since boot (from /proc/PID/stat)
_EPOCH_MS_FLOOR = 10**11
_SAME_START_S = 0.02  # two creation times this close are the same process (a PID is reused only after exit)
_GONE = (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)


@dataclass(frozen=True)
class _Proc:
    status: str
    ppid: int
    pgid: int
    created: float  # seconds since the epoch


def require_posix() -> None:
    """Local targets are process groups: Linux and macOS have them, Windows does not (exit 2, one line)."""
    if os.name != "posix" or not hasattr(os, "killpg"):
        raise ConfigError(
            "local Airflow targets need Linux or macOS (process groups); "
            "on this system point the suite at a deployed Airflow with --target URL"
        )


def starttime(pid: int) -> int | None:
    """The creation time of `pid` as recorded in the state file (ms since the epoch), or None if it is gone."""
    try:
        return round(psutil.Process(pid).create_time() * 1000)
    except psutil.Error:
        return None


def _as_epoch(recorded: int | float | None) -> float | None:
    """A recorded start time in seconds since the epoch (None: nothing recorded, any process matches)."""
    if not recorded:
        return None
    if recorded >= _EPOCH_MS_FLOOR:
        return recorded / 1000
    return psutil.boot_time() + recorded / os.sysconf("SC_CLK_TCK")  # a record from before psutil (Linux only)


def _same_start(created: float, recorded: int | float | None) -> bool:
    expected = _as_epoch(recorded)
    return expected is None or abs(created - expected) <= _SAME_START_S


def _info(pid: int) -> _Proc | None:
    try:
        proc = psutil.Process(pid)
        with proc.oneshot():
            return _Proc(proc.status(), proc.ppid(), os.getpgid(pid), proc.create_time())
    except (psutil.Error, OSError):
        return None


def is_alive(pid: int, start: int | None = None) -> bool:
    """True if `pid` runs (not a zombie) and, when given, still has the recorded start time `start`."""
    if _reaped(pid):
        return False
    info = _info(pid)
    return info is not None and info.status not in _GONE and _same_start(info.created, start)


def spawn(cmd: list[str], *, env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen:
    """Start `cmd` in a new session with stdout+stderr appended to `log`."""
    require_posix()
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as fh:
        fh.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(cmd[1:])}\n".encode())
        fh.flush()
        proc = subprocess.Popen(
            cmd,
            env=env,
            cwd=str(cwd),
            stdin=subprocess.DEVNULL,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return proc


def _reaped(pid: int) -> bool:
    """True if `pid` was an exited child of this process, collected just now (so it is gone).

    A PID that is not our child (another user's, or one we never started) is left alone.
    """
    if pid <= 0:  # waitpid(0) and waitpid(-1) would mean "any child"
        return False
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return done == pid


def _all_processes() -> dict[int, _Proc]:
    table = {}
    for proc in psutil.process_iter(["status", "ppid", "create_time"]):
        try:
            pgid = os.getpgid(proc.pid)
        except OSError:
            continue
        info = proc.info
        if info.get("create_time") is not None:
            table[proc.pid] = _Proc(info["status"], info["ppid"], pgid, info["create_time"])
    return table


def members(groups: dict[int, int]) -> set[int]:
    """PIDs belonging to the recorded groups {pgid: leader start time} and their descendants.

    A group whose leader PID now belongs to a younger process was recycled and
    is skipped; group members started before the leader cannot be ours either.
    """
    table = _all_processes()
    found: set[int] = set()
    for pgid, leader_start in groups.items():
        leader = table.get(pgid)
        if leader is not None and not _same_start(leader.created, leader_start):
            continue  # PID recycled by an unrelated process
        since = _as_epoch(leader_start)
        found.update(
            pid for pid, p in table.items() if p.pgid == pgid and (since is None or p.created >= since - _SAME_START_S)
        )
    # descendants that moved to groups of their own
    grew = True
    while grew:
        grew = False
        for pid, p in table.items():
            if pid not in found and p.ppid in found:
                found.add(pid)
                grew = True
    return {pid for pid in found if table[pid].status not in _GONE}


def _signal(groups: dict[int, int], pids: set[int], sig: int) -> None:
    pgids_alive = {info.pgid for info in map(_info, pids) if info is not None}
    for pgid in groups:
        if pgid in pids or pgid in pgids_alive:
            try:
                os.killpg(pgid, sig)
            except OSError:
                pass
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass


def _reap(pids: Iterable[int]) -> None:
    for pid in pids:
        _reaped(pid)


def _wait_gone(groups: dict[int, int], pids: set[int], seconds: float, *, regroup: bool) -> set[int]:
    """Wait up to `seconds` for `pids` (and, with `regroup`, any new member of the groups) to exit."""
    deadline = time.monotonic() + seconds
    while True:
        _reap(groups)
        pids = {p for p in pids if is_alive(p)} | (members(groups) if regroup else set())
        if not pids or time.monotonic() >= deadline:
            return pids
        time.sleep(0.2)


def terminate(groups: dict[int, int], *, grace: float = 15.0) -> set[int]:
    """SIGTERM the recorded groups (and strays), wait up to `grace` s, then SIGKILL.

    Returns the PIDs that were still alive after SIGKILL (normally empty).
    """
    require_posix()
    pids = members(groups)
    if not pids:
        _reap(groups)  # group leaders are the components this process may have started
        return set()
    _signal(groups, pids, signal.SIGTERM)
    pids = _wait_gone(groups, pids, grace, regroup=True)
    if not pids:
        return set()
    _signal(groups, pids, signal.SIGKILL)
    return _wait_gone(groups, pids, 5, regroup=False)


def _listens(port: int) -> bool:
    """Whether anything accepts connections on 127.0.0.1:`port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def port_owner(port: int, pids: set[int]) -> str | None:
    """Who listens on `port`: "ours" (one of `pids`), "other", or None if nobody (yet).

    Used while a target starts: another server that grabbed the same port
    must not be mistaken for the one we launched.
    """
    for pid in pids:
        try:
            conns = psutil.Process(pid).net_connections(kind="tcp")
        except psutil.Error:
            continue
        if any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in conns):
            return "ours"
    return "other" if _listens(port) else None
