"""The pytest plugin: pytest is the engine of every run.

`airflow-conformance run` drives pytest with this plugin, and people who live
in pytest get the same run with
`pytest --pyargs conformance --airflow-url URL --airflow-auth SPEC`.
The plugin is inert unless conformance checks are collected, so the
project's own tests (and anyone else's) are unaffected by it.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from conformance.errors import ConformanceError
from conformance.metadata import Meta
from conformance.options import DEFAULT_MAX_EXAMPLES, DEFAULT_REPORT_DIR, KINDS, PROFILES, RunOptions
from conformance.reporting.results import Result, RunResults, operations_table
from conformance.safety.guard import RequestRefused
from conformance.verdict import CONCLUSION_KEY, Conclusion, Verdict

CTX_KEY = pytest.StashKey()
# Set by `airflow-conformance run`, which connects before starting pytest so that a
# configuration problem is one plain line; the plugin then reuses that context.
PREBUILT = None
RESULTS_KEY = pytest.StashKey()
META_KEY = pytest.StashKey()
KIND_OF = {"scenario": "scenarios", "property": "properties", "posture": "posture"}


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("airflow-conformance", "Airflow API conformance")
    g.addoption("--airflow-url", default=None, help="root URL of the Airflow API server (env AIRFLOW_CONFORMANCE_URL)")
    g.addoption("--airflow-auth", default=None, help="auth spec: basic:U:P, jwt:U:P, bearer:T, env:VAR, none, kerberos (env AIRFLOW_CONFORMANCE_AUTH)")
    g.addoption("--airflow-profile", default="sandbox", choices=PROFILES, help="safety profile (default sandbox)")
    g.addoption("--airflow-only", default=",".join(KINDS), help="comma list of scenarios,properties,posture")
    g.addoption("--airflow-report-dir", default=DEFAULT_REPORT_DIR, help="where results.json and reports go")
    g.addoption("--airflow-max-examples", type=int, default=DEFAULT_MAX_EXAMPLES, help="property examples per operation")
    g.addoption("--airflow-max-rps", type=float, default=None, help="requests per second across all workers")
    g.addoption("--airflow-time-budget", type=float, default=None, help="seconds for the property tier (shared fairly by operations)")
    g.addoption("--airflow-workers", type=int, default=1, help="parallel property workers")
    g.addoption("--airflow-seed", type=int, default=None, help="hypothesis seed (recorded in results)")
    g.addoption("--airflow-run-id", default=None, help="run id (prefix of every object the run creates)")
    g.addoption("--i-accept-disruptive-writes", action="store_true", default=False, dest="airflow_allow_disruptive",
                help="allow --airflow-profile disruptive on a target the suite did not start")


def _options(config: pytest.Config) -> RunOptions:
    only = tuple(k.strip() for k in (config.getoption("airflow_only") or "").split(",") if k.strip())
    opts = RunOptions.from_env(
        url=config.getoption("airflow_url"),
        auth=config.getoption("airflow_auth"),
        profile=config.getoption("airflow_profile"),
        only=only or KINDS,
        report_dir=config.getoption("airflow_report_dir"),
        max_examples=config.getoption("airflow_max_examples"),
        max_rps=config.getoption("airflow_max_rps"),
        time_budget=config.getoption("airflow_time_budget"),
        workers=config.getoption("airflow_workers"),
        seed=config.getoption("airflow_seed"),
        run_id=config.getoption("airflow_run_id"),
        allow_disruptive=config.getoption("airflow_allow_disruptive") or None,
    )
    return opts


def get_ctx(config: pytest.Config):
    """The run context, built on first use; a configuration error ends the session with exit 2."""
    if CTX_KEY in config.stash:
        return config.stash[CTX_KEY]
    from conformance import runtime  # noqa: PLC0415

    try:
        ctx = PREBUILT if PREBUILT is not None else runtime.build(_options(config))
    except ConformanceError as exc:
        config.stash[CTX_KEY] = None
        pytest.exit(f"airflow-conformance: {exc}", returncode=exc.exit_code)
    config.stash[CTX_KEY] = ctx
    config.stash[RESULTS_KEY] = []
    _install_sigterm()
    return ctx


def _install_sigterm() -> None:
    """SIGTERM behaves like Ctrl-C so the session finishes and cleans up; both wait for a request in flight."""
    from conformance.http.client import INTERRUPTS  # noqa: PLC0415

    INTERRUPTS.reset()
    try:
        signal.signal(signal.SIGTERM, INTERRUPTS.handler)
        signal.signal(signal.SIGINT, INTERRUPTS.handler)
    except ValueError:  # not the main thread
        pass


def _meta_of(item: pytest.Item) -> dict | None:
    marker = item.get_closest_marker("conformance")
    if marker is not None:
        meta: Meta = marker.args[0]
        return {"meta": meta, "result_id": meta.result_id, "kind": meta.kind, "title": meta.title,
                "operations": list(meta.operations), "must": meta.must}
    marker = item.get_closest_marker("conformance_property")
    if marker is not None:
        return {"meta": None, **marker.kwargs}
    return None


def pytest_collectreport(report) -> None:
    """A check module that cannot even be imported is an internal error: say which and why."""
    if report.failed and str(report.nodeid).startswith("conformance"):
        import sys  # noqa: PLC0415

        text = str(report.longrepr).strip().splitlines()
        print(f"airflow-conformance: cannot load {report.nodeid}: {text[-1] if text else 'collection error'}", file=sys.stderr)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance(meta): an Airflow conformance check")
    config.addinivalue_line("markers", "conformance_property(**info): a property test of one operation")


DENY_ALL_REASON = ("the target refuses valid credentials by configuration (Airflow's default [api] auth_backend "
                   "deny_all on 2.0-2.2); only the auth-default checks apply")


def _skip_reason(ctx, meta: Meta | None, kind: str) -> str | None:
    if meta is None:  # property items: only the run-wide reasons apply
        return DENY_ALL_REASON if ctx.auth_denied else None
    version = ctx.target.version
    if not meta.applies_to(version):
        rng = " and ".join(x for x in (f">= {meta.since}" if meta.since else "", f"< {meta.until}" if meta.until else "") if x)
        return f"not applicable to Airflow {ctx.target.airflow_version} (applies to {rng})"
    if PROFILES.index(meta.tier) > PROFILES.index(ctx.options.profile):
        return f"needs the {meta.tier} profile; this run uses --profile {ctx.options.profile}"
    if "auth_default" in meta.needs and not ctx.auth_denied:
        return "needs a target running Airflow's default auth settings (airflow-conformance up --auth-config default)"
    if ctx.auth_denied and "auth_default" not in meta.needs:
        return DENY_ALL_REASON
    if "probe_dags" in meta.needs and not ctx.probe_dags:
        return ("the suite's probe DAGs are not deployed on the target; deploy them with "
                "`airflow-conformance probe-dags install DAGS_FOLDER --airflow VERSION`")
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    tagged = [(item, _meta_of(item)) for item in items]
    if not any(info for _, info in tagged):
        return
    for item, info in tagged:  # `-k` also matches check ids, e.g. -k dag_runs.state_is_read_only
        if info:
            item.extra_keyword_matches.add(info["result_id"])
    ctx = get_ctx(config)
    keep, drop = [], []
    for item, info in tagged:
        if info is None:
            keep.append(item)
            continue
        if KIND_OF[info["kind"]] not in ctx.options.only:
            drop.append(item)
            continue
        item.stash[META_KEY] = info
        reason = _skip_reason(ctx, info.get("meta"), info["kind"])
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))
        keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# -- fixtures ---------------------------------------------------------------
@pytest.fixture(scope="session")
def ctx(request: pytest.FixtureRequest):
    """The run context (target, spec, guard, session, expectations)."""
    return get_ctx(request.config)


@pytest.fixture(scope="session")
def api(ctx):
    """The guarded HTTP session: `api.call("GET", "/dags")` is API-relative."""
    return ctx.session


@pytest.fixture(scope="session")
def anon(ctx):
    """A guarded session without credentials."""
    return ctx.session_as(None)


@pytest.fixture(scope="session")
def target(ctx):
    return ctx.target


@pytest.fixture(scope="session")
def dialect(ctx) -> dict:
    """How the target's API generation spells things (from expectations.yaml `dialect`)."""
    return ctx.expectations.dialect()


