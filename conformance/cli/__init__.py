"""The `airflow-conformance` command line.

Each sub-command lives in its own module; this package only assembles them
and turns the suite's exceptions into the exit codes promised in the README
(2 for usage/configuration problems, 3 when the suite cannot finish: that
includes Ctrl-C or SIGTERM at any moment, provisioning and installs too).
"""

from __future__ import annotations

import signal
import sys
import threading

import click

from conformance import __version__
from conformance.cli.exit_codes import GROUP_EPILOG
from conformance.errors import ConformanceError, ExitCode

INTERRUPTED = INTERNAL = ExitCode.INCOMPLETE  # README: the suite could not finish (interrupted, internal error)


def _keep_traceback() -> str:
    """Write the current exception's traceback to a private file in the cache (it may name hosts or paths)."""
    import os  # noqa: PLC0415
    import time  # noqa: PLC0415
    import traceback  # noqa: PLC0415

    from conformance.paths import cache_dir  # noqa: PLC0415

    folder = cache_dir() / "errors"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(traceback.format_exc())
    return str(path)


def _terminate(signum, frame) -> None:
    """SIGTERM outside a run behaves like Ctrl-C: what was being started is stopped again, then exit 3."""
    raise KeyboardInterrupt


class _Group(click.Group):
    """A click group that never lets a traceback reach the user."""

    def main(self, *args, **kwargs):
        kwargs.setdefault("standalone_mode", False)
        if threading.current_thread() is threading.main_thread():  # a run installs its own and puts this back
            signal.signal(signal.SIGTERM, _terminate)
        try:
            rv = super().main(*args, **kwargs)
        except (click.exceptions.Abort, KeyboardInterrupt):
            click.echo("airflow-conformance: interrupted", err=True)
            sys.exit(INTERRUPTED)
        except click.ClickException as exc:  # usage errors: one line, exit 2
            click.echo(f"airflow-conformance: {exc.format_message()}", err=True)
            sys.exit(ExitCode.USAGE)
        except ConformanceError as exc:
            click.echo(f"airflow-conformance: {exc}", err=True)
            sys.exit(exc.exit_code)
        except Exception as exc:  # a defect of the suite: exit 3 as documented, the traceback kept in a file
            click.echo(
                f"airflow-conformance: internal error {type(exc).__name__}; details in {_keep_traceback()}", err=True
            )
            sys.exit(INTERNAL)
        if isinstance(rv, int):
            sys.exit(rv)
        sys.exit(0)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]}, epilog=GROUP_EPILOG)
@click.version_option(__version__, prog_name="airflow-conformance")
def main() -> None:
    """Check that an Apache Airflow deployment honours the REST API contract of its version."""


def _register() -> None:
    """Attach sub-commands; each module owns one area of the CLI."""
    from conformance.cli import catalog, cleanup, clients, compare, deviations, local, matrix, run, specs  # noqa: PLC0415
    from conformance.cli.blanks import refuse_empty_inputs  # noqa: PLC0415
    from conformance.cli.common import flags_from_env  # noqa: PLC0415
    from conformance.cli.exit_codes import add_epilogs  # noqa: PLC0415
    from conformance.cli.report import report  # noqa: PLC0415
    from conformance.cli.upgrade import upgrade  # noqa: PLC0415

    for cmd in local.COMMANDS:
        main.add_command(cmd)
    main.add_command(run.run)
    main.add_command(catalog.list_checks)
    main.add_command(cleanup.cleanup)
    main.add_command(matrix.matrix)
    main.add_command(compare.compare)
    main.add_command(upgrade)
    main.add_command(report)
    main.add_command(specs.specs)
    main.add_command(deviations.deviations)
    main.add_command(clients.clients)
    # the commands that run something against a target or a release take every flag from the environment too
    for cmd in (run.run, matrix.matrix, cleanup.cleanup, local.up, deviations.verify_cmd):
        flags_from_env(cmd)
    refuse_empty_inputs(main)  # after flags_from_env: it refuses the variables those flags read, when empty
    add_epilogs(main)


_register()
