"""`airflow-conformance compare A B`: what a client moving from run A to run B meets."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("compare")
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option(
    "--matrix-dir",
    default="reports",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where a release given as A or B finds its matrix run (MATRIX_DIR/runs/<V>/results.json).",
)
@click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write compare.json, compare.md and compare.html here.",
)
def compare(a: str, b: str, matrix_dir: Path, out_dir: Path | None) -> int:
    """Compare two runs: A and B are results.json files, report folders, or releases of the matrix (e.g. 2.10.5).

    Prints the checks whose status changed, the status codes operations answer that
    they did not before (and no longer), the known deviations that appeared or went
    away, and what the reference spec changed (operations added, removed, renamed,
    fields changed). Sends no request.
    """
    from conformance.matrix import compare as cmp  # noqa: PLC0415
    from conformance.matrix import compare_report  # noqa: PLC0415

    side_a, side_b = cmp.load_side(a, matrix_dir), cmp.load_side(b, matrix_dir)
    doc = cmp.compare(side_a, side_b)
    click.echo(compare_report.render_text(doc), nl=False)
    if not cmp.recorded_statuses(side_a, side_b):
        click.echo(
            "(status codes per operation were not recorded by one of the runs: results.json from an older suite)"
        )
    if out_dir is not None:
        for path in compare_report.write(doc, out_dir):
            click.echo(str(path))
    return 0
