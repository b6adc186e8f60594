"""Start Airflow components as process groups and stop exactly those processes again.

Every component runs in its own session (so its own process group) and is
recorded by PID, PGID and kernel start time. Stopping signals those groups plus
any descendants that left them (2.x task runners call setpgid), found through
/proc parent links. Nothing is ever selected by process name: on a shared
machine another user's `airflow scheduler` must never be touched, and a recycled
PID is recognised by its different start time.

Components that exit while this process still runs are reaped with waitpid on
their recorded PIDs, so no zombies pile up in a long-lived caller (a matrix run
starts and stops one release after another). No table of children is kept:
waitpid only ever concerns this process's own children, so it cannot reach
anyone else's process, and the kernel already knows which PIDs are ours.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Iterable


def _stat(pid: int) -> tuple[str, int, int, int] | None:
    """(state, ppid, pgid, starttime) of a process from /proc, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    rest = raw[raw.rfind(")") + 2:].split()
    # fields after comm: state(3) ppid(4) pgrp(5) ... starttime(22)
    try:
        return rest[0], int(rest[1]), int(rest[2]), int(rest[19])
    except (IndexError, ValueError):
        return None


def starttime(pid: int) -> int | None:
    st = _stat(pid)
    return st[3] if st else None


def is_alive(pid: int, start: int | None = None) -> bool:
    """True if `pid` runs (not a zombie) and, when given, still has start time `start`."""
    if _reaped(pid):
        return False
    st = _stat(pid)
    if st is None:
        if not Path("/proc").is_dir():  # no procfs: fall back to signal 0
            try:
                os.kill(pid, 0)
                return True
            except OSError:
                return False
        return False
    if st[0] in ("Z", "X"):
        return False
    return start is None or st[3] == start


def spawn(cmd: list[str], *, env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen:
    """Start `cmd` in a new session with stdout+stderr appended to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as fh:
        fh.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(cmd[1:])}\n".encode())
        fh.flush()
        proc = subprocess.Popen(
            cmd, env=env, cwd=str(cwd), stdin=subprocess.DEVNULL, stdout=fh,
            stderr=subprocess.STDOUT, start_new_session=True,
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


def _all_processes() -> dict[int, tuple[str, int, int, int]]:
    table = {}
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if entry.name.isdigit():
            st = _stat(int(entry.name))
            if st is not None:
                table[int(entry.name)] = st
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
        if leader is not None and leader[3] != leader_start:
            continue  # PID recycled by an unrelated process
        found.update(pid for pid, st in table.items() if st[2] == pgid and st[3] >= leader_start)
    # descendants that moved to groups of their own
    grew = True
    while grew:
        grew = False
        for pid, st in table.items():
            if pid not in found and st[1] in found:
                found.add(pid)
                grew = True
    return {pid for pid in found if table[pid][0] not in ("Z", "X")}


def _signal(groups: dict[int, int], pids: set[int], sig: int) -> None:
    for pgid in groups:
        if pgid in pids or any(_stat(p) and _stat(p)[2] == pgid for p in pids):
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


def terminate(groups: dict[int, int], *, grace: float = 15.0) -> set[int]:
    """SIGTERM the recorded groups (and strays), wait up to `grace` s, then SIGKILL.

    Returns the PIDs that were still alive after SIGKILL (normally empty).
    """
    pids = members(groups)
    if not pids:
        _reap(groups)  # group leaders are the components this process may have started
        return set()
    _signal(groups, pids, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        _reap(groups)
        pids = {p for p in pids if is_alive(p)} | members(groups)
        if not pids:
            return set()
        time.sleep(0.2)
    _signal(groups, pids, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        _reap(groups)
        pids = {p for p in pids if is_alive(p)}
        if not pids:
            return set()
        time.sleep(0.1)
    return pids


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text(encoding="ascii").splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(cols[9])
    return inodes


def port_owner(port: int, pids: set[int]) -> str | None:
    """Who listens on `port`: "ours" (one of `pids`), "other", or None if nobody (yet).

    Used while a target starts: another server that grabbed the same port
    must not be mistaken for the one we launched. Returns "ours" when /proc
    cannot tell (non-Linux), so the check never blocks there.
    """
    if not Path("/proc/net/tcp").exists():
        return "ours"
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    wanted = {f"socket:[{i}]" for i in inodes}
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) in wanted:
                    return "ours"
            except OSError:
                continue
    return "other"
