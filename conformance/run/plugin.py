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
import sys
import time

import pytest

from conformance import progress
from conformance.context import CheckContext
from conformance.errors import ExitCode
from conformance.model.classes import parse_classes
from conformance.model.reasons import ReasonCode
from conformance.model.status import Status
from conformance.reporting.findings import keyword_for
from conformance.reporting.results import Result, RunResults, client_lines, operations_table
from conformance.run.context import RunContext, checked
from conformance.run.outcomes import META_KEY, REASON_KEY, TIME_KEY, VERDICT_KEY, align_report, result_from
from conformance.run.saving import Saved, save
from conformance.run.selection import KIND_OF, meta_of, skip_of
from conformance.run.timing import PhaseClock
from conformance.run.timing import describe as describe_timing
from conformance.safety.guard import RequestRefused
from conformance.specs.catalog import operation_tags
from conformance.tiers.context import CONTEXT_KEY
from conformance.verdict import Verdict


class ConformanceRun:
    """The run's context, fixtures, per-check results and end-of-run work (cleanup, reports, exit code)."""

    def __init__(self, ctx: RunContext) -> None:
        self.context = ctx
        self.results: list[Result] = []
        self.run: RunResults | None = None
        self._stack = contextlib.ExitStack()
        self._phase = ""  # the kind of the checks running now
        self.clock = PhaseClock(ctx.session.stats)  # where the run's time goes, per phase
        self.checks = 0  # checks of the kinds asked for (--only), before `-k` deselects any
        self.selected_nothing = ""  # why no check is left to run (the selection matched none): exit 5, no report
        self.interrupted = False  # Ctrl-C or SIGTERM stopped the session (pytest never sees the KeyboardInterrupt)
        self.gone = ""  # why the run stopped early: its target stopped answering (the checks left would only time out)
        self._unanswered = 0  # the session's count of unanswered requests when it was last looked at
        self.saved: Saved | None = None

    # -- lifecycle ------------------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[CONTEXT_KEY] = self.context

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """SIGTERM behaves like Ctrl-C so the session finishes and cleans up; both wait for a request in flight."""
        interrupts = self.context.session.interrupts
        interrupts.say = lambda line: _line(session.config, f"\n{line}")  # past pytest's capture of the check's output
        self._stack.enter_context(interrupts.installed())
        progress.set_sink(lambda line: _say(session.config, line))  # long waits below say that they still wait
        self._stack.callback(progress.set_sink, None)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self._stack.close()

    # -- collection -----------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        tagged = [(item, meta_of(item)) for item in items]
        keep, drop = [], []
        for item, info in tagged:
            if info is None:
                keep.append(item)
                continue
            # `-k` also matches check ids; `-k '[ID]'` exactly one (report.html's re-run commands use it)
            item.extra_keyword_matches.update((info["result_id"], keyword_for(info["result_id"])))
            if KIND_OF[info["kind"]] not in self.context.options.only:
                drop.append(item)
                continue
            item.stash[META_KEY] = info
            skip = skip_of(self.context, info.get("meta"), info["kind"], info.get("operations", ()))
            if skip:
                item.stash[REASON_KEY] = skip.code
                item.add_marker(pytest.mark.skip(reason=skip.text))
            keep.append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep
        self.checks = sum(1 for item in keep if META_KEY in item.stash)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """After every deselection (`--only` above, pytest's `-k` after it): a selection that left no check is no run."""
        if session.testsfailed:  # a tier that could not be collected is an error of its own, not an empty selection
            return
        if not any(META_KEY in item.stash for item in session.items):
            keyword = session.config.getoption("keyword", "") or ""
            asked = f"-k {keyword!r}" if keyword else "the selection"
            self.selected_nothing = (
                f"selected nothing: {asked} matches none of the {self.checks} checks collected for "
                f"this run (Airflow {self.context.target.airflow_version}); no verdict, no report "
                "written (`airflow-conformance list` shows the checks' ids)"
            )

    # -- interrupts: the run ends with its reports and one line, never pytest's KeyboardInterrupt banner ----------
    @pytest.hookimpl(wrapper=True)
    def pytest_collection(self, session: pytest.Session):
        try:
            return (yield)
        except KeyboardInterrupt:
            self.interrupted = True
            session.items = []
            return True

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session):
        try:
            return (yield)
        except session.Interrupted:  # pytest's own stop (errors during collection), not a signal; or the target's end
            if self.gone:
                return True
            raise
        except KeyboardInterrupt:  # the check in flight is left undecided; cleanup and reports follow in sessionfinish
            self.interrupted = True
            return True

    # -- fixtures: prefixed, since a plugin's fixtures are visible to every test of the session ----------
    # (the suite's own modules use short names, defined in conformance/tiers/conftest.py for that folder only)
    @pytest.fixture(scope="session")
    def airflow_ctx(self) -> CheckContext:
        """The run context (target, spec, guard, session, expectations), as a check may use it."""
        return checked(self.context)

    @pytest.fixture(scope="session")
    def airflow_api(self):
        """The guarded HTTP session: `airflow_api.call("GET", "/dags")` is API-relative."""
        return self.context.session

    @pytest.fixture(scope="session")
    def airflow_anon(self):
        """A guarded session without credentials."""
        return self.context.session_as(None)

    @pytest.fixture(scope="session")
    def airflow_target(self):
        return self.context.target

    @pytest.fixture(scope="session")
    def airflow_dialect(self) -> dict:
        """How the target's API generation spells things (from expectations.yaml `dialect`)."""
        return self.context.expectations.dialect()

    @pytest.fixture
    def airflow_meta(self, request: pytest.FixtureRequest) -> dict:
        return request.node.stash.get(META_KEY, {})

    @pytest.fixture
    def airflow_expect(self, airflow_meta) -> dict:
        """What the version under test must answer for this scenario (from expectations.yaml)."""
        m = airflow_meta.get("meta")
        return self.context.expectations.for_scenario(m.id) if m else {}

    @pytest.fixture
    def airflow_verdict(self, airflow_meta, request) -> Verdict:
        v = Verdict(
            airflow_meta.get("result_id", request.node.name),
            self.context.expectations,
            self.context.validator,
            self.context.session,
            operations=airflow_meta.get("operations", ()),
        )
        request.node.stash[VERDICT_KEY] = v
        return v

    def pytest_collectreport(self, report) -> None:
        """A module that cannot even be imported in a run is an internal error: say which and why."""
        if report.failed:
            text = str(report.longrepr).strip().splitlines()
            print(
                f"airflow-conformance: cannot load {report.nodeid}: {text[-1] if text else 'collection error'}",
                file=sys.stderr,
            )

    # -- results --------------------------------------------------------------
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.context.session.forget()
        item.stash[TIME_KEY] = time.monotonic()
        info = item.stash.get(META_KEY, None)
        if info is not None and info["kind"] != self._phase:  # say when a tier begins (the matrix passes it on)
            self._phase = info["kind"]
            self.clock.enter(KIND_OF[self._phase])
            _say(item.config, f"phase: {KIND_OF[self._phase]} (+{time.time() - self.context.started:.0f} s)")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        rep = outcome.get_result()
        info = item.stash.get(META_KEY, None)
        if info is None:
            return
        refused = call.excinfo.value if call.excinfo is not None else None
        if isinstance(refused, RequestRefused):
            rep.outcome = "skipped"
            rep.longrepr = (str(item.path), 0, f"Skipped: refused by the safety guard: {refused.reason}")
            item.stash[REASON_KEY] = ReasonCode.REFUSED_BY_GUARD
        result = result_from(item, info, call, rep, self.context)
        if result is not None:
            align_report(rep, result)
            self.results.append(result)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None):
        """After a check whose request got no answer: if the target is gone, the run stops here (aborted, exit 3).

        Every check left would spend its retries and timeouts on a server that is not there: on a staging target
        behind a black-holed network that is the request timeout, three times, per request.
        """
        result = yield
        stats = self.context.session.stats
        if stats.unanswered != self._unanswered and not self.gone:
            self.gone = _target_gone(self.context)
            self._unanswered = stats.unanswered  # the probe's own unanswered tries included
            if self.gone:
                item.session.shouldstop = self.gone
        return result

    @pytest.hookimpl(wrapper=True, trylast=True)  # around pytest's own teardown, inside its terminal summary
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int):
        """The run's end, after every fixture's teardown: the property workers have stopped.

        A run stopped early (its target gone, `--maxfail`) tears its tiers' fixtures down here, not after a check; a
        teardown that fails then (its request unanswered) is a cleanup problem of the run, not a crash of it.
        """
        teardown = ""
        try:
            yield
        except Exception as exc:
            teardown = f"a tier's teardown could not finish: {type(exc).__name__}: {exc}"
        self._finish(session, exitstatus, teardown)

    def _finish(self, session: pytest.Session, exitstatus: int, teardown: str) -> None:
        ctx = self.context
        if self.selected_nothing and not self.interrupted:  # no check ran: nothing was created, nothing to report
            ctx.ledger.discard_file()
            _line(session.config, f"airflow-conformance: {self.selected_nothing}")
            session.exitstatus = ExitCode.SELECTED_NOTHING
            return
        if exitstatus == pytest.ExitCode.USAGE_ERROR:  # pytest refused its arguments before any check ran
            ctx.ledger.discard_file()
            return
        gone = self.gone or _target_gone(ctx)
        problems = [teardown] if teardown else []
        problems += _clean_up(ctx, gone)
        try:
            run = self._judge(session, exitstatus, gone, problems)
        except Exception as exc:  # a defect while judging: the results so far are still written, marked aborted
            run = self._bare(f"internal error while finishing the run: {type(exc).__name__}", problems)
        self.run = run
        self.saved = save(run, ctx)
        session.exitstatus = run.exit_code()
        if self.saved.rescued:
            _line(
                session.config, f"airflow-conformance: {self.saved.problem}; they are in {self.saved.folder} (exit 3)"
            )
            session.exitstatus = ExitCode.INCOMPLETE
        if self.interrupted:
            cleaned = f"cleanup left {len(problems)} problem(s), listed in the reports" if problems else "cleaned up"
            _line(
                session.config, f"airflow-conformance: interrupted; {cleaned}; reports in {self.saved.folder} (exit 3)"
            )

    def _judge(self, session: pytest.Session, exitstatus: int, gone: str, problems: list[str]) -> RunResults:
        """The run's results: every check's, the clients', the operations table, and why it was aborted, if it was."""
        from conformance.reporting.effects import effects_figures, per_operation  # noqa: PLC0415
        from conformance.specs.effects import effects_of  # noqa: PLC0415

        ctx = self.context
        if ctx.clients:
            self.clock.enter("clients")
            _say(session.config, f"phase: clients (+{time.time() - ctx.started:.0f} s)")
        else:
            self.clock.close()
        clients = _read_with_clients(
            ctx, self.results, interrupted=self.interrupted or exitstatus == pytest.ExitCode.INTERRUPTED
        )
        self.clock.close()
        run = self._bare("", problems)
        stats = ctx.session.stats
        run.requests = stats.requests
        run.operations = operations_table(
            list(ctx.router.by_id),
            self.results,
            dict(stats.by_operation),
            dict(stats.refused_by_operation),
            dict(stats.answers),
            operation_tags(ctx.spec),
            dict(stats.statuses),
        )
        if ctx.auth_denied:
            run.refused_by_configuration = (
                f"{ctx.target.url} refuses valid credentials by configuration "
                "(deny_all, the default [api] auth_backend of Airflow 2.0-2.2): "
                "set [api] auth_backend to airflow.api.auth.backend.basic_auth to test its API"
            )
        run.configuration = {
            **run.configuration,
            "auth_roles": {role: spec.redacted for role, spec in ctx.identities.items()},
            "own_role": ctx.primary_role or "unknown",
            "page_limits": ctx.page_limits.as_dict() if ctx.page_limits else None,
        }
        table = effects_of(ctx.spec)
        run.effects = effects_figures(table, self.results)
        for op_id, figures in per_operation(table, self.results).items():
            if op_id in run.operations and figures["documented"]:
                run.operations[op_id]["effects"] = figures
        run.clients = clients
        if self.interrupted or exitstatus == pytest.ExitCode.INTERRUPTED or clients.pop("interrupted", False):
            self.interrupted = True
            run.aborted = "interrupted"
        elif gone:
            run.aborted = gone
        elif exitstatus == pytest.ExitCode.INTERNAL_ERROR:
            run.aborted = "internal error: pytest stopped the session (its INTERNALERROR lines say why)"
        return run

    def _bare(self, aborted: str, problems: list[str]) -> RunResults:
        """The results that need nothing but the run's own records: what a run that crashed while finishing still writes."""
        ctx = self.context
        return RunResults(
            seed=ctx.options.seed,
            profile=ctx.options.profile,
            run_id=ctx.options.run_id,
            target=ctx.target.describe(),
            spec_version=ctx.spec_version,
            started=ctx.started,
            duration_s=time.time() - ctx.started,
            results=self.results,
            fail_on=parse_classes(ctx.options.fail_on),
            cleanup_problems=problems,
            aborted=aborted,
            configuration={**ctx.options.describe(), "auth": ctx.target.auth.redacted, "url": ctx.target.url},
            timing={"phases": self.clock.as_list()},
        )

    def pytest_terminal_summary(self, terminalreporter, exitstatus, config) -> None:
        if self.run is not None and self.saved is not None:
            _summarize(terminalreporter, self.run, self.saved.folder)


