"""Reliability: the suite against a real Airflow that misbehaves as a network service.

The fault-injecting proxy sits in front of a real local Airflow and makes it
answer 503, reset connections, stall, rate-limit, or die mid-run. The run must
retry what is safe to retry (GETs, bounded), honour Retry-After, never retry a
POST, and when the target dies still finish with a verdict: `error` results,
all four report files, exit 1 or 3, no traceback, no hang.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import harness, targets
from tests.faultproxy.mutation import Mutation, close_connection, delay, reply
from tests.faultproxy.proxy import FaultProxy

pytestmark = [pytest.mark.slow]

HEALTH = r"{api}(/monitor)?/health"
HEALTH_CHECK = "scenario.service.health_public"
POOL_CHECK = "scenario.pools.partial_patch"
REPORT_FILES = ("results.json", "junit.xml", "report.html", "summary.md")
ATTEMPTS = 3  # the suite's client: one try plus two retries for idempotent requests


@pytest.fixture(scope="module", params=["3.3.2"])  # the parameter names its target (tests/live_groups.py)
def airflow(request: pytest.FixtureRequest):
    """The 3.3.2 target (the faults are the suite's client's, the same on either generation; the 2.10.5 target's
    worker is the live layer's longer one), started here if it does not run yet and stopped after this module."""
    with targets.provide(request.param) as target:
        yield target


def _run(
    airflow: targets.Target, proxy: FaultProxy, tmp_path: Path, env, keyword: str | None = None, timeout: float = 300
) -> targets.RunOutcome:
    outcome = targets.run_suite(
        proxy.url, airflow.auth_spec, tmp_path / "report", keyword=keyword, timeout=timeout, env=env
    )
    assert targets.no_traceback(outcome), outcome.stderr[-3000:]
    return outcome


def _health_gets(proxy: FaultProxy) -> list:
    """The anonymous-or-not GETs of the health endpoint, in order, as the proxy saw them."""
    return [e for e in proxy.log if e.method == "GET" and e.path.endswith("/health")]


# ------------------------------------------------------------------ (a) transient failures are retried

TRANSIENT = {
    "503": reply(503, {"detail": "Service Unavailable"}),
    "502": reply(502, {"detail": "Bad Gateway"}),
    "504": reply(504, {"detail": "Gateway Timeout"}),
    "connection-reset": close_connection(reset=True),
    "connection-closed": close_connection(),
}


@pytest.mark.parametrize("fault", TRANSIENT, ids=str)
def test_transient_failures_of_a_get_are_retried(airflow, tmp_path, env, fault):
    """Two failed attempts, then the target recovers: the GET is retried and the check passes."""
    flaky = Mutation(
        "flaky_health",
        (),
        f"health answers {fault} twice",
        path=HEALTH,
        anonymous=True,
        request=TRANSIENT[fault],
        times=2,
    )
    with FaultProxy(airflow.url, [flaky], credentials=airflow.credentials) as proxy:
        outcome = _run(airflow, proxy, tmp_path, env, keyword=HEALTH_CHECK)
    assert outcome.returncode == 0, outcome.stderr[-1000:]
    assert outcome.status_of(HEALTH_CHECK) == "passed", outcome.result(HEALTH_CHECK)
    statuses = [e.status for e in _health_gets(proxy)]
    assert proxy.applied("flaky_health") == 2
    assert statuses[2] == 200, f"the third attempt should have reached the target: {statuses}"


def test_a_get_that_keeps_failing_is_retried_a_bounded_number_of_times(airflow, tmp_path, env):
    """503 forever: the client gives up after a few attempts and the run still ends with a verdict."""
    down = Mutation(
        "health_down",
        (),
        "health always 503",
        path=HEALTH,
        anonymous=True,
        request=reply(503, {"detail": "Service Unavailable"}),
    )
    with FaultProxy(airflow.url, [down], credentials=airflow.credentials) as proxy:
        outcome = _run(airflow, proxy, tmp_path, env, keyword=HEALTH_CHECK)
    assert outcome.returncode == 1
    assert outcome.status_of(HEALTH_CHECK) == "failed" and "503" in outcome.result(HEALTH_CHECK)["message"]
    assert proxy.applied("health_down") == ATTEMPTS


def test_a_get_that_times_out_is_retried(airflow, tmp_path, env):
    """A request held beyond the client's timeout (30 s) is abandoned and retried."""
    stalled = Mutation(
        "stalled_health",
        (),
        "health stalls once",
        path=HEALTH,
        anonymous=True,
        request=delay(33, then=close_connection()),
        times=1,
    )
    with FaultProxy(airflow.url, [stalled], credentials=airflow.credentials) as proxy:
        outcome = _run(airflow, proxy, tmp_path, env, keyword=HEALTH_CHECK)
    assert outcome.returncode == 0, outcome.stderr[-1000:]
    assert outcome.status_of(HEALTH_CHECK) == "passed"
    assert proxy.applied("stalled_health") == 1
    assert outcome.duration_s > 30, "the stalled request should have cost the client its full timeout"
    assert any(e.status == 200 for e in _health_gets(proxy)), "the retry never reached the target"


# ------------------------------------------------------------------ (b) 429 Retry-After is honoured


def test_429_retry_after_is_honoured(airflow, tmp_path, env):
    """A 429 with Retry-After: 2 makes the client wait about that long before the retry."""
    limited = Mutation(
        "rate_limited",
        (),
        "health rate-limited once",
        path=HEALTH,
        anonymous=True,
        request=reply(429, {"detail": "Too Many Requests"}, headers={"Retry-After": "2"}),
        times=1,
    )
    with FaultProxy(airflow.url, [limited], credentials=airflow.credentials) as proxy:
        outcome = _run(airflow, proxy, tmp_path, env, keyword=HEALTH_CHECK)
    assert outcome.returncode == 0, outcome.stderr[-1000:]
    assert outcome.status_of(HEALTH_CHECK) == "passed"
    first, second = _health_gets(proxy)[:2]
    assert first.status == 429 and second.status == 200
    assert second.at - first.at >= 1.9, f"retried {second.at - first.at:.2f} s after a 429 with Retry-After: 2"


# ------------------------------------------------------------------ (c) the target dies mid-run


def test_target_dying_mid_run_ends_with_errors_and_all_reports(airflow, tmp_path, env):
    """After 40 requests the target is gone (connections refused): the run stops at that check, with every report.

    What the dead target kept the run from deleting is then swept by `cleanup --run-id` against the
    real target, which must leave the probe DAG's pause state as it was found.
    """
    paused_before = airflow.dag(targets.PROBE_DAG)["is_paused"]
    with FaultProxy(airflow.url, credentials=airflow.credentials, die_after=40) as proxy:
        url = proxy.url
        outcome = _run(airflow, proxy, tmp_path, env, timeout=600)
    assert outcome.returncode in (1, 3), f"exit {outcome.returncode}: {outcome.stderr[-1000:]}"
    assert all((outcome.report_dir / name).is_file() for name in REPORT_FILES), list(outcome.report_dir.iterdir())
    summary = outcome.results["summary"]
    assert outcome.results["aborted"] == f"the target {url} stopped answering during the run"
    assert summary["error"] == 1, summary  # the check whose request got no answer; the run stopped there
    assert summary["passed"] > 0, "the target died after 40 requests; the checks before that should have passed"
    wrongly_failed = [f"{r['id']}: {r['message'][:150]}" for r in outcome.by_status("failed")]
    assert not wrongly_failed, f"a dead target is not a contract violation: {wrongly_failed}"
    assert any(e.status is None for e in proxy.log), "the proxy never dropped a connection"

    swept = harness.cli(
        "cleanup",
        "--target",
        airflow.url,
        "--auth",
        airflow.auth_spec,
        "--run-id",
        outcome.results["run_id"],
        timeout=300,
        env=env,
    )
    assert swept.returncode == 0, swept.stderr[-1000:]
    assert airflow.dag(targets.PROBE_DAG)["is_paused"] == paused_before


# ------------------------------------------------------------------ (d) non-idempotent requests are not retried

POST_FAULTS = {
    "502": reply(502, {"detail": "Bad Gateway"}),
    "503": reply(503, {"detail": "Service Unavailable"}),
    "connection-reset": close_connection(reset=True),
}


@pytest.mark.parametrize("fault", POST_FAULTS, ids=str)
def test_a_post_is_never_retried(airflow, tmp_path, env, fault):
    """POST /pools failing once is sent exactly once: retrying could create the object twice."""
    broken = Mutation(
        "post_pool_fails",
        (),
        f"POST /pools answers {fault}",
        method="POST",
        path=r"{api}/pools",
        request=POST_FAULTS[fault],
        times=1,
    )
    with FaultProxy(airflow.url, [broken], credentials=airflow.credentials) as proxy:
        outcome = _run(airflow, proxy, tmp_path, env, keyword=POOL_CHECK)
    posts = [e for e in proxy.log if e.method == "POST" and e.path.endswith("/pools")]
    assert len(posts) == 1, f"POST /pools was sent {len(posts)} times"
    assert outcome.returncode == 1
    assert outcome.status_of(POOL_CHECK) in ("failed", "error"), outcome.result(POOL_CHECK)


# ------------------------------------------------------------------ politeness: --max-rps bounds every worker together


def test_max_rps_bounds_the_whole_run(airflow, tmp_path, env):
    """Readonly properties with 4 workers under --max-rps 10: no window of the proxy's log holds more than the budget.

    The bucket holds one token per worker (a burst of 4), so any span of W seconds may carry at
    most 10*W + 4 requests, however the workers interleave. The proxy sees arrival times, not the
    moments tokens were granted: a request granted just before a window and delayed in transit
    can land inside it, hence a slack of 2. Without the limiter this target answers ~23 per second.
    """
    rate, window, workers, slack = 10.0, 2.0, 4, 2
    with FaultProxy(airflow.url, [], credentials=airflow.credentials) as proxy:
        outcome = targets.run_suite(
            proxy.url,
            airflow.auth_spec,
            tmp_path / "report",
            only="properties",
            keyword="get_pools or get_variables or get_connections or get_dags",
            extra=("--profile", "readonly", "--workers", str(workers), "--max-rps", str(rate), "--max-examples", "10"),
            timeout=600,
            env=env,
        )
    assert targets.no_traceback(outcome), outcome.stderr[-2000:]
    assert outcome.returncode in (0, 1), outcome.stderr[-2000:]  # the release's verdict; the rate is the point
    times = sorted(e.at for e in proxy.log)
    assert len(times) >= 40, f"too few requests ({len(times)}) to judge the rate"
    busiest = max(sum(1 for t in times[i:] if t - start <= window) for i, start in enumerate(times))
    assert busiest <= rate * window + workers + slack, f"{busiest} requests within {window} s under --max-rps {rate}"
    span = times[-1] - times[0]
    assert len(times) <= rate * span + workers + slack, f"{len(times)} requests in {span:.1f} s"
