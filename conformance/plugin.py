"""The pytest entry point: pytest is the engine of every run.

`airflow-conformance run` builds the run context and hands it to pytest as a
`ConformanceRun` plugin object; people who live in pytest get the same run with
`pytest --pyargs conformance --airflow-url URL --airflow-auth SPEC`, and then
this module builds the context once, before collection. Without either, the
plugin only adds its options and markers, so other test suites are unaffected.
"""

from __future__ import annotations

import sys

import pytest

from conformance.errors import ConfigError, ConformanceError
from conformance.options import DEFAULT_MAX_EXAMPLES, DEFAULT_REPORT_DIR, KINDS, PROFILES, RunOptions, parse_role_assignment
from conformance.run.plugin import ConformanceRun
from conformance.run.selection import meta_of
from conformance.tiers.context import CONTEXT_KEY, NO_RUN



def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("airflow-conformance", "Airflow API conformance")
    g.addoption("--airflow-url", default=None, help="root URL of the Airflow API server; giving it starts a conformance run in this pytest session")
    g.addoption("--airflow-auth", default=None, help="auth spec: basic:U:P, jwt:U:P, bearer:T, env:VAR, none, kerberos (env AIRFLOW_CONFORMANCE_AUTH)")
    g.addoption("--airflow-auth-role", action="append", default=[], metavar="ROLE=SPEC",
                help="a role identity for the authorization checks (repeatable; env AIRFLOW_CONFORMANCE_AUTH_<ROLE>)")
    g.addoption("--airflow-profile", default="sandbox", choices=PROFILES, help="safety profile (default sandbox)")
    g.addoption("--airflow-only", default=",".join(KINDS), help="comma list of scenarios,properties,posture,authorization")
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
    roles = {}
    for value in config.getoption("airflow_auth_role") or ():
        try:
            role, spec = parse_role_assignment(value)
        except ValueError as exc:
            raise ConfigError(f"--airflow-auth-role: {exc}") from None
        roles[role] = spec
    opts = RunOptions.from_env(
        url=config.getoption("airflow_url"),
        auth=config.getoption("airflow_auth"),
        auth_roles=roles,
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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance(meta): an Airflow conformance check")
    config.addinivalue_line("markers", "conformance_property(**info): a property test of one operation")
    if CONTEXT_KEY in config.stash or any(isinstance(p, ConformanceRun) for p in config.pluginmanager.get_plugins()):
        return  # the CLI handed its run over
    if not config.getoption("airflow_url"):
        return
    from conformance.run import context as runtime  # noqa: PLC0415

    try:
        ctx = runtime.build(_options(config))  # bad options are a ConfigError too: one line, exit 2
    except ConformanceError as exc:
        pytest.exit(f"airflow-conformance: {exc}", returncode=exc.exit_code)
    config.pluginmanager.register(ConformanceRun(ctx), "airflow-conformance-run")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Checks collected without a run (no target given) cannot run: say so instead of erroring on fixtures."""
    if CONTEXT_KEY not in config.stash and any(meta_of(item) for item in items):
        pytest.exit(NO_RUN, returncode=2)


def pytest_collectreport(report) -> None:
    """A check module that cannot even be imported is an internal error: say which and why."""
    if report.failed and str(report.nodeid).startswith("conformance"):
        text = str(report.longrepr).strip().splitlines()
        print(f"airflow-conformance: cannot load {report.nodeid}: {text[-1] if text else 'collection error'}", file=sys.stderr)
