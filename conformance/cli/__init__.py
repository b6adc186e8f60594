"""The `airflow-conformance` command line.

Each sub-command lives in its own module; this package only assembles them
and turns the suite's exceptions into the exit codes promised in the README
(2 for usage/configuration problems, 3 when the suite cannot finish).
"""

from __future__ import annotations

import sys

import click

from conformance import __version__
from conformance.errors import ConformanceError


class _Group(click.Group):
    """A click group that never lets a traceback reach the user."""

    def main(self, *args, **kwargs):  # type: ignore[override]
        kwargs.setdefault("standalone_mode", False)
        try:
            rv = super().main(*args, **kwargs)
        except click.exceptions.Abort:
            click.echo("airflow-conformance: interrupted", err=True)
            sys.exit(130)
        except click.ClickException as exc:  # usage errors: one line, exit 2
            click.echo(f"airflow-conformance: {exc.format_message()}", err=True)
            sys.exit(2)
        except ConformanceError as exc:
            click.echo(f"airflow-conformance: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("airflow-conformance: interrupted", err=True)
            sys.exit(130)
        if isinstance(rv, int):
            sys.exit(rv)
        sys.exit(0)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="airflow-conformance")
def main() -> None:
    """Check that an Apache Airflow deployment honours the REST API contract of its version.

    Exit codes: 0 conformant, 1 not conformant, 2 usage or configuration
    error, 3 the suite could not finish.
    """


def _register() -> None:
    """Attach sub-commands; each module owns one area of the CLI."""
    from conformance.cli import catalog, cleanup, compare, deviations, local, matrix, run, specs  # noqa: PLC0415

    for cmd in local.COMMANDS:
        main.add_command(cmd)
    main.add_command(run.run)
    main.add_command(catalog.list_checks)
    main.add_command(cleanup.cleanup)
    main.add_command(matrix.matrix)
    main.add_command(compare.compare)
    main.add_command(specs.specs)
    main.add_command(deviations.deviations)


_register()
