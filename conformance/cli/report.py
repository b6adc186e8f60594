"""`airflow-conformance report RESULTS.json [--out DIR]`: every report of a run, again, from its results.json.

A run's results.json is its record; junit.xml, report.html and summary.md are renderings of it. Rendering
them again needs no Airflow: after a suite upgrade improved the pages, for a run collected on another
machine, or for a published matrix run that predates a report file. A matrix run folder's second passes
(auth-default/, disruptive/) are merged in as the matrix merges them, so summary.md and the matrix give
the same verdict for the same run; the run's own results.json is never rewritten with that merge.
"""

from __future__ import annotations

import json
from pathlib import Path

import click


def _load(path: Path) -> dict:
    """The content of a results.json of this suite; BadParameter (exit 2, one line) for anything else."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path} ({exc.strerror or type(exc).__name__})") from None
    except ValueError as exc:
        raise click.BadParameter(
            f"{path} is not JSON ({exc.__class__.__name__} at line {getattr(exc, 'lineno', '?')})"
        ) from None
    import jsonschema  # noqa: PLC0415

    from conformance.reporting.results import schema  # noqa: PLC0415

    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema()).iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise click.BadParameter(f"{path} is not a results.json of this suite: {where}: {error.message[:160]}")
    return data


@click.command("report")
@click.argument("results", metavar="RESULTS.json", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the four files (default: the folder of RESULTS.json, whose results.json is kept as is).",
)
@click.option(
    "--no-passes", is_flag=True, help="Render RESULTS.json alone, without the matrix's second passes stored beside it."
)
def report(results: Path, out_dir: Path | None, no_passes: bool) -> int:
    """Render results.json, junit.xml, report.html and summary.md from a run's results.json (or its folder).

    Sends no request. Where RESULTS.json lies in a matrix run folder with second passes (auth-default/,
    disruptive/), the checks they decided are merged in, as the matrix shows them (--no-passes: not).
    """
    from conformance.matrix import passes  # noqa: PLC0415
    from conformance.reporting.outputs import ensure_writable  # noqa: PLC0415
    from conformance.reporting.writer import render_all, write_texts  # noqa: PLC0415

    source = results / "results.json" if results.is_dir() else results
    data = _load(source)
    shown = data if no_passes else passes.merge_stored(data, source.parent)
    folder = ensure_writable(out_dir if out_dir is not None else source.parent, "--out")
    texts = render_all(shown)
    if folder.resolve() == source.parent.resolve():
        del texts["results.json"]  # the record stays what the run wrote
    else:
        texts["results.json"] = source.read_text(encoding="utf-8")
    for path in write_texts(folder, texts):
        click.echo(str(path))
    click.echo(
        f"verdict: {shown.get('verdict')}"
        + (f" (with the second passes {', '.join(shown['second_passes'])})" if shown.get("second_passes") else "")
    )
    return 0
