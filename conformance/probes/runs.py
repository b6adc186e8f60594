"""Driving the probe DAG over the API: pause states and waiting for runs.

Every tier that needs a run of its own waits for it here, with one timeout
setting, and every pause change and restore goes through here: a second copy of
either drifts (three copies once waited 60, 90 and 120 s for the same run).
"""

from __future__ import annotations

import time

import requests

from conformance import progress
from conformance.errors import RequestRefused, SuiteError
from conformance.model.reasons import ReasonCode
from conformance.probes.dags import TERMINAL
from conformance.target import health

RUN_WAIT_S = 120.0  # how long any tier waits for a probe run (or its task) to finish
POLL_S = 1.0
HEALTH_AFTER_S = 10.0  # a run not finished by then: ask the target whether its scheduler runs at all, and again at
HEALTH_EVERY_S = 15.0  # this interval (a scheduler's heartbeat is judged stale after 30 s by default)


class SchedulerNotRunning(SuiteError):
    """A wait on the scheduler given up because the target's own health endpoint says it is not running.

    Waiting out the full limit would only say "did not finish"; this says why, in one line, 10 s into the
    wait instead of 120 s. Each wait asks again, so a scheduler that comes back is used again.
    """

    reason_code = ReasonCode.SCHEDULER_NOT_RUNNING


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
    started = time.monotonic()
    deadline = started + timeout
    last: dict = {}
    heartbeat = progress.Heartbeat(f"GET {rel} to reach a final state", timeout)
    next_health = started + HEALTH_AFTER_S
    while time.monotonic() < deadline:
        heartbeat.beat(str(last.get("state") or ""))
        if time.monotonic() >= next_health:
            next_health = time.monotonic() + HEALTH_EVERY_S
            _give_up_if_scheduler_down(session, rel, time.monotonic() - started, timeout)
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


def _give_up_if_scheduler_down(session, rel: str, waited: float, timeout: float) -> None:
    """Raise SchedulerNotRunning when the target's health says its scheduler is unhealthy; an unreadable answer waits on."""
    api = str(getattr(session, "api_base", "")).rsplit("/", 1)[-1]
    if api not in health.HEALTH_PATH:
        return
    state = health.read(session, session.api_base + health.HEALTH_PATH[api]).of("scheduler")
    if state.status is health.Status.UNHEALTHY:
        line = (f"gave up waiting for GET {rel} after {waited:.0f} s of at most {timeout:.0f} s: the target's health "
                f"endpoint says the scheduler is not running ({state.describe()})")
        progress.say(line)
        raise SchedulerNotRunning(line)


def run_path(dag_id: str, run_id: str) -> str:
    return f"/dags/{dag_id}/dagRuns/{run_id}"
