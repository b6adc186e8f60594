"""`airflow-conformance deviations`: lint the known-deviation data, replay it, or draft an upstream report."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from conformance.cli.common import database_option, echo_err, exclusive, transport_flags, transport_settings
from conformance.errors import ConfigError
from conformance.options import RunOptions


@click.group("deviations")
def deviations() -> None:
    """Known upstream deviations: `lint` the data, `verify` it against a target, `report` one upstream."""


MATRIX_FILE = "reports/compatibility.json"


@deviations.command("lint")
@click.option(
    "--evidence",
    "evidence_file",
    type=click.Path(dir_okay=False),
    default=MATRIX_FILE,
    show_default=True,
    help="The matrix whose replays each entry's version range must agree with (skipped when the file is absent).",
)
@click.option("--no-evidence", is_flag=True, help="Lint the data alone, without the matrix's replays.")
def lint_cmd(evidence_file, no_evidence) -> int:
    """Reject entries without a response-side signature, with request-text matching, wildcards, or no reproduction,
    and entries whose version range disagrees with the releases where the matrix's replay decided them."""
    from conformance.checks.registry import check_names  # noqa: PLC0415
    from conformance.expectations import DATA_FILE, raw_deviations  # noqa: PLC0415
    from conformance.expectations.deviations import lint, parse_all  # noqa: PLC0415
    from conformance.local.versions import supported  # noqa: PLC0415
    from conformance.specs.catalog import load_spec, reference_version_for  # noqa: PLC0415

    entries = raw_deviations()
    problems = lint(entries, check_names(), lambda v: load_spec(reference_version_for(v)), supported())
    if not no_evidence and Path(evidence_file).is_file():
        problems += _range_problems(parse_all(entries), Path(evidence_file))
    elif not no_evidence:
        echo_err(f"no matrix at {evidence_file}: version ranges not compared with replays (--evidence FILE)")
    for problem in problems:
        click.echo(problem)
    click.echo(f"{len(entries)} deviation(s) in {DATA_FILE.name}: {len(problems)} problem(s)")
    return 1 if problems else 0


def _range_problems(devs: list, matrix_file: Path) -> list[str]:
    """One lint line per entry whose range disagrees with the columns where its replay was decided."""
    from conformance.local.versions import supported  # noqa: PLC0415
    from conformance.matrix import evidence  # noqa: PLC0415

    out = []
    for entry in evidence.disagreeing(devs, evidence.load(matrix_file)):
        hint, backend = entry.suggested(supported()), entry.suggested_backend()
        hint = f"{hint} with backend: {backend}" if hint and backend else hint
        out.append(
            f"deviation {entry.deviation.id}: {entry.disagreement()} (replays in {matrix_file}; "
            + (f"suggested: {hint})" if hint else "it occurs nowhere: stale)")
        )
    return out


@deviations.command("range")
@click.argument("ids", nargs=-1, metavar="[ID ...]")
@click.option(
    "--matrix",
    "matrix_file",
    type=click.Path(dir_okay=False),
    default=MATRIX_FILE,
    show_default=True,
    help="The matrix whose replays are the evidence.",
)
def range_cmd(ids, matrix_file) -> int:
    """Per entry, the releases where the matrix's replay occurs and where not, against the data's range.

    Prints `agrees`, `DISAGREES: ...` or the columns without evidence, and the smallest specifier set
    that selects exactly the supported releases where it occurs. Exit 1 when any entry disagrees.
    """
    from conformance.expectations import all_deviations  # noqa: PLC0415
    from conformance.local.versions import supported  # noqa: PLC0415
    from conformance.matrix import evidence, range_report  # noqa: PLC0415

    devs = [d for d in all_deviations() if not ids or d.id in ids]
    unknown = sorted(set(ids) - {d.id for d in devs})
    if unknown:
        raise ConfigError(
            f"no deviation {', '.join(unknown)}; `airflow-conformance deviations lint` lists the data file"
        )
    doc = evidence.load(Path(matrix_file))
    entries = [evidence.of(d, doc) for d in devs]
    for entry in entries:
        click.echo("\n".join(range_report.lines(entry, evidence.columns_of(doc), supported())))
    wrong = [e.deviation.id for e in entries if not e.agrees]
    echo_err(
        f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}: {len(entries) - len(wrong)} agree with "
        f"the replays in {matrix_file}, {len(wrong)} disagree"
    )
    return 1 if wrong else 0


