"""`airflow-conformance run`: one command, one verdict, one exit code."""

from __future__ import annotations

import sys

import click

from conformance.cli.common import (
    check_fail_on,
    check_page_limits,
    database_option,
    echo_err,
    exclusive,
    parse_only,
    parse_roles,
    transport_flags,
    transport_settings,
)
from conformance.cli.exit_codes import RUN_EPILOG
from conformance.clients import versions as client_versions
from conformance.errors import ConfigError, ExitCode, SelectedNothing
from conformance.options import DEFAULT_FAIL_ON, DEFAULT_MAX_EXAMPLES, DEFAULT_REPORT_DIR, KINDS, PROFILES, RunOptions


def run_suite(options: RunOptions, *, quiet: bool = False) -> int:
    """Connect (exit 2 on any configuration problem), then drive pytest with the run handed over as a plugin."""
    from conformance.run import context as runtime  # noqa: PLC0415

    ctx = runtime.build(options)  # ConfigError -> one line, exit 2 (handled by the CLI group)
    # only now: a run refused for its input or its target (one line, at once) needs neither pytest nor the plugin
    import pytest  # noqa: PLC0415

    from conformance.run.plugin import ConformanceRun  # noqa: PLC0415

    echo_err(
        f"target {ctx.target.url}: Airflow {ctx.target.airflow_version} (API {ctx.target.api}), "
        f"reference spec {ctx.spec_version}, auth {ctx.target.auth.redacted}, profile {options.profile}, "
        f"run {options.run_id}, seed {options.seed}"
        + "".join(f", header {h}" for h in options.describe()["headers"])
        + ("" if options.tls_verify else ", TLS verification off")
    )
    if "authorization" in options.only or ctx.primary_role:
        roles = (
            ", ".join(f"{role} ({spec.redacted})" for role, spec in ctx.identities.items()) or "none (anonymous only)"
        )
        echo_err(f"role identities: {roles}; the run's own role: {ctx.primary_role or 'unknown'}")
    packages = [f"conformance.tiers.{kind}" for kind in options.only]  # collect only what was asked for
    # `-o addopts=`: the pytest settings of whatever project the command runs in (this checkout's `-m "not airflow"`,
    # a user's own) must not change which checks run
    args = [
        "--pyargs",
        *packages,
        "-o",
        "addopts=",
        "-p",
        "no:cacheprovider",
        "-p",  # its markers registered also where pytest's plugin autoload is off (PYTEST_DISABLE_PLUGIN_AUTOLOAD)
        "conformance.plugin",
        "--no-header",
        "-q" if not quiet else "-qq",
        "--tb=no",
        "-rfE",
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        "--assert=plain",
        "-o",
        "python_files=test_*.py",
        "-W",
        "ignore::DeprecationWarning",
    ]
    if options.keyword:
        args += ["-k", options.keyword]
    if options.max_failures:
        args += ["--maxfail", str(options.max_failures)]
    plugin = ConformanceRun(ctx)
    code = int(pytest.main(args, plugins=[plugin]))
    if code == pytest.ExitCode.USAGE_ERROR:  # pytest said why on the line before; nothing ran, no report was written
        raise ConfigError("pytest refused the run's arguments (see the line above); no report was written")
    if code == ExitCode.SELECTED_NOTHING and not plugin.selected_nothing:  # the plugin says it when it decided it
        raise SelectedNothing(
            "selected nothing: no check was collected" + (f" for -k {options.keyword!r}" if options.keyword else "")
        )
    return code


