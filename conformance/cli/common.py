"""Flag types shared by several commands."""

from __future__ import annotations

import click

from conformance.options import KINDS, parse_role_assignment


def parse_only(value: str | None) -> tuple[str, ...]:
    """`--only scenarios,posture` -> ("scenarios", "posture"); unknown kinds are a usage error."""
    if not value:
        return KINDS
    kinds = tuple(k.strip() for k in value.split(",") if k.strip())
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise click.BadParameter(f"unknown kind(s) {', '.join(bad)}; choose from {', '.join(KINDS)}", param_hint="--only")
    return kinds


def echo_err(message: str) -> None:
    click.echo(message, err=True)


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
