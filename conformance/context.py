"""What a check may use of the run it belongs to: the narrow, typed interface of the run context.

The run builds one `conformance.run.context.RunContext` (target, reference spec, guard,
ledger, sessions, expectations); the tiers and the deviation replay sit below the run
package and never import it. They take a `CheckContext`: this Protocol names exactly the
attributes and methods a check reaches, so a type checker holds every check to them and
`RunContext` (checked against it in `conformance.run.context`) stays free to carry more
(clients, timings) for the layers above.
"""

from __future__ import annotations

from typing import Protocol

from conformance.checks.schema import ResponseValidator
from conformance.expectations import Expectations
from conformance.expectations.access import Access
from conformance.expectations.page_limits import PageLimits
from conformance.http.redact import Redactor
from conformance.http.router import Router
from conformance.options import RunOptions
from conformance.safety.guard import Guard
from conformance.safety.ledger import Ledger
from conformance.safety.session import GuardedSession
from conformance.target.auth import AuthSpec
from conformance.target.model import Target


class CheckContext(Protocol):
    """The run as a check sees it: read its facts, send through its guarded sessions, record in its ledger."""

    options: RunOptions  # the run's flags (profile, seed, workers, max examples, ...)
    target: Target  # URL, Airflow version, API generation, credentials
    spec: dict  # the target's reference spec
    spec_version: str  # the release that spec is of
    router: Router  # operationId and path template of every request
    ledger: Ledger  # what the run created
    guard: Guard  # decides every request (the property tier reads its profile)
    session: GuardedSession  # the run's own identity; every request passes the guard
    redactor: Redactor  # secrets a check makes (connection passwords) are added here
    expectations: Expectations  # per-version expectations and known deviations
    validator: ResponseValidator  # response schema validation against the reference spec
    probe_dags: dict  # dag_id -> the probe DAG as found at the start of the run
    auth_denied: bool  # the target refuses valid credentials by configuration (2.0-2.2 deny_all)
    access: Access | None  # who may do what on this release (None: not recorded for it)
    identities: dict[str, AuthSpec]  # role identities, by the release's role names
    primary_role: str | None  # the role of the run's own identity, when known
    page_limits: PageLimits | None  # the page limits the paging checks judge by

    @property
    def prefix(self) -> str:
        """The run's prefix: every object the run creates is named with it."""
        ...

    def new_session(self) -> GuardedSession:
        """Another session of the run's identity, sharing guard, ledger, limiter and stats (parallel workers)."""
        ...

    def session_as(self, auth) -> GuardedSession:
        """A guarded session with other credentials (None: anonymous)."""
        ...

    def session_for(self, role: str, *, fresh: bool = False) -> GuardedSession:
        """A guarded session acting as a role identity."""
        ...

    def primary_lacks(self, op_id: str) -> tuple[str, ...]:
        """The permissions the run's own identity lacks for an operation."""
        ...
