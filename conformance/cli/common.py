"""Flag types shared by several commands."""

from __future__ import annotations

import click

from conformance.options import KINDS


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