def _say(config: pytest.Config, line: str) -> None:
    """A progress line on the real stderr, also while pytest captures a test's output."""
    capman = config.pluginmanager.getplugin("capturemanager")
    with capman.global_and_fixture_disabled() if capman else contextlib.nullcontext():
        print(f"\n{line}", file=sys.stderr, flush=True)  # on its own line, also after pytest's progress dots


def _line(config: pytest.Config, line: str) -> None:
    """One line on the real stderr (the run's last word: selected nothing, interrupted, reports moved)."""
    capman = config.pluginmanager.getplugin("capturemanager")
    with capman.global_and_fixture_disabled() if capman else contextlib.nullcontext():
        print(line, file=sys.stderr, flush=True)


def _read_with_clients(ctx: RunContext, results: list[Result], *, interrupted: bool) -> dict:
    """Let the official clients read the run's cassette (their results join `results`); it is saved with the reports."""
    from conformance.run.clients import check_clients  # noqa: PLC0415

    if interrupted:
        return {"off": "the run was interrupted", "readings": []}
    try:
        found, section = check_clients(ctx)
    except KeyboardInterrupt:  # Ctrl-C while a client reads: the reports are still written, the run is aborted
        return {"off": "the run was interrupted", "readings": [], "interrupted": True}
    results.extend(found)
    return section


