"""The pytest entry point: pytest is the engine of every run.

`airflow-conformance run` builds the run context and hands it to pytest as a
`ConformanceRun` plugin object; people who live in pytest get the same run with
`pytest --pyargs conformance --airflow-target URL --airflow-auth SPEC`, and then
this module builds the context once, before collection. Without either the plugin
is inert: it adds its `--airflow-*` options and two markers, and nothing else (no
fixture, no hook that acts), so other test suites in the same environment are
unaffected. The run's fixtures live on the `ConformanceRun` object, all named
`airflow_*`. The options are the CLI's flags with an `airflow-` prefix and read the
same AIRFLOW_CONFORMANCE_<FLAG> variables; the environment never starts a run.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from conformance.errors import ConfigError, ConformanceError, ExitCode
from conformance.local.target import DATABASES
from conformance.model.classes import parse_classes
from conformance.options import (
    DEFAULT_FAIL_ON,
    DEFAULT_MAX_EXAMPLES,
    DEFAULT_REPORT_DIR,
    DEFAULT_REQUEST_TIMEOUT,
    KINDS,
    PROFILES,
    RunOptions,
    env_name,
    env_value,
    parse_header,
    parse_role_assignment,
)
from conformance.paths import PACKAGE_DIR
from conformance.run.plugin import ConformanceRun
from conformance.run.selection import meta_of
from conformance.tiers.context import CONTEXT_KEY, NO_RUN

# flag (as the CLI spells it) -> (type, default, help); the plugin's option is --airflow-<flag>
FLAGS = {
    "auth": (str, None, "auth spec: basic:U:P, jwt:U:P, bearer:T, env:VAR, none, kerberos"),
    "profile": (str, "sandbox", f"safety profile: {', '.join(PROFILES)} (default sandbox)"),
    "only": (str, ",".join(KINDS), "comma list of " + ",".join(KINDS)),
    "report-dir": (str, DEFAULT_REPORT_DIR, "where results.json and the reports go"),
    "max-examples": (int, DEFAULT_MAX_EXAMPLES, "property examples per operation"),
    "max-rps": (float, None, "requests per second across all workers"),
    "time-budget": (float, None, "seconds for the property tier (shared fairly by operations)"),
    "page-limits": (
        str,
        None,
        "the target's [api] maximum_page_limit,fallback_page_limit (default: Airflow's documented ones)",
    ),
    "workers": (int, 1, "parallel property workers (pytest-xdist is not supported: use this)"),
    "seed": (int, None, "hypothesis seed (recorded in results)"),
    "run-id": (str, None, "run id (prefix of every object the run creates)"),
    "cacert": (str, None, "CA bundle (PEM) the target's certificate is checked against"),
    "request-timeout": (float, DEFAULT_REQUEST_TIMEOUT, "seconds one request may take"),
    "client": (str, None, "official client releases that read the recorded answers: auto (default), none, or V[,V]"),
    "fail-on": (
        str,
        DEFAULT_FAIL_ON,
        "failure classes that fail the run: all (default) or a comma list of "
        "server_error, contract_break, error_shape, undocumented_status, security",
    ),
    "database": (
        str,
        None,
        "the deployment's metadata database (sqlite or postgres), so deviations recorded for it "
        "only may excuse its answers (default: unknown)",
    ),
}

XDIST = (
    "airflow-conformance: pytest-xdist (-n) would give every worker its own run, ledger and cleanup; "
    "run without -n and use --airflow-workers N for parallel property tests"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("airflow-conformance", "Airflow API conformance (each also from AIRFLOW_CONFORMANCE_<FLAG>)")
    g.addoption(
        "--airflow-target",
        "--airflow-url",
        dest="airflow_target",
        default=None,
        metavar="URL",
        help="root URL of the Airflow API server; giving it starts a conformance run in this pytest session",
    )
    for flag, (kind, _default, text) in FLAGS.items():
        g.addoption(f"--airflow-{flag}", dest="airflow_" + flag.replace("-", "_"), type=kind, default=None, help=text)
    g.addoption(
        "--airflow-header",
        dest="airflow_header",
        action="append",
        default=[],
        metavar="NAME:VALUE",
        help="extra header for every request (repeatable; the value is a secret)",
    )
    g.addoption(
        "--airflow-tls-verify",
        dest="airflow_tls_verify",
        action="store_true",
        default=None,
        help="check the target's TLS certificate (the default)",
    )
    g.addoption(
        "--airflow-no-tls-verify",
        dest="airflow_tls_verify",
        action="store_false",
        help="do not check the target's TLS certificate",
    )
    g.addoption(
        "--airflow-auth-role",
        dest="airflow_auth_role",
        action="append",
        default=[],
        metavar="ROLE=SPEC",
        help="a role identity for the authorization checks (repeatable; env AIRFLOW_CONFORMANCE_AUTH_<ROLE>)",
    )
    g.addoption(
        "--i-accept-disruptive-writes",
        action="store_true",
        default=False,
        dest="airflow_allow_disruptive",
        help="allow --airflow-profile disruptive on a target the suite did not start",
    )


def _setting(config: pytest.Config, flag: str):
    """A flag's value: the command line, else AIRFLOW_CONFORMANCE_<FLAG>, else its default."""
    kind, default, _ = FLAGS[flag]
    given = config.getoption("airflow_" + flag.replace("-", "_"))
    if isinstance(given, str) and not given.strip():
        raise ConfigError(f"--airflow-{flag} is empty; give a value, or leave it out")
    if given is not None:
        return given
    raw = env_value(env_name(flag))  # set but empty: a ConfigError, never the default
    try:
        return kind(raw) if raw is not None else default
    except ValueError as exc:
        raise ConfigError(f"{env_name(flag)}={raw!r} is not a valid {kind.__name__}") from exc