@contextmanager
def _target(url: str | None, local_version: str | None, auth: str | None, python: str | None, transport: dict):
    """A run context for a deployed URL, or for a local release provisioned for the occasion (then stopped)."""
    from conformance.run import context as runtime  # noqa: PLC0415

    url, local_version = exclusive(
        ("url", url), ("local_version", local_version), "--target and --airflow exclude each other"
    )
    if not url and not local_version:
        raise click.UsageError("name a target: --target URL or --airflow VERSION")
    stop = None
    if local_version:
        from conformance.local import instance  # noqa: PLC0415

        already = {t.key for t in instance.running()}
        local = instance.start(local_version, python=python, progress=echo_err)
        url, auth = local.url, auth or local.auth_spec
        stop = None if local.key in already else local.version
    options = RunOptions.from_env(url=url, auth=auth, profile="sandbox", **transport_settings(**transport))
    try:
        yield runtime.build(options)
    finally:
        if stop:
            from conformance.local import instance  # noqa: PLC0415

            echo_err(f"stopping local Airflow {stop}")
            instance.stop(stop)


@deviations.command("verify")
@click.option("--target", "url", metavar="URL", help="Root URL of the Airflow API server.")
@click.option(
    "--airflow",
    "--local",
    "local_version",
    metavar="VERSION",
    help="Provision a real Airflow VERSION here, replay, then stop it (--local: the same flag).",
)
@click.option("--auth", metavar="SPEC", help="Auth spec, as for run.")
@click.option("--id", "ids", multiple=True, metavar="ID", help="Only these deviations (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcomes as JSON.")
@click.option(
    "--every-entry",
    is_flag=True,
    help="Replay every entry of the data, whatever its version range or backend says (evidence for "
    "`deviations range`); the exit code then judges only the entries whose range includes the target.",
)
@click.option("--python", metavar="PATH", help="With --airflow: the interpreter for the Airflow venv.")
@transport_flags
def verify_cmd(url, local_version, auth, ids, as_json, every_entry, python, **transport) -> int:
    """Replay every deviation that applies to the target and its negative controls; judge each answer.

    A pair `occurs` only when the answer matches the entry's signature AND fails the checks it names,
    judged against the release's reference spec (else: `passes its checks`, behaviour the spec permits).
    Exit 0 when every pair occurs (intermittent ones may be absent) and no negative control produces
    the answer, 1 otherwise. With --every-entry the entries outside their range are replayed too: where
    they occur or not is evidence (`deviations range`), never a failure of this command.
    """
    from conformance.clients.reading import replay_reader  # noqa: PLC0415
    from conformance.expectations import all_deviations  # noqa: PLC0415
    from conformance.replay.deviations import verify  # noqa: PLC0415
    from conformance.run import context as runtime  # noqa: PLC0415
    from conformance.safety.cleanup import finish  # noqa: PLC0415

    with _target(url, local_version, auth, python, transport) as ctx:
        recorded = {d.id for d in ctx.expectations.deviations}  # the entries whose range includes this target
        pool = all_deviations() if every_entry else ctx.expectations.deviations
        devs = [d for d in pool if not ids or d.id in ids]
        if ids and not devs:
            raise ConfigError(
                f"none of {', '.join(ids)} applies to Airflow {ctx.target.airflow_version}"
                + ("" if every_entry else " (--every-entry replays entries outside their range too)")
            )
        echo_err(
            f"replaying {len(devs)} deviation(s) "
            + ("of the data, every entry" if every_entry else "recorded")
            + f" for Airflow {ctx.target.airflow_version} on {ctx.target.url}"
        )
        try:
            outcomes = verify(ctx, devs, replay_reader(ctx.target.airflow_version, echo_err))
        finally:
            problems = finish(ctx.session, ctx.ledger, runtime.PROBE_DAG_IDS, prefix=ctx.prefix)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "id": o.deviation.id,
                        "operation": o.operation,
                        "verdict": o.verdict,
                        "detail": o.detail,
                        "curl": o.curl,
                        "in_range": o.deviation.id in recorded,
                        **({"control": True} if o.control else {}),
                    }
                    for o in outcomes
                ],
                indent=2,
            )
        )
    else:
        for o in outcomes:
            click.echo(o.line() + ("" if o.deviation.id in recorded else "  [outside its range]"))
    if every_entry:
        echo_err(_outside_summary(outcomes, recorded))
    echo_err(_tally(outcomes) + (f"; cleanup problems: {'; '.join(problems)}" if problems else ""))
    bad = [o for o in outcomes if o.bad and o.deviation.id in recorded]
    return 1 if bad or problems else 0