@click.command("run", epilog=RUN_EPILOG)
@click.option("--target", "url", metavar="URL", help="Root URL of the Airflow API server.")
@click.option(
    "--airflow",
    "--local",
    "local_version",
    metavar="VERSION",
    help="Provision a real Airflow VERSION here, run, then stop it (--local: the same flag).",
)
@click.option(
    "--auth", "auth", metavar="SPEC", help="basic:USER:PASS, jwt:USER:PASS, bearer:TOKEN, env:VAR, none, kerberos."
)
@click.option(
    "--auth-role",
    "auth_roles",
    metavar="ROLE=SPEC",
    multiple=True,
    callback=parse_roles,
    help="A role identity for the authorization checks (repeatable; SPEC as for --auth, env:VAR keeps it off "
    "argv; env AIRFLOW_CONFORMANCE_AUTH_<ROLE>).",
)
@click.option(
    "--profile",
    type=click.Choice(PROFILES),
    default="sandbox",
    show_default=True,
    help="What the suite may change on the target.",
)
@click.option("--only", "only", metavar="KINDS", help="Comma list of " + ", ".join(KINDS) + " (default: all).")
@click.option(
    "--report-dir",
    default=DEFAULT_REPORT_DIR,
    show_default=True,
    help="Where results.json, junit.xml, report.html, summary.md go.",
)
@click.option(
    "--max-examples",
    type=click.IntRange(1, 10000),
    default=DEFAULT_MAX_EXAMPLES,
    show_default=True,
    help="Generated examples per operation.",
)
@click.option(
    "--max-rps",
    type=click.FloatRange(0.1, None),
    default=None,
    help="Upper bound on requests per second (all workers together).",
)
@click.option(
    "--time-budget",
    type=click.FloatRange(1, None),
    default=None,
    metavar="SECONDS",
    help="Time for the property tier; once an operation has used its share, it sends no further cases "
    "(each operation still gets at least one).",
)
@click.option(
    "--page-limits",
    "page_limits",
    metavar="MAX,FALLBACK",
    callback=check_page_limits,
    help="The target's [api] maximum_page_limit,fallback_page_limit, which the paging checks judge by "
    "(default: a local target's own, else Airflow's documented defaults for the release).",
)
@click.option(
    "--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Parallel property-test workers."
)
@click.option(
    "--seed", type=int, default=None, help="Hypothesis seed (random when omitted; always recorded in results.json)."
)
@click.option("-k", "keyword", metavar="EXPR", help="Only checks whose id matches this pytest -k expression.")
@click.option("--python", "python", metavar="PATH", help="With --airflow: the interpreter for the Airflow venv.")
@database_option(
    "With --airflow: the provisioned target's metadata database (postgres: a PostgreSQL server of its own; "
    "default: the release's running target's, else sqlite). With --target: the deployment's metadata "
    "database as you know it, so deviations recorded for that database only may excuse its answers "
    "(default: unknown, and they excuse nothing).",
    default=None,
)
@click.option(
    "--i-accept-disruptive-writes",
    "allow_disruptive",
    is_flag=True,
    help="Allow --profile disruptive on a target the suite did not start.",
)
@click.option(
    "-x",
    "--max-failures",
    "max_failures",
    type=click.IntRange(1, None),
    is_flag=False,
    flag_value=1,
    default=None,
    metavar="[N]",
    help="Stop after N failed checks (-x alone: after the first); cleanup and reports still happen.",
)
@click.option(
    "--client",
    "client",
    metavar="auto|VERSION[,VERSION]|none",
    help="Official apache-airflow-client releases that read every recorded answer after the run "
    "(default auto: the client matching the server).",
)
@click.option(
    "--fail-on",
    "fail_on",
    metavar="CLASSES",
    default=DEFAULT_FAIL_ON,
    show_default=True,
    callback=check_fail_on,
    help="Failure classes that fail the run (exit 1): a comma list of server_error, contract_break, error_shape, "
    "undocumented_status, security, or all. Failures of other classes are still reported.",
)
@transport_flags
def run(
    url,
    local_version,
    auth,
    auth_roles,
    profile,
    only,
    report_dir,
    max_examples,
    max_rps,
    time_budget,
    workers,
    seed,
    keyword,
    python,
    database,
    allow_disruptive,
    max_failures,
    client,
    fail_on,
    **transport,
) -> int:
    """Run the conformance suite against a target and write the reports.

    With neither --target nor --airflow, the newest supported Airflow is
    provisioned locally (the embedded default).
    """
    url, local_version = exclusive(
        ("url", url), ("local_version", local_version), "--target and --airflow exclude each other"
    )
    options = RunOptions.from_env(
        url=url,
        auth=auth,
        auth_roles=auth_roles,
        profile=profile,
        only=parse_only(only),
        report_dir=report_dir,
        max_examples=max_examples,
        max_rps=max_rps,
        time_budget=time_budget,
        page_limits=transport.pop("page_limits"),
        workers=workers,
        seed=seed,
        keyword=keyword,
        allow_disruptive=allow_disruptive,
        max_failures=max_failures,
        client=client,
        fail_on=fail_on,
        **transport_settings(**transport),
    )
    client_versions.parse(options.client)  # a malformed --client is exit 2 before anything is provisioned
    from conformance.run import preflight  # noqa: PLC0415 - it brings requests, which a refused flag never needs

    preflight.check(options)  # -k, the URL, the folders written: exit 2 before any request or provisioning
    if url:
        options.database = database
        return run_suite(options)
    from conformance.cli.local import running_database  # noqa: PLC0415
    from conformance.local import instance, versions  # noqa: PLC0415

    version = local_version or versions.NEWEST
    database = running_database(version, database)
    already = {t.key for t in instance.running()}
    local = instance.start(version, python=python, database=database, progress=echo_err)
    options.url = local.url
    if not auth:
        options.auth = local.auth_spec
    try:
        return run_suite(options)
    finally:
        if local.key not in already:
            echo_err(
                f"stopping local Airflow {version}" + ("" if database == "sqlite" else f" and its {database} server")
            )
            instance.stop(local.version, database)
            sys.stderr.flush()
