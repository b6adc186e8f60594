"""Driving the probe DAG over the API: pause states and waiting for runs.

Every tier that needs a run of its own waits for it here, with one timeout
setting, and every pause change and restore goes through here: a second copy of
either drifts (three copies once waited 60, 90 and 120 s for the same run).
"""

from __future__ import annotations

import time

import requests

from conformance import progress
from conformance.errors import RequestRefused
from conformance.probes.dags import TERMINAL

RUN_WAIT_S = 120.0  # how long any tier waits for a probe run (or its task) to finish
POLL_S = 1.0


def set_paused(session, dag_id: str, paused: bool) -> requests.Response:
    """PATCH the pause state with `update_mask=is_paused`, the one form every release takes; the answer as is."""
    return session.call("PATCH", f"/dags/{dag_id}", params={"update_mask": "is_paused"}, json={"is_paused": paused})


def is_paused(session, dag_id: str) -> bool | None:
    """The DAG's pause state as the target reports it now; None when it does not answer 200 with a DAG."""
    resp = session.call("GET", f"/dags/{dag_id}")
    try:
        body = resp.json() if resp.status_code == 200 else None
    except ValueError:
        return None
    return bool(body.get("is_paused")) if isinstance(body, dict) else None


def restore_paused(session, dag_id: str, want: bool) -> str:
    """Put the DAG's pause state back to `want` when it differs; what went wrong, or "".

    Reads first, so a DAG already in the wanted state (or gone) is not written to.
    """
    try:
        current = is_paused(session, dag_id)
        if current is None or current == want:
            return ""
        resp = set_paused(session, dag_id, want)
    except (RequestRefused, requests.RequestException) as exc:
        return f"DAG {dag_id}: could not restore pause state ({type(exc).__name__})"
    return "" if resp.status_code == 200 else f"DAG {dag_id}: restoring is_paused={want} answered {resp.status_code}"


def wait_until_done(session, rel: str, timeout: float = RUN_WAIT_S) -> dict:
    """GET `rel` (a run or a task instance) until its state is terminal or `timeout` passes; the last body seen.

    Polling is bookkeeping, not a check: refusals, network errors and unreadable
    bodies end the wait and the caller judges the state it got.
    """
    deadline = time.monotonic() + timeout
    last: dict = {}
    heartbeat = progress.Heartbeat(f"GET {rel} to reach a final state", timeout)
    while time.monotonic() < deadline:
        heartbeat.beat(str(last.get("state") or ""))
        try:
            resp = session.call("GET", rel)
            body = resp.json() if resp.status_code == 200 else None
        except (RequestRefused, requests.RequestException, ValueError):
            return last
        if isinstance(body, dict):
            last = body
            if last.get("state") in TERMINAL:
                return last
        time.sleep(POLL_S)
    return last


def run_path(dag_id: str, run_id: str) -> str:
    return f"/dags/{dag_id}/dagRuns/{run_id}"
