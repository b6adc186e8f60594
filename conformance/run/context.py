"""Everything one run shares: target, reference spec, guard, ledger, HTTP session.

Built once per run (by the pytest plugin) from `RunOptions`; every check
reaches the target only through `RunContext.session`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import requests

from conformance.checks.schema import ResponseValidator
from conformance.clients import versions as client_versions
from conformance.context import CheckContext
from conformance.errors import ConfigError
from conformance.expectations import Expectations
from conformance.expectations import load as load_expectations
from conformance.expectations.access import Access
from conformance.expectations.access import load as load_access
from conformance.expectations.page_limits import PageLimits, from_record
from conformance.expectations.page_limits import parse as parse_page_limits
from conformance.http.cassette import Cassette
from conformance.http.client import Stats, Transport
from conformance.http.interrupts import Interrupts
from conformance.http.ratelimit import TokenBucket
from conformance.http.redact import Redactor
from conformance.http.router import Router
from conformance.options import RunOptions
from conformance.probes.dags import DISPOSABLE_DAG_ID, PROBE_DAG_ID
from conformance.run import identities
from conformance.safety.guard import Guard
from conformance.safety.ledger import Ledger
from conformance.safety.session import GuardedSession
from conformance.target import health
from conformance.target.auth import AuthSpec, make_auth, parse_auth
from conformance.target.detect import detect, normalize_url
from conformance.target.model import Target

PROBE_DAG_IDS = (PROBE_DAG_ID, DISPOSABLE_DAG_ID)


@dataclass
class RunContext:
    options: RunOptions
    target: Target
    spec: dict
    spec_version: str
    router: Router
    ledger: Ledger
    guard: Guard
    session: GuardedSession
    redactor: Redactor
    expectations: Expectations
    validator: ResponseValidator
    probe_dags: dict = field(default_factory=dict)  # dag_id -> DAG JSON as found at start
    started: float = field(default_factory=time.time)
    auth_denied: bool = False
    clients: list = field(default_factory=list)  # apache-airflow-client releases that read the cassette after the run
    clients_off: str = ""  # why no client reads it (when `clients` is empty)
    # who may do what on this release (None: not recorded for it), the role identities by the release's
    # role names, and the role of the run's own identity when known (None: unknown, nothing is skipped for it)
    access: Access | None = None
    identities: dict[str, AuthSpec] = field(default_factory=dict)
    primary_role: str | None = None
    page_limits: PageLimits | None = None  # what the paging checks judge by (page_limits_of)
    _role_sessions: dict = field(default_factory=dict, repr=False)

    @property
    def prefix(self) -> str:
        return self.options.prefix

    @property
    def cassette(self) -> Cassette:
        """The successful answers of this run, recorded by every session of it."""
        cassette = self.session.cassette
        assert cassette is not None  # every session of a run is given one (_session)
        return cassette

    def new_session(self) -> GuardedSession:
        """Another session on the same guard, ledger, limiter and stats (for parallel workers)."""
        return _session(self.target, self.guard, self.redactor, self.session)

    def session_as(self, auth) -> GuardedSession:
        """A guarded session with other credentials (None: anonymous), for the auth scenarios."""
        s = _login_session(self.target, self.guard, self.redactor, self.session)
        s.auth = auth
        return s

    def session_for(self, role: str, *, fresh: bool = False) -> GuardedSession:
        """A guarded session acting as a role identity (`fresh`: a new one, e.g. with a token it may lose)."""
        if fresh or role not in self._role_sessions:
            spec = self.identities[role]
            session = self.session_as(make_auth(spec, self.target.url, lambda: self.session_as(None)))
            if fresh:
                return session
            self._role_sessions[role] = session
        return self._role_sessions[role]

    def primary_lacks(self, op_id: str) -> tuple[str, ...]:
        """The permissions the run's own identity lacks for an operation (empty when it may, or nobody knows)."""
        if self.access is None or self.primary_role is None:
            return ()
        return self.access.missing(self.primary_role, op_id)


def checked(ctx: RunContext) -> CheckContext:
    """The run context as the checks see it (a type checker holds RunContext to the CheckContext Protocol here)."""
    return ctx


def _local_target(url: str):
    """The local target serving this URL when the suite started it (its credentials, auth config, database), else None.

    The database is known only for targets the suite started; for any other target it stays
    unknown, so deviations recorded for one backend (SQLite write contention) never excuse it.
    """
    from conformance.local.instance import find_by_url  # noqa: PLC0415

    return find_by_url(url)