@pytest.fixture
def meta(request: pytest.FixtureRequest) -> dict:
    return request.node.stash.get(META_KEY, {})


@pytest.fixture
def expect(ctx, meta) -> dict:
    """What the version under test must answer for this scenario (from expectations.yaml)."""
    m = meta.get("meta")
    return ctx.expectations.for_scenario(m.id) if m else {}


@pytest.fixture
def verdict(ctx, meta, request) -> Verdict:
    v = Verdict(meta.get("result_id", request.node.name), ctx.expectations, ctx.validator, ctx.session,
                operations=meta.get("operations", ()))
    request.node.stash[VERDICT_KEY] = v
    return v


VERDICT_KEY = pytest.StashKey()


# -- results ----------------------------------------------------------------
def pytest_runtest_setup(item: pytest.Item) -> None:
    ctx = item.config.stash.get(CTX_KEY, None)
    if ctx is not None:
        ctx.session.forget()
        item.stash[TIME_KEY] = time.monotonic()


TIME_KEY = pytest.StashKey()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    rep = outcome.get_result()
    info = item.stash.get(META_KEY, None)
    ctx = item.config.stash.get(CTX_KEY, None)
    if info is None or ctx is None:
        return
    if call.excinfo is not None and call.excinfo.errisinstance(RequestRefused):
        rep.outcome = "skipped"
        rep.longrepr = (str(item.path), 0, f"Skipped: refused by the safety guard: {call.excinfo.value.reason}")
    result = _result_from(item, info, call, rep, ctx)
    if result is not None:
        _align_report(rep, result)
        item.config.stash[RESULTS_KEY].append(result)