def _tally(outcomes: list) -> str:
    """The closing count of a replay: pairs by verdict, and the negative controls."""
    from conformance.replay.deviations import ABSENT, CONTROL_FAILS, NOT_REPLAYED, OCCURS, PERMITTED  # noqa: PLC0415

    counts = {
        v: sum(1 for o in outcomes if o.verdict == v and not o.control)
        for v in (OCCURS, ABSENT, NOT_REPLAYED, PERMITTED)
    }
    failing_controls = sum(1 for o in outcomes if o.verdict == CONTROL_FAILS)
    return (
        f"{sum(not o.control for o in outcomes)} replayed pair(s): {counts[OCCURS]} occur, "
        f"{counts[ABSENT]} do not occur, {counts[PERMITTED]} pass their checks (not deviations), "
        f"{counts[NOT_REPLAYED]} not replayed; {sum(o.control for o in outcomes)} negative control(s), "
        f"{failing_controls} produce the answer"
    )


def _outside_summary(outcomes: list, recorded: set[str]) -> str:
    """How much of an every-entry replay occurred outside the entries' ranges: the range data is then wrong."""
    from conformance.replay.deviations import OCCURS  # noqa: PLC0415

    outside = [o for o in outcomes if o.verdict == OCCURS and o.deviation.id not in recorded]
    return (
        f"{len(outside)} replayed pair(s) of {len({o.deviation.id for o in outside})} entries occur outside "
        "their entry's range: `deviations range` compares every range with the matrix's evidence"
    )


@deviations.command("sweep")
@click.option(
    "--airflow",
    "versions",
    required=True,
    metavar="V1,V2,...",
    help="Releases to replay on, in turn (`all`: every supported release).",
)
@click.option(
    "--report-dir",
    default="reports",
    show_default=True,
    type=click.Path(file_okay=False),
    help="The matrix folder: runs/<column>/deviations.json are rewritten, then the matrix re-rendered.",
)
@click.option(
    "--timeout",
    type=click.IntRange(60, None),
    default=900,
    show_default=True,
    help="Seconds allowed for one release's replay.",
)
@click.option("--python", metavar="PATH", help="The interpreter for the Airflow venvs.")
@database_option("The releases' metadata database (postgres: the 'V · PostgreSQL' columns).")
def sweep_cmd(versions, report_dir, timeout, python, database) -> int:
    """Replay every entry on each release (started here, stopped again; a running one is left running),
    then re-render the matrix from the runs on disk, as `matrix --rebuild`.

    The suite is not run again: only the deviation evidence (`deviations range`) is refreshed.
    Exit 1 when a release gave no replay (its evidence stays as it was).
    """
    from conformance.local.versions import resolve, supported  # noqa: PLC0415
    from conformance.matrix import sweep  # noqa: PLC0415

    wanted = supported() if versions.strip() == "all" else [v.strip() for v in versions.split(",") if v.strip()]
    wanted = [resolve(v).version for v in wanted]  # an unknown release: one clear line before anything starts
    outcomes = [sweep.replay_release(v, database, Path(report_dir), echo_err, python, timeout) for v in wanted]
    for path in sweep.rebuild(Path(report_dir), echo_err):
        click.echo(str(path))
    missed = [label for label, pairs in outcomes if pairs is None]
    echo_err(
        f"{len(outcomes) - len(missed)} release(s) replayed" + (f"; no replay on {', '.join(missed)}" if missed else "")
    )
    return 1 if missed else 0


