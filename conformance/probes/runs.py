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
from conformance.model.timing import Wait
from conformance.probes.dags import TERMINAL
from conformance.target import health

RUN_WAIT_S = 120.0  # how long any tier waits for a probe run (or its task) to finish
POLL_S = 1.0
HEALTH_AFTER_S = 10.0  # a run not finished by then: ask the target whether its scheduler runs at all, and again at
HEALTH_EVERY_S = 15.0  # this interval (a scheduler's heartbeat is judged stale after 30 s by default)
# Given up only when the scheduler reads unhealthy with the same last heartbeat for this long: a scheduler
# that is merely busy (2.x's SequentialExecutor runs each task inside the scheduler loop; a loaded 2.10.5 went
# 39 s without a heartbeat and recovered) moves its heartbeat again, a stopped one never does.
STALE_FOR_S = 60.0


class SchedulerNotRunning(SuiteError):
    """A wait on the scheduler given up because the target's own health endpoint says it is not running.

    Waiting out the full limit would only say "did not finish"; this says why, in one line, about 70 s into
    the wait instead of 120 s. Each wait asks again, so a scheduler that comes back is used again.
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
    try:
        return _wait(session, rel, timeout, started)
    finally:
        stats = getattr(session, "stats", None)
        if stats is not None:
            stats.wait(Wait.PROBE_RUN, time.monotonic() - started)


def _wait(session, rel: str, timeout: float, started: float) -> dict:
    deadline = started + timeout
    last: dict = {}
    heartbeat = progress.Heartbeat(f"GET {rel} to reach a final state", timeout)
    next_health = started + HEALTH_AFTER_S
    down = _Down()
    while time.monotonic() < deadline:
        heartbeat.beat(str(last.get("state") or ""))
        if time.monotonic() >= next_health:
            next_health = time.monotonic() + HEALTH_EVERY_S
            down.read(session)
            if down.for_s() >= STALE_FOR_S:
                _give_up(rel, time.monotonic() - started, timeout, down)
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


class _Down:
    """Since when the target's health has said "scheduler unhealthy" with the same last heartbeat."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.state: health.Component | None = None

    def read(self, session) -> None:
        api = str(getattr(session, "api_base", "")).rsplit("/", 1)[-1]
        if api not in health.HEALTH_PATH:
            return
        state = health.read(session, session.api_base + health.HEALTH_PATH[api]).of("scheduler")
        if state.status is not health.Status.UNHEALTHY:  # healthy, or unreadable: nothing says it is down
            self.since, self.state = None, None
        elif self.state is None or state.heartbeat != self.state.heartbeat:  # down, or still beating now and then
            self.since, self.state = time.monotonic(), state

    def for_s(self) -> float:
        return 0.0 if self.since is None else time.monotonic() - self.since


def _give_up(rel: str, waited: float, timeout: float, down: _Down) -> None:
    assert down.state is not None
    line = (
        f"gave up waiting for GET {rel} after {waited:.0f} s of at most {timeout:.0f} s: the target's health "
        f"endpoint says the scheduler is not running ({down.state.describe()}, unchanged for {down.for_s():.0f} s)"
    )
    progress.say(line)
    raise SchedulerNotRunning(line)


def run_path(dag_id: str, run_id: str) -> str:
    return f"/dags/{dag_id}/dagRuns/{run_id}"
