"""`airflow-conformance matrix`: the suite across Airflow releases, side by side."""

from __future__ import annotations

import os
from pathlib import Path

import click

from conformance.cli.common import echo_err, parse_only
from conformance.options import DEFAULT_MAX_EXAMPLES, PROFILES


@click.command("matrix")
@click.option("--airflow", "versions", metavar="V1,V2,...", help="Releases to provision locally in turn (or `all`).")
@click.option("--target", "urls", multiple=True, metavar="URL", help="Already deployed targets instead (repeatable).")
@click.option("--auth", metavar="SPEC", help="With --target: the auth spec for every target (env AIRFLOW_CONFORMANCE_AUTH).")
@click.option("--report-dir", default="reports", show_default=True, help="Where compatibility.{json,md,html} and runs/<V>/ go.")
@click.option("--profile", type=click.Choice(PROFILES), default="sandbox", show_default=True)
@click.option("--only", "only", metavar="KINDS", help="Comma list of scenarios, properties, posture (default: all).")
@click.option("--max-examples", type=click.IntRange(1, 10000), default=DEFAULT_MAX_EXAMPLES, show_default=True)
@click.option("--seed", type=int, default=None, help="Same seed for every release (random when omitted).")
@click.option("--timeout", type=click.IntRange(60, None), default=1800, show_default=True, help="Seconds allowed per release.")
@click.option("--rebuild", is_flag=True, help="Only re-render the matrix from the runs already in --report-dir/runs/.")
def matrix(versions, urls, auth, report_dir, profile, only, max_examples, seed, timeout, rebuild) -> int:
    """Run the suite against several Airflow releases and write the compatibility matrix.

    A release that cannot be provisioned becomes an error column with the
    reason; the other releases still run.
    """
    from conformance.local import versions as supported  # noqa: PLC0415
    from conformance.matrix import build, collect  # noqa: PLC0415

    if rebuild:
        columns = collect.load_runs(Path(report_dir), echo_err)
        if not columns:
            raise click.UsageError(f"--rebuild found no runs under {report_dir}/runs/")
        for path in build.write(build.build(columns), Path(report_dir)):
            click.echo(str(path))
        return 0
    if bool(versions) == bool(urls):
        raise click.UsageError("give either --airflow V1,V2,... or --target URL (repeatable)")
    extra = ["--profile", profile, "--only", ",".join(parse_only(only)), "--max-examples", str(max_examples)]
    if seed is not None:
        extra += ["--seed", str(seed)]
    out = Path(report_dir)
    if versions:
        wanted = supported.supported() if versions.strip() == "all" else [v.strip() for v in versions.split(",") if v.strip()]
        for v in wanted:
            supported.resolve(v)  # unknown version -> ConfigError before anything runs
        columns = collect.collect_local(wanted, out, extra, echo_err, timeout=timeout)
    else:
        spec = auth or os.environ.get("AIRFLOW_CONFORMANCE_AUTH") or ""
        columns = collect.collect_targets(list(urls), spec, out, extra, echo_err, timeout=timeout)
    doc = build.build(columns)
    for path in build.write(doc, out):
        click.echo(str(path))
    failed = [c for c in columns if c.status != "ran" or c.exit_code]
    return 1 if failed else 0
