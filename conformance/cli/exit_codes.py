"""The exit codes as every command's `--help` shows them.

A CI job reads nothing but the exit code, so each command says at its foot what
the codes mean (README.md and docs/cli.md say the same, in full). The numbers
come from `conformance.errors.ExitCode`, so help and behaviour cannot drift apart.
"""

from __future__ import annotations

import click

from conformance.errors import ExitCode

_USAGE = "usage or configuration error: one line, no traceback"
_INCOMPLETE = "could not finish: internal error, interrupted, target died"
RUN_CODES = {
    ExitCode.CONFORMANT: "conformant",
    ExitCode.NOT_CONFORMANT: "not conformant: a check failed or was not decided",
    ExitCode.USAGE: _USAGE + "; bad input is refused before any request",
    ExitCode.INCOMPLETE: _INCOMPLETE + ", objects left behind, reports written elsewhere",
    ExitCode.SELECTED_NOTHING: "selected nothing: -k / --only matched no check; no verdict, no report written",
}
OTHER_CODES = {
    ExitCode.CONFORMANT: "done, nothing wrong found",
    ExitCode.NOT_CONFORMANT: "a problem found (a failing check, deviation, reading or release)",
    ExitCode.USAGE: _USAGE,
    ExitCode.INCOMPLETE: _INCOMPLETE,
}
PYTEST_ROUTE = (
    "pytest --pyargs conformance exits with the same codes; 5 is also pytest's own 'no tests collected', "
    "4 its usage error for its own flags."
)


def _table(title: str, codes: dict[ExitCode, str]) -> str:
    rows = "\n".join(f"  {int(code)}  {text}" for code, text in codes.items())
    return f"\b\n{title}:\n{rows}"  # \b: click keeps these lines as they are


EPILOG = _table("Exit codes", OTHER_CODES)
RUN_EPILOG = _table("Exit codes", RUN_CODES) + "\n\n" + PYTEST_ROUTE
GROUP_EPILOG = _table("Exit codes of run", RUN_CODES) + "\n\n" + _table("Of the other commands", OTHER_CODES)


def add_epilogs(command: click.Command) -> None:
    """Give `command` and its sub-commands the exit-code table at the foot of their --help (unless they have one)."""
    if not command.epilog:
        command.epilog = EPILOG
    for sub in getattr(command, "commands", {}).values():
        add_epilogs(sub)
