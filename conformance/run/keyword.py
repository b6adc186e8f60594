"""A `-k` expression is checked before the run starts.

pytest parses `-k` only when it deselects, after the session has begun: by then
the target has been contacted, and a run that ends there would overwrite the
reports of the last good run with an empty one. The same parser, called first,
turns a malformed expression into a usage error (exit 2) before any of that.
"""

from __future__ import annotations

import re

from conformance.errors import ConfigError

# an identifier directly followed by `(`: pytest's keyword-argument syntax, which `-k` (unlike `-m`) refuses
_CALL = re.compile(r"(?<![\w:+\-.\[\]\\/])([\w:+\-.\[\]\\/]+)\s*\(")
_OPERATORS = frozenset({"and", "or", "not"})


def check_keyword(expression: str | None) -> None:
    """ConfigError when pytest would refuse `expression` as a `-k` expression; None and "" select everything."""
    if not expression:
        return
    from _pytest.mark.expression import Expression  # noqa: PLC0415 - pytest's own parser, so both agree

    try:
        Expression.compile(expression)
    except SyntaxError as exc:  # pytest >= 8.4
        raise ConfigError(f"-k {expression!r}: at column {exc.offset}: {exc.msg}") from None
    except Exception as exc:  # older pytest raises its ParseError (column, message)
        column, message = getattr(exc, "column", None), getattr(exc, "message", None)
        if column is None or message is None:
            raise
        raise ConfigError(f"-k {expression!r}: at column {column}: {message}") from None
    for found in _CALL.finditer(expression):
        if found.group(1).lower() not in _OPERATORS:
            raise ConfigError(
                f"-k {expression!r}: keyword expressions take no call parameters "
                f"({found.group(1)}(...)); match names only"
            )
