"""`airflow-conformance specs`: the reference OpenAPI specs per Airflow release."""

from __future__ import annotations

import json
from pathlib import Path

import click

from conformance.errors import ConfigError


@click.group()
def specs() -> None:
    """Reference OpenAPI specs per Airflow release (list, fetch, diff)."""


@specs.command("list")
def list_cmd() -> None:
    """Versions with a reference spec here: operations, API generation and source."""
    from conformance.specs import catalog  # noqa: PLC0415

    found = catalog.sources()
    if not found:
        raise ConfigError(f"no reference specs found in {catalog.bundled_dir()} or {catalog.cache_specs_dir()}")
    click.echo(f"{'VERSION':<10} {'OPERATIONS':>10}  {'API':<3}  SOURCE")
    for version in catalog.available_versions():
        source, _path = found[version]
        spec = catalog.load_spec(version)
        count = len(catalog.operations(spec))
        click.echo(f"{version:<10} {count:>10}  {catalog.api_generation(spec):<3}  {source}")


@specs.command("fetch")
@click.argument("versions", nargs=-1, metavar="[VERSION]...")
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write here and update its lock.json (default: the user cache).",
)
def fetch_cmd(versions: tuple[str, ...], dest: Path | None) -> None:
    """Extract specs from the Airflow release wheels.

    With no VERSION: every locked version that has no spec on this machine.
    """
    from conformance.specs import catalog  # noqa: PLC0415

    if not versions:
        have = set(catalog.available_versions())
        versions = tuple(v for v in catalog.locked_versions() if v not in have)
        if not versions:
            click.echo("every locked version is already available; nothing to fetch")
            return
    for version in versions:
        path = catalog.fetch(version, dest)
        ops = len(catalog.operations(json.loads(path.read_text(encoding="utf-8"))))
        click.echo(f"{version}: {ops} operations -> {path}")


@specs.command("diff")
@click.argument("version_a", metavar="A")
@click.argument("version_b", metavar="B")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def diff_cmd(version_a: str, version_b: str, as_json: bool) -> None:
    """What changed in the REST API contract from Airflow A to Airflow B."""
    from conformance.specs import catalog  # noqa: PLC0415
    from conformance.specs.diff import diff_specs, format_text, to_dict  # noqa: PLC0415

    resolved = []
    for version in (version_a, version_b):
        ref = catalog.reference_version_for(version)
        if ref != version:
            click.echo(f"using the reference spec of {ref} for Airflow {version}", err=True)
        resolved.append(ref)
    diff = diff_specs(catalog.load_spec(resolved[0]), catalog.load_spec(resolved[1]))
    if as_json:
        click.echo(json.dumps(to_dict(diff), indent=2))
    else:
        click.echo(format_text(diff), nl=False)
