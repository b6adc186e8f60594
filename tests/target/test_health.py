"""What a target's health endpoint says decides `status` and whether a run against a local target starts.

The answers come from a stub that serves Airflow 3's health document (the shape
`/api/v2/monitor/health` has); the live behaviour of a wait on a stopped scheduler
is tests/probes/test_scheduler_down.py.
"""

from __future__ import annotations

import pytest
import requests

from conformance.cli.local import _state
from conformance.errors import ConfigError
from conformance.local.target import LocalTarget
from conformance.run.context import _require_healthy
from conformance.target import health
from tests.stub_airflow import StubAirflow


def _doc(scheduler: str, triggerer: str | None = "healthy") -> dict:
    return {
        "metadatabase": {"status": "healthy"},
        "scheduler": {"status": scheduler, "latest_scheduler_heartbeat": "2026-12-07T06:00:00+00:00"},
        "triggerer": {"status": triggerer, "latest_triggerer_heartbeat": None},
        "dag_processor": {"status": "healthy", "latest_dag_processor_heartbeat": "2026-12-07T06:59:00+00:00"},
    }


def _local(url: str) -> LocalTarget:
    return LocalTarget(version="3.3.2", url=url, api="v2", auth={}, ready=True)


def test_parse_names_only_components_reported_unhealthy():
    found = health.parse(_doc("unhealthy", triggerer=None))
    assert [c.name for c in found.unhealthy] == ["scheduler"]
    assert found.of("triggerer").status is health.Status.UNKNOWN  # never started: not called unhealthy
    assert "last heartbeat 2026-12-07T06:00:00+00:00" in found.describe_unhealthy()
    assert health.parse(["not", "a", "dict"]).problem


def test_status_says_which_component_is_unhealthy():
    with StubAirflow(health=_doc("unhealthy")) as stub:
        assert _state(_local(stub.url)).startswith("unhealthy: scheduler: unhealthy")
    with StubAirflow(health=_doc("healthy")) as stub:
        assert _state(_local(stub.url)) == "ready"
    with StubAirflow() as stub:  # no health endpoint: not answering, never "ready"
        assert _state(_local(stub.url)).startswith("not answering")


def test_a_run_against_an_unhealthy_local_target_stops_in_one_line():
    with StubAirflow(health=_doc("unhealthy")) as stub, requests.Session() as session:
        with pytest.raises(ConfigError) as err:
            _require_healthy(session, stub.url, "v2", "3.3.2", "sqlite")
        message = str(err.value)
        assert "\n" not in message and "scheduler: unhealthy" in message
        assert "down --airflow 3.3.2 && airflow-conformance up --airflow 3.3.2" in message
    with StubAirflow(health=_doc("healthy")) as stub, requests.Session() as session:
        _require_healthy(session, stub.url, "v2", "3.3.2", "sqlite")  # no exception: the run goes on


def test_a_busy_scheduler_is_not_taken_for_a_stopped_one():
    """Unhealthy with a heartbeat that moves (2.x's SequentialExecutor running a task) never starts the give-up clock."""
    from conformance.http.client import TargetSession  # noqa: PLC0415
    from conformance.http.redact import Redactor  # noqa: PLC0415
    from conformance.probes.runs import _Down  # noqa: PLC0415

    with StubAirflow(health=_doc("unhealthy")) as stub:
        session = TargetSession(stub.url, None, Redactor(), api_base="/api/v2")
        down = _Down()
        down.read(session)
        first = down.since
        assert first is not None
        down.read(session)  # the same heartbeat: still the same stretch of "down"
        assert down.since == first
        stub.health = {
            **_doc("unhealthy"),
            "scheduler": {"status": "unhealthy", "latest_scheduler_heartbeat": "2026-12-07T06:00:40+00:00"},
        }
        down.read(session)  # it beat meanwhile: a new stretch begins
        assert down.since is not None and down.since > first
        stub.health = _doc("healthy")
        down.read(session)
        assert down.since is None and down.for_s() == 0.0
