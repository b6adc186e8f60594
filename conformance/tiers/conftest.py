"""Short fixture names for the suite's own check modules, and for them only.

The run's fixtures are named `airflow_*` (they live on the `ConformanceRun` plugin
object, and a plugin's fixtures are visible to every test in the session, the
user's own included). A conftest's fixtures reach only the tests below its
folder, so the short names here never appear in anyone else's test suite.
Each is declared here, typed: the run's `airflow_<name>` by its short name.
"""

from __future__ import annotations

import pytest

from conformance.context import CheckContext
from conformance.safety.session import GuardedSession
from conformance.target.model import Target
from conformance.verdict import Verdict


@pytest.fixture(scope="session")
def ctx(airflow_ctx: CheckContext) -> CheckContext:
    """The run as a check sees it (`conformance.context.CheckContext`)."""
    return airflow_ctx


@pytest.fixture(scope="session")
def api(airflow_api: GuardedSession) -> GuardedSession:
    """The guarded session of the run's own identity: `api.call("GET", "/dags")` is API-relative."""
    return airflow_api


@pytest.fixture(scope="session")
def anon(airflow_anon: GuardedSession) -> GuardedSession:
    """A guarded session without credentials."""
    return airflow_anon


@pytest.fixture(scope="session")
def target(airflow_target: Target) -> Target:
    """The target: URL, Airflow version, API generation, credentials."""
    return airflow_target


@pytest.fixture(scope="session")
def dialect(airflow_dialect: dict) -> dict:
    """How the target's API generation spells things (expectations.yaml `dialect`)."""
    return airflow_dialect


@pytest.fixture
def expect(airflow_expect: dict) -> dict:
    """What the release under test must answer for this scenario (expectations.yaml `scenarios`)."""
    return airflow_expect


@pytest.fixture
def verdict(airflow_verdict: Verdict) -> Verdict:
    """The check's verdict: soft assertions, every step named (`conformance.verdict`)."""
    return airflow_verdict
