"""An empty value is a mistake, never "unset".

click (like most tools) takes `AIRFLOW_CONFORMANCE_TARGET=""` as if the
variable were not there, and `run` without a target provisions a local Airflow:
a CI job whose URL variable did not expand would then judge a throw-away local
server and report it conformant. So every command refuses, before it does
anything, an empty value of a flag it was given (`--target ""`) and of a
variable it would read (every `AIRFLOW_CONFORMANCE_<FLAG>` of a flag not given
on the command line, and the cache folder's `AIRFLOW_CONFORMANCE_CACHE`).
"""

from __future__ import annotations

import functools
import os

import click

CACHE_ENV = "AIRFLOW_CONFORMANCE_CACHE"  # read by conformance.paths for every command


def _blank(value: object) -> bool:
    return isinstance(value, str) and not value.strip()


def _given_empty(ctx: click.Context, param: click.Parameter) -> bool:
    """Whether the command line gave this flag an empty value (`--target ""`, `-H ""`)."""
    if ctx.get_parameter_source(param.name or "") != click.core.ParameterSource.COMMANDLINE:
        return False
    raw = ctx.params.get(param.name or "")
    return _blank(raw) or (isinstance(raw, (tuple, list)) and any(_blank(v) for v in raw))


def _variables(param: click.Parameter) -> list[str]:
    envvar = param.envvar
    return [envvar] if isinstance(envvar, str) else list(envvar or ())


def empty_inputs(ctx: click.Context) -> list[str]:
    """The flags given empty on the command line and the variables this command would read that are set but empty."""
    found: list[str] = []
    for param in ctx.command.params:
        if not isinstance(param, click.Option):
            continue
        if _given_empty(ctx, param):
            found.append(param.opts[-1] if param.opts else str(param.name))
        elif ctx.get_parameter_source(param.name or "") != click.core.ParameterSource.COMMANDLINE:
            found += [name for name in _variables(param) if name in os.environ and _blank(os.environ[name])]
    if CACHE_ENV in os.environ and _blank(os.environ[CACHE_ENV]):
        found.append(CACHE_ENV)
    return found


def refuse_empty_inputs(command: click.Command) -> click.Command:
    """Make `command` (and its sub-commands) a usage error (exit 2) on an empty flag or variable, before its body runs."""
    for sub in getattr(command, "commands", {}).values():
        refuse_empty_inputs(sub)
    body = command.callback
    if body is None or getattr(body, "refuses_empty_inputs", False):
        return command

    @functools.wraps(body)
    def checked(*args, **kwargs):
        empty = list(dict.fromkeys(empty_inputs(click.get_current_context())))
        if empty:
            verb = ("is" if len(empty) == 1 else "are") + ("" if all(n.startswith("-") for n in empty) else " set but")
            raise click.UsageError(
                f"{', '.join(empty)} {verb} empty; give a value, or leave it out (an empty value never means 'unset')"
            )
        return body(*args, **kwargs)

    checked.refuses_empty_inputs = True  # type: ignore[attr-defined]
    command.callback = checked
    return command
