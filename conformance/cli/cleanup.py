"""`airflow-conformance cleanup`: sweep what crashed runs left behind, and nothing else."""

from __future__ import annotations

import click

from conformance.cli.common import echo_err, transport_flags, transport_settings
from conformance.errors import ConfigError
from conformance.options import RunOptions
from conformance.safety.guard import GLOBAL_PREFIX


@click.command("cleanup")
@click.option("--target", "url", metavar="URL", help="Root URL of the Airflow API server.")
@click.option("--auth", metavar="SPEC", help="Auth spec, as for run.")
@click.option("--run-id", metavar="ID", help="Only this run's leftovers (default: every run's, prefix acf_).")
@transport_flags
def cleanup(url, auth, run_id, **transport) -> int:
    """Delete objects left by interrupted runs (named with the suite's prefix) and restore probe DAG pause states."""
    from conformance.run import context as runtime  # noqa: PLC0415
    from conformance.safety.cleanup import finish, sweep  # noqa: PLC0415
    from conformance.safety.ledger import Ledger, ledger_dir  # noqa: PLC0415

    if run_id is not None and not run_id.startswith(GLOBAL_PREFIX):
        raise ConfigError(f"--run-id '{run_id}' is not a run id of this suite (they start with {GLOBAL_PREFIX})")
    options = RunOptions.from_env(url=url, auth=auth, profile="sandbox", **transport_settings(**transport))
    options.run_id = run_id or GLOBAL_PREFIX.rstrip("_")
    prefix = f"{run_id}_" if run_id else GLOBAL_PREFIX
    ctx = runtime.build(options, cleanup_prefix=prefix)
    problems: list[str] = []
    ledgers = [ledger_dir() / f"{run_id}.jsonl"] if run_id else sorted(ledger_dir().glob(f"{GLOBAL_PREFIX}*.jsonl"))
    replayed = 0
    for path in ledgers:
        if path.exists():
            ledger = Ledger(path.stem, path)
            if run_id is None and ledger.noted("target") not in (None, ctx.target.url):
                continue  # another deployment's leftovers (an explicit --run-id is the user's call)
            ctx.guard.ledger = ledger
            replayed += len(ledger.live())
            problems += finish(ctx.session, ledger, runtime.PROBE_DAG_IDS)
    ctx.guard.ledger = ctx.ledger
    found, sweep_problems = sweep(ctx.session, prefix, runtime.PROBE_DAG_IDS)
    problems += sweep_problems
    click.echo(
        f"cleanup of {ctx.target.url}: {replayed} object(s) from local ledgers, "
        f"{len(found)} found by prefix {prefix}, {len(problems)} problem(s)"
    )
    for entry in found:
        click.echo(f"  deleted {entry.kind} {entry.dag_id + '/' if entry.dag_id else ''}{entry.key}")
    for problem in problems:
        echo_err(f"  problem: {problem}")
    return 1 if problems else 0
