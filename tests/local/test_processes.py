"""Process control of local targets on real processes (no Airflow: the fast layer).

`down` must stop exactly the process groups `up` recorded, their strays included,
and never report success while one of them still runs; a listener that is not
ours must be told apart from ours. These run real process trees and a real
listening socket, through psutil as on macOS.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from conformance.local import processes

# a parent that starts a child in a process group of its own (as 2.x task runners do), then waits
TREE = """
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import os, time; os.setpgid(0, 0); time.sleep(600)"])
print(child.pid, flush=True)
time.sleep(600)
"""
SERVER = """
import http.server, sys
server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
print(server.server_port, flush=True)
server.serve_forever()
"""


def _spawn(code: str, tmp_path: Path) -> tuple[subprocess.Popen, str]:
    log = tmp_path / "out.log"
    proc = processes.spawn([sys.executable, "-c", code], env={"PATH": "/usr/bin:/bin"}, cwd=tmp_path, log=log)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        lines = [line for line in log.read_text().splitlines() if line.strip().isdigit()]
        if lines:
            return proc, lines[0].strip()
        time.sleep(0.05)
    raise AssertionError(f"{code!r} printed nothing: {log.read_text()}")


def test_terminate_stops_the_group_and_its_strays_and_nothing_else(tmp_path):
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
    try:
        proc, child = _spawn(TREE, tmp_path)
        groups = {proc.pid: processes.starttime(proc.pid)}
        found = processes.members(groups)
        assert {proc.pid, int(child)} <= found and bystander.pid not in found
        assert processes.is_alive(proc.pid, groups[proc.pid])
        assert processes.terminate(groups, grace=5) == set()
        assert not processes.is_alive(proc.pid) and not processes.is_alive(int(child))
        assert processes.members(groups) == set()
        assert bystander.poll() is None, "a process outside the recorded groups was signalled"
    finally:
        bystander.kill()
        bystander.wait()


def test_a_recycled_pid_is_not_ours(tmp_path):
    proc, _ = _spawn(TREE, tmp_path)
    try:
        real = processes.starttime(proc.pid)
        assert processes.is_alive(proc.pid, real)
        assert not processes.is_alive(proc.pid, real - 5000)  # recorded 5 s earlier: another process
        assert processes.members({proc.pid: real - 5000}) == set()
    finally:
        processes.terminate({proc.pid: processes.starttime(proc.pid)}, grace=5)


def test_a_start_time_recorded_before_psutil_still_matches(tmp_path):
    """State files written by earlier versions hold Linux clock ticks since boot (/proc/PID/stat field 22)."""
    stat = Path("/proc/self/stat")
    if not stat.exists():
        pytest.skip("no /proc here: no earlier state files either")
    proc, _ = _spawn(TREE, tmp_path)
    try:
        raw = Path(f"/proc/{proc.pid}/stat").read_text()
        ticks = int(raw[raw.rfind(")") + 2 :].split()[19])
        assert processes.is_alive(proc.pid, ticks)
        assert proc.pid in processes.members({proc.pid: ticks})
        assert not processes.is_alive(proc.pid, ticks - 500)
    finally:
        processes.terminate({proc.pid: processes.starttime(proc.pid)}, grace=5)


def test_port_owner_tells_ours_from_another_listener(tmp_path):
    proc, port = _spawn(SERVER, tmp_path)
    try:
        ours = processes.members({proc.pid: processes.starttime(proc.pid)})
        assert processes.port_owner(int(port), ours) == "ours"
        assert processes.port_owner(int(port), set()) == "other"
    finally:
        processes.terminate({proc.pid: processes.starttime(proc.pid)}, grace=5)
    assert processes.port_owner(int(port), set()) is None
