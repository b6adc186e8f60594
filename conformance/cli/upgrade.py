"""`airflow-conformance upgrade FROM TO`: what a client of Airflow FROM meets on Airflow TO."""

from __future__ import annotations

from pathlib import Path

import click

from conformance.matrix.upgrade_report import FORMATS


def _uses(value: str | None) -> set[str] | None:
    """`--uses`: a comma list of operationIds, or @FILE with one per line (`#` starts a comment)."""
    if value is None:
        return None
    text = value
    if value.startswith("@"):
        try:
            text = Path(value[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise click.BadParameter(
                f"cannot read {value[1:]} ({exc.strerror or type(exc).__name__})", param_hint="--uses"
            ) from None
    names = {part.split("#", 1)[0].strip() for line in text.splitlines() for part in line.split(",")}
    names.discard("")
    if not names:
        raise click.BadParameter("names no operationId", param_hint="--uses")
    return names


@click.command("upgrade")
@click.argument("from_ref", metavar="FROM")
@click.argument("to_ref", metavar="TO")
@click.option(
    "--matrix-dir",
    default="reports",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where a release or minor given as FROM or TO finds its matrix run (MATRIX_DIR/runs/<V>/results.json) "
    "and the client table (MATRIX_DIR/compatibility.json).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="What to print: text, md (Markdown), json (the whole document), html (the page).",
)
@click.option("--brief", is_flag=True, help="Print only the first screen (the headline items), not the details.")
@click.option(
    "--uses",
    metavar="OPS|@FILE",
    default=None,
    help="The operationIds of FROM your client calls (comma list, or @FILE with one per line): removed, "
    "renamed and changed operations, fields and behaviour are limited to them.",
)
@click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write <FROM>-to-<TO>.html, .md and .json here.",
)
def upgrade(
    from_ref: str, to_ref: str, matrix_dir: Path, fmt: str, brief: bool, uses: str | None, out_dir: Path | None
) -> int:
    """What a client of FROM meets on TO, headline facts first: API generation, authentication, error
    conventions, operations removed, renamed (paired, with how) and added, fields removed, renamed or
    retyped, behaviour the runs observed changing, known deviations met and gone, and which official
    clients read TO's answers; then the details, each with its evidence (a curl or a spec excerpt).

    FROM and TO are releases of the matrix (2.10.5), minors (2.10: the matrix's release of that minor),
    run folders (2.10.5-postgres), or results.json files and report folders of any run (e.g. of
    `run --target`). Sends no request.
    """
    from conformance.matrix import upgrade_pages, upgrade_report  # noqa: PLC0415

    wanted = _uses(uses)
    doc = upgrade_pages.document(from_ref, to_ref, matrix_dir, wanted)
    if wanted is not None:
        unknown = sorted(wanted - _operations_of(doc["from"]["reference_spec"]))
        if unknown:
            raise click.BadParameter(
                f"not operations of the {doc['from']['reference_spec']} spec: {', '.join(unknown[:5])}",
                param_hint="--uses",
            )
    if fmt == "text":
        click.echo(upgrade_report.render_text(doc, details=not brief), nl=False)
    elif fmt == "md" and brief:
        click.echo(upgrade_report.render_markdown(doc).split(f"### {upgrade_report.DETAILS}")[0].rstrip())
    else:
        click.echo(upgrade_report.RENDER[fmt](doc), nl=False)
    if out_dir is not None:
        for path in upgrade_report.write(doc, out_dir):
            click.echo(str(path), err=True)
    return 0


def _operations_of(spec_version: str) -> set[str]:
    from conformance.specs.catalog import load_spec, operations  # noqa: PLC0415

    return {op.operation_id for op in operations(load_spec(spec_version))}