def _align_report(rep, result: Result) -> None:
    """pytest's own report says what the result says (soft scenario violations raise nothing)."""
    if rep.when != "call":
        return
    if result.status == "failed" and not rep.failed:
        rep.outcome, rep.longrepr = "failed", result.message
    elif result.status == "known_deviation" and not hasattr(rep, "wasxfail"):
        rep.outcome, rep.wasxfail = "skipped", result.message


def _result_from(item, info, call, rep, ctx) -> Result | None:
    base = dict(id=info["result_id"], kind=info["kind"], title=info["title"], must=info.get("must", ""),
                operation_ids=[op for op in info.get("operations", []) if op in ctx.router.by_id])
    started = item.stash.get(TIME_KEY, time.monotonic())
    base["duration_s"] = time.monotonic() - started
    if rep.when == "setup":
        if rep.skipped:
            return Result(status="skipped", message=_skip_message(rep), **base)
        if rep.failed:
            return Result(status="error", message=_error_message(call), reproduce=ctx.session.last_curl(), **base)
        return None
    if rep.when == "teardown":
        if rep.failed:
            return Result(status="error", message="teardown: " + _error_message(call), **base)
        return None
    exc = call.excinfo.value if call.excinfo is not None else None
    conclusion = item.stash.get(CONCLUSION_KEY, None)
    verdict = item.stash.get(VERDICT_KEY, None)
    if conclusion is None and verdict is not None and not rep.skipped:
        conclusion = verdict.conclusion(stopped_by=exc)
    if conclusion is not None:
        return _from_conclusion(conclusion, base, ctx)
    notes = verdict.notes if verdict else []
    if rep.skipped:
        return Result(status="skipped", message=_skip_message(rep), **base)
    if rep.failed:
        status = "failed" if isinstance(exc, AssertionError) else "error"  # undecidable: unreachable, timeout, bug
        return Result(status=status, message=_error_message(call), reproduce=ctx.session.last_curl(), **base)
    stale = [d for d in ctx.expectations.expected_for(info["result_id"])
             if not d.intermittent and not info["result_id"].startswith("property.")]
    return Result(status="passed", message="; ".join(notes),
                  stale_deviation="; ".join(f"recorded deviation {d.id} ({d.reference}) did not occur" for d in stale),
                  **base)


def _from_conclusion(conclusion: Conclusion, base: dict, ctx) -> Result:
    """A result built from a check's structured verdict: status, excused deviations, per-check outcomes."""
    return Result(status=conclusion.status, message=conclusion.message, upstream=conclusion.upstream,
                  reproduce=conclusion.reproduce or (ctx.session.last_curl() if conclusion.status != "passed" else ""),
                  deviations=[e.as_dict() for e in conclusion.excused], checks=conclusion.checks, **base)