def _backend(local, declared: str | None) -> str:
    """The metadata database deviations are matched against: a local target's own, else the declared one, else unknown ("")."""
    if local is None:
        return declared or ""
    actual = getattr(local, "database", "sqlite") or "sqlite"
    if declared and declared != actual:
        raise ConfigError(
            f"--database {declared}: the target at this URL is the suite's own Airflow {local.version} on {actual}"
        )
    return actual


def _session(target: Target, guard: Guard, redactor: Redactor, like: GuardedSession) -> GuardedSession:
    """A session with the run's credentials that shares the rate limit, accounting and interrupts of `like`."""
    session = _login_session(target, guard, redactor, like)
    session.auth = make_auth(target.auth, target.url, lambda: _login_session(target, guard, redactor, like))
    return session


def _login_session(target: Target, guard: Guard, redactor: Redactor, like: GuardedSession) -> GuardedSession:
    return GuardedSession(
        target.url,
        guard,
        redactor,
        api_base=target.api_base,
        limiter=like.limiter,
        stats=like.stats,
        interrupts=like.interrupts,
        transport=like.transport,
        cassette=like.cassette,
    )


def _transport(options: RunOptions, auth: AuthSpec, redactor: Redactor) -> Transport:
    """Headers, TLS verification and timeout for every request of the run; header values become secrets."""
    for name, value in options.headers:
        if name.lower() == "authorization" and auth.kind != "none":
            raise ConfigError(
                f"-H {name} and --auth {auth.kind} both set credentials; give the credentials with "
                "--auth only, or the header with --auth none"
            )
        redactor.add_header(name, value)
    verify: bool | str = (options.cacert or True) if options.tls_verify else False
    return Transport(headers=tuple(options.headers), verify=verify, timeout=options.request_timeout)


def build(options: RunOptions, *, cleanup_prefix: str | None = None) -> RunContext:
    """Connect to the target, pick its reference spec, and arm the guard.

    With `cleanup_prefix` the guard is armed for `cleanup`: it may delete
    objects named with that prefix and restore probe DAGs, and create nothing.
    """
    if not options.url:
        raise ConfigError("no target: pass --target URL (or AIRFLOW_CONFORMANCE_TARGET), or --airflow VERSION")
    root = normalize_url(options.url)
    local = _local_target(root)
    is_local, auth_config = local is not None, local.auth_config if local else "conformance"
    backend = _backend(local, options.database)
    auth: AuthSpec = parse_auth(options.auth if options.auth else local.auth_spec if local else None)
    redactor = Redactor()
    _keep_secret(redactor, auth)
    transport = _transport(options, auth, redactor)

    ledger = Ledger(options.run_id)
    probe_guard = Guard("readonly", run_prefix=options.prefix, ledger=ledger)
    # the first session of the run: every later one shares its limiter, stats and interrupts
    plain = GuardedSession(
        root,
        probe_guard,
        redactor,
        limiter=TokenBucket(options.max_rps, burst=max(1, options.workers)),
        stats=Stats(),
        interrupts=Interrupts(),
        transport=transport,
        cassette=Cassette(redactor),
    )
    with plain:
        version, api = _detect(plain, root, local if cleanup_prefix is None else None)

    if options.profile == "disruptive" and not (is_local or options.allow_disruptive):
        raise ConfigError(
            "--profile disruptive is refused for a target the suite did not start; "
            "pass --i-accept-disruptive-writes if this deployment may be damaged"
        )
    target = Target(root, version, api, auth, local=is_local, auth_config=auth_config)
    clients, clients_off = client_versions.resolve(options.client, version)  # a client of the other API: exit 2 now

    from conformance.specs.catalog import load_spec, reference_version_for  # noqa: PLC0415

    spec_version = reference_version_for(version)
    spec = load_spec(spec_version)
    router = Router(spec)
    guard = Guard(
        options.profile,
        run_prefix=cleanup_prefix or options.prefix,
        ledger=ledger,
        probe_dag_ids=PROBE_DAG_IDS,
        disposable_dag_ids=(DISPOSABLE_DAG_ID,),
        router=router,
        allow_creates=cleanup_prefix is None,
    )
    session = _session(target, guard, redactor, plain)
    validator = ResponseValidator(spec, root, router.base_path)
    ctx = RunContext(
        options,
        target,
        spec,
        spec_version,
        router,
        ledger,
        guard,
        session,
        redactor,
        load_expectations(version, backend),
        validator,
        clients=clients,
        clients_off=clients_off,
        access=load_access(version),
    )
    ctx.page_limits = page_limits_of(options, local, ctx.expectations)
    if cleanup_prefix is None:  # cleanup acts as the run's own identity only
        ctx.identities = identities.resolve(options, local, ctx.access, version)
        for spec_of_role in ctx.identities.values():
            _keep_secret(redactor, spec_of_role)
    _check_credentials(ctx)
    ctx.primary_role = identities.primary_role(options, auth, local, ctx)
    if cleanup_prefix is None and not ctx.auth_denied:
        identities.check(ctx)
    if cleanup_prefix is None:
        ledger.note("target", root)  # `cleanup` replays a ledger only against the target it belongs to
        _find_probe_dags(ctx)
    return ctx