def _clean_up(ctx: RunContext, gone: str) -> list[str]:
    """What the end-of-run cleanup could not do (the ledger on disk keeps it for `cleanup`)."""
    from conformance.run.context import PROBE_DAG_IDS  # noqa: PLC0415
    from conformance.safety.cleanup import finish  # noqa: PLC0415

    if gone:
        return [
            f"{gone}; the ledger {ctx.ledger.path} keeps what this run created: "
            f"airflow-conformance cleanup --target {ctx.target.url} --run-id {ctx.options.run_id}"
        ]
    try:
        return finish(ctx.session, ctx.ledger, PROBE_DAG_IDS, prefix=ctx.prefix)
    except Exception as exc:  # the target may be gone; the ledger on disk keeps what is left
        return [f"cleanup could not finish: {type(exc).__name__}: {exc}"]


def _target_gone(ctx: RunContext) -> str:
    """Non-empty when the target stopped answering during the run (the run cannot be finished: exit 3)."""
    import requests  # noqa: PLC0415

    probe = ctx.session_as(None)  # anonymous: any answer, a 401 too, says the server is there
    probe.retries = 0  # the loop below is the only retry: three tries in all, not three of the session's each
    for attempt in range(3):
        if attempt:  # a second apart: a restarting API server gets its moment; after the last, nothing to wait for
            time.sleep(1)
        try:
            probe.call("GET", "/version", timeout=10)
            return ""
        except requests.RequestException:
            pass
    return f"the target {ctx.target.url} stopped answering during the run"