def _options(config: pytest.Config) -> RunOptions:
    only = tuple(k.strip() for k in (_setting(config, "only") or "").split(",") if k.strip())
    raw_headers = config.getoption("airflow_header") or (env_value(env_name("header")) or "").splitlines()
    try:
        headers = tuple(parse_header(h) for h in raw_headers if h.strip())
    except ValueError as exc:
        raise ConfigError(f"--airflow-header: {exc}") from exc
    tls = config.getoption("airflow_tls_verify")
    if tls is None:
        tls = (env_value(env_name("tls-verify")) or "true").strip().lower() not in ("0", "false", "no", "off")
    roles = {}
    for value in config.getoption("airflow_auth_role") or ():
        try:
            role, spec = parse_role_assignment(value)
        except ValueError as exc:
            raise ConfigError(f"--airflow-auth-role: {exc}") from None
        roles[role] = spec
    fail_on = _setting(config, "fail-on")
    try:
        parse_classes(fail_on)
    except ValueError as exc:
        raise ConfigError(f"--airflow-fail-on: {exc}") from None
    database = _setting(config, "database")
    if database not in (None, *DATABASES):
        raise ConfigError(f"--airflow-database must be one of {', '.join(DATABASES)}, not {database!r}")
    profile = _setting(config, "profile")
    if profile not in PROFILES:
        raise ConfigError(f"--airflow-profile must be one of {', '.join(PROFILES)}, not {profile!r}")
    return RunOptions.from_env(
        url=config.getoption("airflow_target"),
        auth=_setting(config, "auth"),
        auth_roles=roles,
        profile=profile,
        only=only or KINDS,
        report_dir=_setting(config, "report-dir"),
        max_examples=_setting(config, "max-examples"),
        max_rps=_setting(config, "max-rps"),
        time_budget=_setting(config, "time-budget"),
        page_limits=_setting(config, "page-limits"),
        workers=_setting(config, "workers"),
        seed=_setting(config, "seed"),
        run_id=_setting(config, "run-id"),
        allow_disruptive=config.getoption("airflow_allow_disruptive") or None,
        headers=headers,
        tls_verify=tls,
        cacert=_setting(config, "cacert"),
        request_timeout=_setting(config, "request-timeout"),
        max_failures=config.getoption("maxfail") or None,
        client=_setting(config, "client"),
        fail_on=fail_on,
        database=database,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance(meta): an Airflow conformance check")
    config.addinivalue_line("markers", "conformance_property(**info): a property test of one operation")
    if CONTEXT_KEY in config.stash or any(isinstance(p, ConformanceRun) for p in config.pluginmanager.get_plugins()):
        return  # the CLI handed its run over
    target = config.getoption("airflow_target")
    if target is None:
        if _collects_checks(config):  # one line now, instead of a collection error per tier module later
            pytest.exit(NO_RUN, returncode=ExitCode.USAGE)
        return
    if getattr(config, "workerinput", None) is not None or _xdist_workers(config):
        pytest.exit(XDIST, returncode=ExitCode.USAGE)
    from conformance.run import context as runtime  # noqa: PLC0415
    from conformance.run import preflight  # noqa: PLC0415

    try:
        if not target.strip():
            raise ConfigError("--airflow-target is empty; give the URL of the Airflow API server")
        options = _options(config)  # bad options are a ConfigError too: one line, exit 2
        preflight.check(options, keyword=config.getoption("keyword", "") or "", report_flag="--airflow-report-dir")
        ctx = runtime.build(options)
    except ConformanceError as exc:
        pytest.exit(f"airflow-conformance: {exc}", returncode=exc.exit_code)
    except KeyboardInterrupt:  # while connecting: nothing was created yet
        pytest.exit("airflow-conformance: interrupted", returncode=ExitCode.INCOMPLETE)
    config.pluginmanager.register(ConformanceRun(ctx), "airflow-conformance-run")


def _collects_checks(config: pytest.Config) -> bool:
    """Whether the session's arguments name the suite's checks: `--pyargs conformance[.tiers...]`, or a path into them.

    Only what surely collects them counts, so the plugin stays inert in any other test suite; a folder above
    the package still ends at collection (`pytest_collection_modifyitems` below), in more lines.
    """
    tiers = PACKAGE_DIR / "tiers"
    for arg in config.args:
        name = str(arg).split("::")[0]
        if config.getoption("pyargs", False) and (name == "conformance" or name.startswith("conformance.tiers")):
            return True
        path = Path(config.invocation_params.dir, name)
        with contextlib.suppress(OSError):
            path = path.resolve()
        if path == PACKAGE_DIR or path == tiers or tiers in path.parents:
            return True
    return False


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Checks collected without a run (no target given) cannot run: say so instead of erroring on fixtures."""
    if CONTEXT_KEY not in config.stash and any(meta_of(item) for item in items):
        pytest.exit(NO_RUN, returncode=ExitCode.USAGE)


def _xdist_workers(config: pytest.Config) -> bool:
    """Whether pytest-xdist was asked for workers (-n N, -n auto, --dist ...)."""
    if not config.pluginmanager.hasplugin("xdist"):
        return False
    return bool(config.getoption("numprocesses", None)) or config.getoption("dist", "no") != "no"