@deviations.command("report")
@click.argument("deviation_id", required=False)
@click.option("--all", "every", is_flag=True, help="A report for every deviation in the data (with --out).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="With --all: write DIR/<id>.md per deviation and DIR/index.md.",
)
@click.option(
    "--matrix",
    "matrix_file",
    type=click.Path(dir_okay=False),
    default="reports/compatibility.json",
    show_default=True,
    help="Compatibility matrix to read the affected releases from (its runs/ beside it hold the recorded curls).",
)
def report_cmd(deviation_id, every, out_dir, matrix_file) -> int:
    """Print a ready-to-file upstream issue for one deviation, or write one per deviation with --all --out DIR.

    Each holds the title, class, affected releases, a minimal curl (recorded and redacted when the matrix
    reproduced it), the trigger and negative control, the spec's documented answer vs the server's, and a search.
    """
    from conformance.expectations import all_deviations  # noqa: PLC0415
    from conformance.matrix.upstream import read_matrix, report  # noqa: PLC0415

    if bool(deviation_id) == every:
        raise click.UsageError("name one deviation ID or --all, not both" if every else "name a deviation ID or --all")
    if every and not out_dir:
        raise click.UsageError("--all writes one file per deviation: name the folder with --out DIR")
    devs = all_deviations() if every else [d for d in all_deviations() if d.id == deviation_id]
    if not devs:
        raise ConfigError(f"no deviation {deviation_id!r}; `airflow-conformance deviations lint` lists the data file")
    matrix_path = Path(matrix_file)
    matrix = read_matrix(matrix_path)
    if not every:
        click.echo(report(devs[0], matrix, matrix_path)[0], nl=False)
        sys.stdout.flush()
        return 0
    _write_all(devs, matrix, matrix_path, Path(out_dir))
    click.echo(f"{len(devs)} deviation report(s) and index.md written to {out_dir}")
    return 0


def _write_all(devs: list, matrix: dict | None, matrix_path: Path, out: Path) -> None:
    """DIR/<id>.md for each deviation and DIR/index.md; a folder that cannot be written is a usage error."""
    from conformance.matrix.upstream import report  # noqa: PLC0415
    from conformance.reporting.upstream_issue import index  # noqa: PLC0415
    from conformance.reporting.writer import write_texts  # noqa: PLC0415

    try:
        out.mkdir(parents=True, exist_ok=True)  # before the drafting: an unwritable folder is said at once
    except OSError as exc:
        raise ConfigError(f"cannot write the reports to {out}: {exc.strerror or exc.__class__.__name__}") from None
    texts, rows = {}, []
    for dev in devs:
        text, evidence = report(dev, matrix, matrix_path)
        texts[f"{dev.id}.md"] = text
        rows.append((dev, evidence))
    texts["index.md"] = index(rows)
    try:
        write_texts(out, texts)
    except OSError as exc:
        raise ConfigError(f"cannot write the reports to {out}: {exc.strerror or exc.__class__.__name__}") from None


COMMANDS = (deviations,)