def _summarize(tr, run: RunResults, folder=None) -> None:
    """The verdict block; `folder` is where the reports went (the fallback one when --report-dir failed)."""
    folder = folder or run.configuration.get("report_dir")
    s = run.summary()
    tr.write_sep("=", "airflow-conformance")
    tr.write_line(
        f"target {run.target.get('url')} Airflow {run.target.get('airflow_version')} ({run.target.get('api')}), "
        f"profile {run.profile}, run {run.run_id}, seed {run.seed}"
    )
    if run.refused_by_configuration:
        tr.write_line(f"airflow-conformance: {run.refused_by_configuration}")
    elif run.nothing_decided:
        tr.write_line(f"nothing was decided: {run.nothing_decided}")
    tr.write_line(
        f"verdict: {run.verdict} ({run.gate_text()}) - passed {s['passed']}, failed {s['failed']}, "
        f"known deviations {s[Status.KNOWN_DEVIATION]}, skipped {s[Status.SKIPPED]}, errors {s[Status.ERROR]}, "
        f"requests {s['requests']}"
    )
    for line in client_lines(run.clients):
        tr.write_line(line)
    if run.timing.get("phases"):
        tr.write_line(describe_timing(run.timing["phases"]))
    for problem in run.cleanup_problems:
        tr.write_line(f"cleanup problem (exit 3 unless a check failed): {problem}")
    tr.write_line(f"reports: {folder}/results.json, junit.xml, report.html, summary.md, cassette.json")
