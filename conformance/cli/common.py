"""Flag types and conventions shared by the commands.

One name per concept: `--target URL` is a deployed Airflow, `--airflow VERSION` a
release provisioned here, `--auth SPEC` the credentials, whatever the command;
the pytest plugin spells the same flags `--airflow-<name>`. Every flag of the
commands that run the suite can also come from `AIRFLOW_CONFORMANCE_<FLAG>`
(`--max-failures` -> `AIRFLOW_CONFORMANCE_MAX_FAILURES`); a flag on the command
line wins over the environment.
"""

from __future__ import annotations

import click

from conformance.local.target import DATABASES
from conformance.options import (
    DEFAULT_FAIL_ON,
    DEFAULT_REQUEST_TIMEOUT,
    KINDS,
    URL_ENV,
    env_name,
    parse_header,
    parse_role_assignment,
)

# option names that are mode switches of one invocation, never read from the environment
NOT_FROM_ENV = frozenset({"rebuild", "as_json", "ids", "help", "version"})


def parse_only(value: str | None) -> tuple[str, ...]:
    """`--only scenarios,posture` -> ("scenarios", "posture"); unknown kinds are a usage error."""
    if not value:
        return KINDS
    kinds = tuple(k.strip() for k in value.split(",") if k.strip())
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise click.BadParameter(
            f"unknown kind(s) {', '.join(bad)}; choose from {', '.join(KINDS)}", param_hint="--only"
        )
    return kinds


def check_page_limits(ctx, param, value: str | None) -> str | None:
    """`--page-limits 25,10`: two positive integers, else a usage error (exit 2) before anything runs."""
    if value is None:
        return None
    from conformance.expectations.page_limits import parse  # noqa: PLC0415

    try:
        parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return value


def check_fail_on(ctx, param, value: str | None) -> str:
    """`--fail-on server_error,contract_break` (or `all`): known failure classes, else a usage error (exit 2)."""
    from conformance.model.classes import parse_classes  # noqa: PLC0415

    text = DEFAULT_FAIL_ON if value is None else value
    try:
        parse_classes(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return text


def echo_err(message: str) -> None:
    click.echo(message, err=True)


class HeaderType(click.ParamType):
    """`-H "NAME: VALUE"` -> (NAME, VALUE). The value is a secret: no error message ever repeats it.

    From the environment, several headers are separated by newlines (a value may hold spaces).
    """

    name = "NAME:VALUE"
    envvar_list_splitter = "\n"

    def split_envvar_value(self, rv: str) -> list[str]:
        """One header per line; blank lines (a YAML block scalar ends with one) are no headers."""
        return [line for line in (rv or "").splitlines() if line.strip()]

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            return parse_header(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def env_names(param: click.Parameter) -> list[str]:
    """The environment variables a flag reads: AIRFLOW_CONFORMANCE_ + its long name (the target's older name too)."""
    longs = [o for o in param.opts if o.startswith("--")]
    name = env_name(longs[0] if longs else str(param.name))
    return list(URL_ENV) if name == URL_ENV[0] else [name]


def flags_from_env(command: click.Command) -> click.Command:
    """Let every flag of `command` (and of its sub-commands) come from AIRFLOW_CONFORMANCE_<FLAG>."""
    for param in command.params:
        if isinstance(param, click.Option) and param.name not in NOT_FROM_ENV and not param.envvar:
            param.envvar = env_names(param)
            param.show_envvar = True
    for sub in getattr(command, "commands", {}).values():
        flags_from_env(sub)
    return command


def _given(name: str) -> bool:
    """Whether flag `name` of the current command was on the command line (not a default, not the environment)."""
    return click.get_current_context().get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE


def exclusive(a: tuple[str, object], b: tuple[str, object], message: str) -> tuple:
    """Two flags that exclude each other: one on the command line wins over the other from the environment."""
    (name_a, value_a), (name_b, value_b) = a, b
    if value_a and value_b:
        if _given(name_a) != _given(name_b):
            return (value_a, None) if _given(name_a) else (None, value_b)
        raise click.UsageError(message)
    return value_a, value_b


def transport_flags(command):
    """-H, --tls-verify/--no-tls-verify, --cacert, --request-timeout: how requests reach a target."""
    for option in reversed(
        (
            click.option(
                "-H",
                "--header",
                "header",
                type=HeaderType(),
                multiple=True,
                help="Extra header for every request, e.g. a gateway's key (repeatable; the value is "
                "treated as a secret and shown as ***).",
            ),
            click.option(
                "--tls-verify/--no-tls-verify",
                default=True,
                show_default=True,
                help="Check the target's TLS certificate.",
            ),
            click.option(
                "--cacert",
                type=click.Path(exists=True, dir_okay=False),
                metavar="FILE",
                help="CA bundle (PEM) the target's certificate is checked against.",
            ),
            click.option(
                "--request-timeout",
                type=click.FloatRange(1, 3600),
                default=DEFAULT_REQUEST_TIMEOUT,
                show_default=True,
                metavar="SECONDS",
                help="How long one request may take.",
            ),
        )
    ):
        command = option(command)
    return command


def transport_settings(header=(), tls_verify=True, cacert=None, request_timeout=DEFAULT_REQUEST_TIMEOUT) -> dict:
    """The RunOptions fields of the transport flags."""
    return {"headers": tuple(header), "tls_verify": tls_verify, "cacert": cacert, "request_timeout": request_timeout}


def database_option(help_text: str, default: str | None = "sqlite"):
    """--database sqlite|postgres (env AIRFLOW_CONFORMANCE_DATABASE), shared by up, down, run and matrix.

    `default=None` is for commands that act on a target already running (run, down): without the
    flag they find the release's running target, so `up --database postgres` then `run --local V`
    reaches the PostgreSQL target instead of starting a second one on SQLite.
    """
    return click.option(
        "--database",
        "database",
        type=click.Choice(DATABASES),
        default=default,
        show_default=default is not None,
        envvar=env_name("database"),
        show_envvar=True,
        help=help_text,
    )


def parse_roles(ctx, param, values) -> dict[str, str]:
    """`--auth-role Viewer=env:V --auth-role op=jwt:op:PW` -> {"Viewer": "env:V", "op": "jwt:op:PW"}."""
    roles: dict[str, str] = {}
    for value in values or ():
        try:
            role, spec = parse_role_assignment(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--auth-role") from None
        roles[role] = spec
    return roles