def page_limits_of(options: RunOptions, local, expectations: Expectations) -> PageLimits:
    """The page limits the target serves with: as the user states them, else a local target's recorded ones, else
    Airflow's documented defaults for the release (a deployment that changed them needs --page-limits)."""
    if options.page_limits:
        try:
            return parse_page_limits(options.page_limits)
        except ValueError as exc:
            raise ConfigError(f"--page-limits: {exc}") from None
    recorded = from_record(getattr(local, "page_limits", None), "the local target's configuration") if local else None
    return recorded or expectations.default_page_limits()


def _keep_secret(redactor: Redactor, auth: AuthSpec) -> None:
    """Every form of a credential that may appear on the wire is masked in every output."""
    for secret in auth.secrets:
        redactor.add(secret)
    if auth.kind == "basic":
        redactor.add_basic(auth.user, auth.password)


def _detect(session: requests.Session, root: str, local) -> tuple[str, str]:
    """(version, api) of the target; a local target (given for a run, not for `cleanup`) must also be healthy."""
    version, api = detect(session, root)
    if local is not None:
        _require_healthy(session, root, api, version, local.database)
    return version, api


def _require_healthy(session: requests.Session, root: str, api: str, version: str, database: str) -> None:
    """A local target whose own health endpoint reports a component unhealthy stops the run before any check (exit 2).

    Its probe runs would never start (a dead scheduler) and the run would end in "not decided" after
    minutes; the cure is a restart, which only the suite's own targets can be given. A deployment
    elsewhere is judged as it is: its waits give up on the same health answer (probes/runs.py).
    """
    found = health.read(session, health.url_of(root, api))
    if found.unhealthy:
        flag = "" if database == "sqlite" else f" --database {database}"
        raise ConfigError(
            f"the local Airflow {version} is unhealthy ({found.describe_unhealthy()}); restart it: "
            f"airflow-conformance down --airflow {version}{flag} && airflow-conformance up --airflow {version}{flag}"
        )


def _check_credentials(ctx: RunContext) -> None:
    """Fail fast (exit 2) when the credentials are refused, unless that is what the target is for."""
    try:
        resp = ctx.session.call("GET", "/dags", params={"limit": 1})
    except requests.Timeout as exc:
        raise ConfigError(
            f"the target answered no GET {ctx.target.api_base}/dags within "
            f"{ctx.session.timeout:g} s (--request-timeout)"
        ) from exc
    except requests.RequestException as exc:
        raise ConfigError(
            f"GET {ctx.target.api_base}/dags failed: {type(exc).__name__}; is the target healthy?"
        ) from exc
    if resp.status_code in (401, 403):
        if ctx.target.local and ctx.target.auth_config == "default":
            ctx.auth_denied = True
            return
        hint = ""
        if ctx.target.api == "v1":
            hint = (
                " (Airflow 2 needs [api] auth_backends to include airflow.api.auth.backend.basic_auth;"
                " 2.0-2.2 default to deny_all)"
            )
        raise ConfigError(
            f"credentials rejected: GET {ctx.target.api_base}/dags answered {resp.status_code} "
            f"with --auth {ctx.target.auth.redacted}{hint}"
        )
    if resp.status_code >= 500:
        raise ConfigError(f"the target answered {resp.status_code} to GET {ctx.target.api_base}/dags; is it healthy?")


def _find_probe_dags(ctx: RunContext) -> None:
    """Note which probe DAGs are deployed and their pause state, so it can be restored."""
    if ctx.auth_denied:
        return
    for dag_id in PROBE_DAG_IDS:
        resp = ctx.session.call("GET", f"/dags/{dag_id}")
        if resp.status_code == 200:
            data = resp.json()
            ctx.probe_dags[dag_id] = data
            if isinstance(data.get("file_token"), str):
                ctx.guard.learn_probe_file(data["file_token"])
            ctx.ledger.note_pause_state(dag_id, bool(data.get("is_paused")))
