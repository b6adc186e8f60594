"""A wait on the scheduler gives up with one line when the target's own health says the scheduler is down.

A proxy in front of a real Airflow 3.3.2 plays a deployment whose
scheduler has stopped: its health endpoint reports the scheduler unhealthy, and
every run it is asked about stays queued. The scenario that waits for the probe
DAG's run must end `error` with the reason code `scheduler_not_running` within
the heartbeat stayed the same for STALE_FOR_S, not after the 120 s wait, and the terminal must say why. The negative
control is the same run through a clean proxy: the run finishes and the check passes.
"""

from __future__ import annotations

import pytest

from conformance.model.reasons import ReasonCode
from conformance.probes.runs import HEALTH_AFTER_S, RUN_WAIT_S, STALE_FOR_S
from tests import targets
from tests.faultproxy.corpus import HEALTH, RUN
from tests.faultproxy.mutation import Mutation, edit_json
from tests.faultproxy.proxy import FaultProxy

CHECK = "scenario.dag_runs.trigger_queued"  # its module's fixture triggers the probe DAG and waits for the run


def _scheduler_unhealthy(body):
    """Unhealthy, with a last heartbeat that never moves: a stopped scheduler, not a busy one."""
    if isinstance(body, dict) and isinstance(body.get("scheduler"), dict):
        body["scheduler"]["status"] = "unhealthy"
        body["scheduler"]["latest_scheduler_heartbeat"] = "2026-01-01T00:00:00+00:00"


def _still_queued(body):
    if isinstance(body, dict) and "state" in body:
        body["state"] = "queued"


STOPPED = [
    Mutation(
        "health_scheduler_unhealthy",
        (),
        "health says the scheduler is unhealthy",
        path=HEALTH,
        response=edit_json(_scheduler_unhealthy),
    ),
    Mutation("runs_never_start", (), "every run read stays queued", path=RUN, response=edit_json(_still_queued)),
]


def _result(outcome) -> dict:
    return next(r for r in outcome.results["results"] if r["id"] == CHECK)


@pytest.fixture(scope="module", params=["3.3.2"])  # the parameter names its target (tests/live_groups.py)
def live(request, targets):
    """One release: the wait is the same code on both generations, and each run here waits STALE_FOR_S on purpose.
    3.3.2, whose worker has time to spare: the 2.10.5 target's worker is the live layer's longer one."""
    return targets.get(request.param)


def test_a_wait_gives_up_when_health_says_the_scheduler_is_down(live, tmp_path):
    with FaultProxy(live.url, STOPPED, credentials=live.credentials) as proxy:
        outcome = targets.run_suite(
            proxy.url, live.auth_spec, tmp_path / "stopped", only="scenarios", keyword=CHECK, timeout=600
        )
    assert targets.no_traceback(outcome), outcome.stderr[-2000:]
    result = _result(outcome)
    assert result["status"] == "error", result
    assert result["reason_code"] == ReasonCode.SCHEDULER_NOT_RUNNING.value, result
    assert "scheduler is not running" in result["message"], result["message"]
    printed = [line for line in (outcome.stdout + outcome.stderr).splitlines() if "gave up waiting" in line]
    assert printed, "the terminal says why the wait ended"
    # given up once the heartbeat stood still for STALE_FOR_S, inside the full wait
    assert HEALTH_AFTER_S + STALE_FOR_S <= result["duration_s"] < RUN_WAIT_S, result["duration_s"]
    assert outcome.returncode == 1, outcome.returncode  # a check not decided: not conformant, never a pass

    with FaultProxy(live.url, [], credentials=live.credentials) as proxy:
        clean = targets.run_suite(
            proxy.url, live.auth_spec, tmp_path / "clean", only="scenarios", keyword=CHECK, timeout=600
        )
    assert _result(clean)["status"] == "passed", _result(clean)
