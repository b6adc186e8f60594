"""`airflow-conformance clients`: the official Python clients and their reading of a recorded run."""

from __future__ import annotations

import json
from pathlib import Path

import click

from conformance.cli.common import echo_err
from conformance.clients.reading import ABSENT
from conformance.errors import ConfigError


@click.group("clients")
def clients() -> None:
    """Official apache-airflow-client releases: `list` them, `check` a run's cassette with them."""


@clients.command("list")
def list_cmd() -> None:
    """Published client releases, and which one `--client auto` picks for each supported Airflow release."""
    from conformance.clients import versions  # noqa: PLC0415
    from conformance.local import versions as airflow  # noqa: PLC0415

    click.echo("published: " + ", ".join(versions.PUBLISHED))
    click.echo(f"{'AIRFLOW':<9} {'AUTO':<8} NEIGHBOURS (matrix)")
    for release in airflow.supported():
        click.echo(f"{release:<9} {versions.matching(release) or '-':<8} {', '.join(versions.neighbours(release))}")


@clients.command("check")
@click.argument("cassette", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--client",
    "client",
    default="auto",
    show_default=True,
    metavar="auto|VERSION[,VERSION]",
    help="Client releases that read the answers (auto: the one matching the recorded server).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the readings as JSON.")
def check_cmd(cassette: Path, client: str, as_json: bool) -> int:
    """Let official clients read the answers recorded in CASSETTE (a run's cassette.json); no request is sent.

    Exit 0 when every answer a client read was parsed or refused as a known deviation, 1 otherwise.
    """
    from conformance.clients import versions  # noqa: PLC0415
    from conformance.clients.reading import read  # noqa: PLC0415
    from conformance.expectations import load as load_expectations  # noqa: PLC0415
    from conformance.http.cassette import read_file  # noqa: PLC0415

    try:
        data = read_file(cassette)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    server = str((data.get("target") or {}).get("airflow_version") or "")
    if not server:
        raise ConfigError(f"{cassette} does not say which Airflow answered (no target.airflow_version)")
    wanted, off = versions.resolve(client, server)
    if not wanted:
        raise ConfigError(off)
    readings = [read(v, data["entries"], load_expectations(server), echo_err).as_dict() for v in wanted]
    if as_json:
        click.echo(json.dumps(readings, indent=1, default=str))
    for r in readings:
        _echo(r, server, as_json)
    return 1 if any(r["error"] or r["failed"] for r in readings) else 0


def _echo(reading: dict, server: str, as_json: bool) -> None:
    say = echo_err if as_json else click.echo
    if reading["error"]:
        say(reading["error"])
        return
    say(
        f"apache-airflow-client {reading['client']} on Airflow {server}: {reading['answers']} answers, parsed "
        f"{reading['parsed']}, refused {reading['failed']}, known deviations {reading['excused']}, "
        f"not readable by it {reading['skipped']}"
    )
    for op, row in reading["operations"].items():
        for refusal in row["refusals"]:
            if not refusal["deviation"]:
                value = (
                    refusal["value"] if refusal["value"] == ABSENT else json.dumps(refusal["value"], default=str)[:120]
                )
                where = f"field {refusal['field']} = {value}: " if refusal["field"] else ""
                say(f"  {op}: HTTP {refusal['status']} into {refusal['model']}: {where}{refusal['error'][:300]}")
