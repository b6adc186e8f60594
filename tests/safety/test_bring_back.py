"""A deleted probe DAG's return is a wait of its own in the run's timing (a stub target: no Airflow).

On a 2.x target the return takes as long as the DAG processor's pass over every file (40 s and more on a
local 2.10.5 with the example DAGs); a run whose authorization tier waited that long must say so in
`timing.phases[*].waited_s.reparse`, not leave it unexplained in the tier's wall time.
"""

from __future__ import annotations

from conformance.http.client import TargetSession
from conformance.http.redact import Redactor
from conformance.model.timing import Wait
from conformance.safety.cleanup import bring_back
from tests.stub_airflow import StubAirflow


def test_the_wait_for_a_deleted_dag_is_counted_as_reparse():
    with StubAirflow() as stub:  # every DAG read answers 404: the DAG never comes back
        session = TargetSession(stub.url, None, Redactor(), api_base="/api/v2")
        bring_back(session, {}, "gone_dag", wait=0.5)
    assert session.stats.waited[Wait.REPARSE.value] >= 0.5, session.stats.waited
    assert "GET /api/v2/dags/gone_dag" in stub.requests


def test_no_wait_no_count():
    with StubAirflow() as stub:
        session = TargetSession(stub.url, None, Redactor(), api_base="/api/v2")
        bring_back(session, {}, "gone_dag", wait=0)  # asks for the file and leaves the DAG's return to later
    assert Wait.REPARSE.value not in session.stats.waited
