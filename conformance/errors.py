"""The exit codes of the command line, and the exceptions that decide them.

The CLI contract promises exit 2 for usage/configuration problems and exit 3
when the suite itself cannot finish; raising one of these anywhere lets the
command layer print one plain line instead of a traceback. The codes are a
public interface (CI gates read them), so they live in one Enum here.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a command's exit status means; the same numbers on the pytest route (`pytest --pyargs conformance`).

    5 is pytest's own "no tests collected", so a selection that matches nothing reads the same on both
    routes; 4 stays pytest's "usage error" (its own flags) and is never used by `airflow-conformance`.
    """

    CONFORMANT = 0  # also: the command did what it was asked
    NOT_CONFORMANT = 1  # a check failed or could not be decided, or a command found a problem
    USAGE = 2  # bad flag, bad environment value, unreachable target, refused credentials: one line
    INCOMPLETE = 3  # the suite could not finish: internal error, interrupted, target died, reports not where asked
    SELECTED_NOTHING = 5  # `-k` / `--only` left no check to run: no verdict, no report written


class ConformanceError(Exception):
    """Base class: carries the exit code the CLI should use."""

    exit_code: int = ExitCode.INCOMPLETE


class ConfigError(ConformanceError):
    """Bad flag, unreachable target, rejected credentials, unsupported version (exit 2)."""

    exit_code = ExitCode.USAGE


class SuiteError(ConformanceError):
    """The suite could not finish: internal error or target died mid-run (exit 3)."""

    exit_code = ExitCode.INCOMPLETE


class SelectedNothing(ConformanceError):
    """The selection (`-k`, `--only`) matched no check: there is nothing to judge, so no verdict (exit 5)."""

    exit_code = ExitCode.SELECTED_NOTHING


class RequestRefused(Exception):
    """Raised instead of sending a request the profile does not allow (or, once interrupted, any request).

    Not a ConformanceError: a refusal is an outcome the tiers report (skipped, not sent), not a failure.
    """

    def __init__(self, reason: str, operation_id: str | None = None, code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.operation_id = operation_id
        self.code = code  # a ReasonCode value (conformance.model.reasons) where the refusal has a narrower one
