"""The `airflow-conformance` command line.

Each sub-command lives in its own module; this package only assembles them
(importing a module when its command is first asked for) and turns the
suite's exceptions into the exit codes promised in the README (2 for
usage/configuration problems, 3 when the suite cannot finish: that includes
Ctrl-C or SIGTERM at any moment, provisioning and installs too).
"""

from __future__ import annotations

import functools
import importlib
import signal
import sys
import threading
from collections.abc import Iterator, MutableMapping

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


# Every sub-command: its name -> the module and attribute that define it. A module is imported only when its
# command is asked for (invoked, or listed by the group's --help): each brings its own dependencies (pytest,
# schemathesis, requests, ...), and a command that needs none of them should not wait for them.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "cleanup": ("conformance.cli.cleanup", "cleanup"),
    "clients": ("conformance.cli.clients", "clients"),
    "compare": ("conformance.cli.compare", "compare"),
    "deviations": ("conformance.cli.deviations", "deviations"),
    "down": ("conformance.cli.local", "down"),
    "list": ("conformance.cli.catalog", "list_checks"),
    "matrix": ("conformance.cli.matrix", "matrix"),
    "probe-dags": ("conformance.cli.local", "probe_dags"),
    "report": ("conformance.cli.report", "report"),
    "run": ("conformance.cli.run", "run"),
    "specs": ("conformance.cli.specs", "specs"),
    "status": ("conformance.cli.local", "status"),
    "up": ("conformance.cli.local", "up"),
    "upgrade": ("conformance.cli.upgrade", "upgrade"),
}
# the commands that run something against a target or a release take every flag from the environment too
# (a path: a command, then the sub-command of its group)
FLAGS_FROM_ENV = (("run",), ("matrix",), ("cleanup",), ("up",), ("deviations", "verify"))


def _prepared(name: str, command: click.Command) -> click.Command:
    """A sub-command as the group serves it: flags from the environment where promised, empty values refused
    (after flags_from_env: it refuses the variables those flags read, when empty), exit codes at its foot."""
    from conformance.cli.blanks import refuse_empty_inputs  # noqa: PLC0415
    from conformance.cli.common import flags_from_env  # noqa: PLC0415
    from conformance.cli.exit_codes import add_epilogs  # noqa: PLC0415

    for first, *rest in FLAGS_FROM_ENV:
        if first == name:
            flags_from_env(functools.reduce(_sub_command, rest, command))
    refuse_empty_inputs(command)
    add_epilogs(command)
    return command


def _sub_command(group: click.Command, name: str) -> click.Command:
    return group.commands[name]  # type: ignore[attr-defined]


class LazyCommands(MutableMapping[str, click.Command]):
    """The group's `commands`: every name of SUBCOMMANDS from the start (so --help and a typo's message know
    them all), each command imported and prepared on first access; a command added later is kept as given."""

    def __init__(self, where: dict[str, tuple[str, str]]) -> None:
        self._where = dict(where)
        self._ready: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._ready:
            module, attribute = self._where[name]  # KeyError for an unknown name, as a dict gives
            self._ready[name] = _prepared(name, getattr(importlib.import_module(module), attribute))
        return self._ready[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._where.pop(name, None)
        self._ready[name] = command

    def __delitem__(self, name: str) -> None:
        if self._where.pop(name, None) is None:
            del self._ready[name]
        else:
            self._ready.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self._where, *self._ready]))

    def __len__(self) -> int:
        return len(set(self._where) | set(self._ready))


def _register() -> None:
    """Attach the sub-commands, lazily; each module owns one area of the CLI."""
    from conformance.cli.blanks import refuse_empty_inputs  # noqa: PLC0415

    refuse_empty_inputs(main)  # the group's own check (the cache folder's variable), before any sub-command's
    main.commands = LazyCommands(SUBCOMMANDS)


_register()
