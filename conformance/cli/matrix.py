"""`airflow-conformance matrix`: the suite across Airflow releases, side by side."""

from __future__ import annotations

from pathlib import Path

import click

from conformance.cli.common import database_option, echo_err, exclusive, parse_only, transport_flags
from conformance.options import DEFAULT_MAX_EXAMPLES, PROFILES, env_name

# The property tier's time per release (--time-budget). The whole matrix, 16 minors with every tier, must fit in
# an hour of suite time on a 2-core machine (225 s per release on average). Measured with 60 s (2026-11-30, warm
# homes): 2.0.2 239 s (its deny_all restart included), 2.10.5 210 s, 3.3.2 122 s per release; the property tier
# took the budget plus ~0.55 s per operation on 2.x, less than the budget on 3.x (quick answers). Extrapolated
# over the 16 minors: ~46 min, plus the first start of a release whose home is not initialized yet.
DEFAULT_PROPERTY_BUDGET = 60


def child_settings(header=(), tls_verify=True, cacert=None, request_timeout=None) -> dict[str, str]:
    """The transport flags as environment for each release's child run (header values are secrets: never argv)."""
    env = {env_name("tls-verify"): "true" if tls_verify else "false"}
    if header:
        env[env_name("header")] = "\n".join(f"{name}: {value}" for name, value in header)
    if cacert:
        env[env_name("cacert")] = str(Path(cacert).resolve())
    if request_timeout:
        env[env_name("request-timeout")] = str(request_timeout)
    return env


def _consistency(report_dir: Path) -> int:
    """`matrix --consistency`: the checks whose same answer got another status on another release (exit 1 if any)."""
    from conformance.matrix import consistency  # noqa: PLC0415

    found = consistency.splits(consistency.load_results(report_dir))
    for line in consistency.report(found):
        click.echo(line)
    return 1 if found else 0


def _upgrade_pages(report_dir: Path) -> None:
    """upgrade/<FROM>-to-<TO>.html for the pairs the compatibility page's picker offers (matrix.upgrade_pages)."""
    from conformance.matrix import upgrade_pages  # noqa: PLC0415

    written = upgrade_pages.publish(report_dir, echo_err)
    if written:
        click.echo(f"{report_dir / upgrade_pages.FOLDER}/: {len(written)} upgrade pages")


@click.command("matrix")
@click.option("--airflow", "versions", metavar="V1,V2,...", help="Releases to provision locally in turn (or `all`).")
@click.option("--target", "urls", multiple=True, metavar="URL", help="Already deployed targets instead (repeatable).")
@click.option("--auth", metavar="SPEC", help="With --target: the auth spec for every target.")
@click.option(
    "--report-dir",
    "--matrix-dir",
    "report_dir",
    default="reports",
    show_default=True,
    help="Where compatibility.{json,md,html}, runs/<V>/ and upgrade/<FROM>-to-<TO>.html go (--matrix-dir: the same "
    "folder, read).",
)
@click.option("--profile", type=click.Choice(PROFILES), default="sandbox", show_default=True)
@click.option("--only", "only", metavar="KINDS", help="Comma list of scenarios, properties, posture (default: all).")
@click.option("--max-examples", type=click.IntRange(1, 10000), default=DEFAULT_MAX_EXAMPLES, show_default=True)
@click.option("--seed", type=int, default=None, help="Same seed for every release (random when omitted).")
@click.option(
    "--time-budget",
    type=click.FloatRange(1, None),
    default=DEFAULT_PROPERTY_BUDGET,
    show_default=True,
    metavar="SECONDS",
    help="Property-tier time per release (run --time-budget); the default fits 16 releases in an hour.",
)
@click.option(
    "--timeout", type=click.IntRange(60, None), default=1800, show_default=True, help="Seconds allowed per release."
)
@click.option("--rebuild", is_flag=True, help="Only re-render the matrix from the runs already in --report-dir/runs/.")
@click.option(
    "--render-only",
    is_flag=True,
    help="Only render compatibility.md and .html again from --report-dir/compatibility.json (no runs needed).",
)
@click.option(
    "--consistency",
    is_flag=True,
    help="Only check the runs in --report-dir/runs/: the same answer to the same request must have the same "
    "status on every release; print each check where it does not and a total; exit 1 unless it is 0.",
)
@database_option(
    "With --airflow: the releases' metadata database; postgres adds 'V · PostgreSQL' columns (runs/V-postgres/) "
    "beside the SQLite ones already in --report-dir."
)
@transport_flags
def matrix(
    versions,
    urls,
    auth,
    report_dir,
    profile,
    only,
    max_examples,
    seed,
    timeout,
    rebuild,
    render_only,
    consistency,
    database,
    **transport,
) -> int:
    """Run the suite against several Airflow releases and write the compatibility matrix.

    A release that cannot be provisioned becomes an error column with the
    reason; the other releases still run.
    """
    from conformance.local import versions as supported  # noqa: PLC0415
    from conformance.matrix import build, collect, page  # noqa: PLC0415

    time_budget = transport.pop("time_budget")  # not a transport flag: taken out before they go to the children
    if consistency:
        return _consistency(Path(report_dir))
    if render_only:
        for path in build.rerender(Path(report_dir)):
            click.echo(str(path))
        return 0
    if rebuild:
        columns = collect.load_runs(Path(report_dir), echo_err)
        if not columns:
            raise click.UsageError(f"--rebuild found no runs under {report_dir}/runs/")
        for path in build.write(build.build(columns), Path(report_dir), page.upgrades_beside(Path(report_dir))):
            click.echo(str(path))
        _upgrade_pages(Path(report_dir))
        return 0
    versions, urls = exclusive(
        ("versions", versions), ("urls", urls), "give either --airflow V1,V2,... or --target URL"
    )
    if not versions and not urls:
        raise click.UsageError("give either --airflow V1,V2,... or --target URL (repeatable)")
    extra = [
        "--profile",
        profile,
        "--only",
        ",".join(parse_only(only)),
        "--max-examples",
        str(max_examples),
        "--time-budget",
        f"{time_budget:g}",
    ]
    if seed is not None:
        extra += ["--seed", str(seed)]
    out = Path(report_dir)
    if versions:
        wanted = (
            supported.supported()
            if versions.strip() == "all"
            else [v.strip() for v in versions.split(",") if v.strip()]
        )
        for v in wanted:
            supported.resolve(v)  # unknown version -> ConfigError before anything runs
        columns = collect.collect_local(
            wanted, out, extra, echo_err, timeout=timeout, env=child_settings(**transport), database=database
        )
    elif database != "sqlite":
        raise click.UsageError("--database applies to releases provisioned here (--airflow), not to --target URLs")
    else:
        columns = collect.collect_targets(
            list(urls), auth or "", out, extra, echo_err, timeout=timeout, env=child_settings(**transport)
        )
    shown = collect.with_stored(columns, out, database, echo_err) if versions else columns  # exit code: this run's only
    doc = build.build(shown)
    for path in build.write(doc, out, page.upgrades_beside(out)):
        click.echo(str(path))
    _upgrade_pages(out)
    failed = [c for c in columns if c.status != "ran" or c.exit_code]
    return 1 if failed else 0