def _skip_message(rep) -> str:
    longrepr = rep.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _error_message(call) -> str:
    if call.excinfo is None:
        return ""
    exc = call.excinfo.value
    text = str(exc).strip() or type(exc).__name__
    if not isinstance(exc, AssertionError):
        text = f"{type(exc).__name__}: {text}"
    return text[:2000]


@pytest.hookimpl(trylast=True)  # after pytest's own teardown: the property workers have stopped
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    ctx = config.stash.get(CTX_KEY, None)
    if ctx is None:
        return
    from conformance.reporting.writer import write_all  # noqa: PLC0415
    from conformance.runtime import PROBE_DAG_IDS  # noqa: PLC0415
    from conformance.safety.cleanup import finish  # noqa: PLC0415

    gone = _target_gone(ctx)
    try:
        problems = [] if gone else finish(ctx.session, ctx.ledger, PROBE_DAG_IDS, prefix=ctx.prefix)
    except Exception as exc:  # the target may be gone; the ledger on disk keeps what is left
        problems = [f"cleanup could not finish: {type(exc).__name__}: {exc}"]
    if gone:
        problems = [f"{gone}; the ledger {ctx.ledger.path} keeps what this run created: "
                    f"airflow-conformance cleanup --target {ctx.target.url} --run-id {ctx.options.run_id}"]
    results: list[Result] = config.stash[RESULTS_KEY]
    run = RunResults(seed=ctx.options.seed, profile=ctx.options.profile, run_id=ctx.options.run_id,
                     target=ctx.target.describe(), spec_version=ctx.spec_version, started=ctx.started,
                     duration_s=time.time() - ctx.started, results=results)
    run.requests = ctx.session.stats.requests
    spec_ops = list(ctx.router.by_id)
    stats = ctx.session.stats
    run.operations = operations_table(spec_ops, results, dict(stats.by_operation), dict(stats.refused_by_operation),
                                      dict(stats.answers))
    if ctx.auth_denied:
        run.refused_by_configuration = (f"{ctx.target.url} refuses valid credentials by configuration "
                                        "(deny_all, the default [api] auth_backend of Airflow 2.0-2.2): "
                                        "set [api] auth_backend to airflow.api.auth.backend.basic_auth to test its API")
    run.configuration = {**ctx.options.describe(), "auth": ctx.target.auth.redacted, "url": ctx.target.url}
    run.cleanup_problems = problems
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        run.aborted = "interrupted"
    elif gone:
        run.aborted = gone
    out_dir = Path(ctx.options.report_dir)
    write_all(run, out_dir, ctx.redactor)
    config.stash[RUN_KEY] = run
    session.exitstatus = run.exit_code()


RUN_KEY = pytest.StashKey()


def _target_gone(ctx) -> str:
    """Non-empty when the target stopped answering during the run (the run cannot be finished: exit 3)."""
    import requests  # noqa: PLC0415

    for _ in range(3):
        try:
            ctx.session.call("GET", "/version", timeout=10)
            return ""
        except requests.RequestException:
            time.sleep(1)
    return f"the target {ctx.target.url} stopped answering during the run"


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    run = config.stash.get(RUN_KEY, None)
    if run is None:
        return
    s = run.summary()
    tr = terminalreporter
    tr.write_sep("=", "airflow-conformance")
    tr.write_line(f"target {run.target.get('url')} Airflow {run.target.get('airflow_version')} ({run.target.get('api')}), "
                  f"profile {run.profile}, run {run.run_id}, seed {run.seed}")
    if run.refused_by_configuration:
        tr.write_line(f"airflow-conformance: {run.refused_by_configuration}")
    elif run.nothing_decided:
        tr.write_line(f"nothing was decided: {run.nothing_decided}")
    tr.write_line(f"verdict: {run.verdict} - passed {s['passed']}, failed {s['failed']}, "
                  f"known deviations {s['known_deviation']}, skipped {s['skipped']}, errors {s['error']}, "
                  f"requests {s['requests']}")
    for problem in run.cleanup_problems:
        tr.write_line(f"cleanup problem (exit 3 unless a check failed): {problem}")
    tr.write_line(f"reports: {run.configuration.get('report_dir')}/results.json, junit.xml, report.html, summary.md")
