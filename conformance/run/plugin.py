"""One conformance run inside one pytest session.

`ConformanceRun` is a pytest plugin object that holds the run context it was
given: the CLI builds the context (connecting before pytest starts, so a
configuration problem is one plain line) and hands it over with
`pytest.main(..., plugins=[ConformanceRun(ctx)])`; plain `pytest --airflow-url`
builds it in the entry-point plugin and registers the same object. Nothing is
kept in module globals, and collection reads the context but never connects.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest

from conformance.run.outcomes import META_KEY, TIME_KEY, VERDICT_KEY, align_report, result_from
from conformance.reporting.results import Result, RunResults, operations_table
from conformance.safety.guard import RequestRefused
from conformance.tiers.context import CONTEXT_KEY
from conformance.run.selection import KIND_OF, meta_of, skip_reason
from conformance.verdict import Verdict



class ConformanceRun:
    """The run's context, fixtures, per-check results and end-of-run work (cleanup, reports, exit code)."""

    def __init__(self, ctx) -> None:
        self.context = ctx
        self.results: list[Result] = []
        self.run: RunResults | None = None
        self._stack = contextlib.ExitStack()

    # -- lifecycle ------------------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[CONTEXT_KEY] = self.context

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """SIGTERM behaves like Ctrl-C so the session finishes and cleans up; both wait for a request in flight."""
        self._stack.enter_context(self.context.session.interrupts.installed())

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self._stack.close()

    # -- collection -----------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
        tagged = [(item, meta_of(item)) for item in items]
        keep, drop = [], []
        for item, info in tagged:
            if info is None:
                keep.append(item)
                continue
            item.extra_keyword_matches.add(info["result_id"])  # `-k` also matches check ids
            if KIND_OF[info["kind"]] not in self.context.options.only:
                drop.append(item)
                continue
            item.stash[META_KEY] = info
            reason = skip_reason(self.context, info.get("meta"), info["kind"], info.get("operations", ()))
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))
            keep.append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep

    # -- fixtures -------------------------------------------------------------
    @pytest.fixture(scope="session")
    def ctx(self):
        """The run context (target, spec, guard, session, expectations)."""
        return self.context

    @pytest.fixture(scope="session")
    def api(self):
        """The guarded HTTP session: `api.call("GET", "/dags")` is API-relative."""
        return self.context.session

    @pytest.fixture(scope="session")
    def anon(self):
        """A guarded session without credentials."""
        return self.context.session_as(None)

    @pytest.fixture(scope="session")
    def target(self):
        return self.context.target

    @pytest.fixture(scope="session")
    def dialect(self) -> dict:
        """How the target's API generation spells things (from expectations.yaml `dialect`)."""
        return self.context.expectations.dialect()

    @pytest.fixture
    def meta(self, request: pytest.FixtureRequest) -> dict:
        return request.node.stash.get(META_KEY, {})

    @pytest.fixture
    def expect(self, meta) -> dict:
        """What the version under test must answer for this scenario (from expectations.yaml)."""
        m = meta.get("meta")
        return self.context.expectations.for_scenario(m.id) if m else {}

    @pytest.fixture
    def verdict(self, meta, request) -> Verdict:
        v = Verdict(meta.get("result_id", request.node.name), self.context.expectations, self.context.validator, self.context.session,
                    operations=meta.get("operations", ()))
        request.node.stash[VERDICT_KEY] = v
        return v

    # -- results --------------------------------------------------------------
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.context.session.forget()
        item.stash[TIME_KEY] = time.monotonic()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        rep = outcome.get_result()
        info = item.stash.get(META_KEY, None)
        if info is None:
            return
        if call.excinfo is not None and call.excinfo.errisinstance(RequestRefused):
            rep.outcome = "skipped"
            rep.longrepr = (str(item.path), 0, f"Skipped: refused by the safety guard: {call.excinfo.value.reason}")
        result = result_from(item, info, call, rep, self.context)
        if result is not None:
            align_report(rep, result)
            self.results.append(result)

    @pytest.hookimpl(trylast=True)  # after pytest's own teardown: the property workers have stopped
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        from conformance.reporting.writer import write_all  # noqa: PLC0415

        ctx = self.context
        gone = _target_gone(ctx)
        problems = _clean_up(ctx, gone)
        run = RunResults(seed=ctx.options.seed, profile=ctx.options.profile, run_id=ctx.options.run_id,
                         target=ctx.target.describe(), spec_version=ctx.spec_version, started=ctx.started,
                         duration_s=time.time() - ctx.started, results=self.results)
        stats = ctx.session.stats
        run.requests = stats.requests
        run.operations = operations_table(list(ctx.router.by_id), self.results, dict(stats.by_operation),
                                          dict(stats.refused_by_operation), dict(stats.answers))
        if ctx.auth_denied:
            run.refused_by_configuration = (f"{ctx.target.url} refuses valid credentials by configuration "
                                            "(deny_all, the default [api] auth_backend of Airflow 2.0-2.2): "
                                            "set [api] auth_backend to airflow.api.auth.backend.basic_auth to test its API")
        run.configuration = {**ctx.options.describe(), "auth": ctx.target.auth.redacted, "url": ctx.target.url,
                             "auth_roles": {role: spec.redacted for role, spec in ctx.identities.items()},
                             "own_role": ctx.primary_role or "unknown"}
        run.cleanup_problems = problems
        if exitstatus == pytest.ExitCode.INTERRUPTED:
            run.aborted = "interrupted"
        elif gone:
            run.aborted = gone
        write_all(run, Path(ctx.options.report_dir), ctx.redactor)
        self.run = run
        session.exitstatus = run.exit_code()

    def pytest_terminal_summary(self, terminalreporter, exitstatus, config) -> None:
        if self.run is not None:
            _summarize(terminalreporter, self.run)


def _clean_up(ctx, gone: str) -> list[str]:
    """What the end-of-run cleanup could not do (the ledger on disk keeps it for `cleanup`)."""
    from conformance.run.context import PROBE_DAG_IDS  # noqa: PLC0415
    from conformance.safety.cleanup import finish  # noqa: PLC0415

    if gone:
        return [f"{gone}; the ledger {ctx.ledger.path} keeps what this run created: "
                f"airflow-conformance cleanup --target {ctx.target.url} --run-id {ctx.options.run_id}"]
    try:
        return finish(ctx.session, ctx.ledger, PROBE_DAG_IDS, prefix=ctx.prefix)
    except Exception as exc:  # the target may be gone; the ledger on disk keeps what is left
        return [f"cleanup could not finish: {type(exc).__name__}: {exc}"]


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


def _summarize(tr, run: RunResults) -> None:
    s = run.summary()
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
