"""The exceptions that decide the process exit code.

The CLI contract promises exit 2 for usage/configuration problems and exit 3
when the suite itself cannot finish; raising one of these anywhere lets the
command layer print one plain line instead of a traceback.
"""

from __future__ import annotations


class ConformanceError(Exception):
    """Base class: carries the exit code the CLI should use."""

    exit_code = 3


class ConfigError(ConformanceError):
    """Bad flag, unreachable target, rejected credentials, unsupported version (exit 2)."""

    exit_code = 2


class SuiteError(ConformanceError):
    """The suite could not finish: internal error or target died mid-run (exit 3)."""

    exit_code = 3


class RequestRefused(Exception):
    """Raised instead of sending a request the profile does not allow (or, once interrupted, any request).

    Not a ConformanceError: a refusal is an outcome the tiers report (skipped, not sent), not a failure.
    """

    def __init__(self, reason: str, operation_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.operation_id = operation_id
