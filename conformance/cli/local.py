"""`up`, `down`, `status` and `probe-dags`: real Airflow targets on this machine.

Output on stdout is the target (URL, API generation, version, redacted auth
spec) so a script can read it; progress goes to stderr. Passwords are never
printed: they stay in a mode-600 file in the target's home.
"""

from __future__ import annotations

import time
from pathlib import Path

import click
import requests

from conformance.cli.common import database_option
from conformance.errors import ConfigError, ExitCode
from conformance.local import instance
from conformance.local.home import SECRETS_FILE
from conformance.local.target import DATABASE_LABELS, LocalTarget
from conformance.local.versions import NEWEST, resolve, supported
from conformance.probes import dags as probe_dag_files
from conformance.target import health


def _progress(msg: str) -> None:
    click.echo(f"airflow-conformance: {msg}", err=True)


def _print_target(target: LocalTarget) -> None:
    click.echo(f"url:      {target.url}")
    click.echo(f"api:      {target.api} ({target.api_root})")
    click.echo(f"version:  {target.version}")
    click.echo(f"database: {_database_text(target)}")
    click.echo(
        f"auth:     {target.redacted_auth_spec}"
        + (
            "  (--auth-config default: the API refuses every credential)"
            if target.auth_config == "default" and target.api == "v1"
            else ""
        )
    )
    if target.roles:
        click.echo(
            "roles:    " + ", ".join(f"{role} ({a['kind']}:{a['user']}:***)" for role, a in target.roles.items())
        )
    if target.settings:  # names only: a value may be a secret (a connection URL, a key)
        click.echo("settings: " + ", ".join(sorted(target.settings)))
    click.echo(f"home:     {target.home}")
    click.echo(
        f"hint:     passwords in {Path(target.home) / SECRETS_FILE}; run the suite with "
        f"`airflow-conformance run --local {target.version}{_flag(target)}`; stop with "
        f"`airflow-conformance down --airflow {target.version}{_flag(target)}`"
    )


def _flag(target: LocalTarget) -> str:
    return "" if target.database == "sqlite" else f" --database {target.database}"


def _database_text(target: LocalTarget) -> str:
    """ "SQLite" or "PostgreSQL on 127.0.0.1:PORT" (never the connection URL: it holds the password)."""
    label = DATABASE_LABELS.get(target.database, target.database)
    port = (target.db_server or {}).get("port")
    return f"{label} on 127.0.0.1:{port}" if port else label


def running_database(version: str, database: str | None) -> str:
    """The database of the target `version` to act on: the one asked for, else the one already running, else SQLite.

    Two running targets of the release (SQLite and PostgreSQL) are ambiguous: one clear line, exit 2.
    """
    if database is not None:
        return database
    found = _running_of(version)
    if len(found) > 1:
        raise ConfigError(
            f"Airflow {version} runs on {' and '.join(t.database for t in found)}; pass --database to say which target"
        )
    return found[0].database if found else "sqlite"


def _running_of(version: str) -> list[LocalTarget]:
    wanted = resolve(version).version  # '3.3' and '3.3.2' name the same target
    return [t for t in instance.running() if t.version == wanted]


@click.command()
@click.option(
    "--airflow",
    "version",
    default=NEWEST,
    show_default=True,
    metavar="VERSION",
    help=f"Airflow release to start ({', '.join(supported())}).",
)
@click.option(
    "--port", type=int, default=None, help="Port on 127.0.0.1 (default: a fixed port per release, else a free one)."
)
@click.option(
    "--python",
    "python",
    default=None,
    metavar="PATH",
    help="Interpreter for the release's venv (default: pythonX.Y on PATH, then pyenv).",
)
@click.option(
    "--auth-config",
    type=click.Choice(instance.AUTH_CONFIGS),
    default="conformance",
    show_default=True,
    help="'default' keeps Airflow's own API auth settings (2.0-2.2: deny_all).",
)
@database_option(
    "Metadata database: Airflow's SQLite file, or a PostgreSQL server of the target's own "
    "(from the pgserver wheel on PyPI; stopped by `down`)."
)
@click.option(
    "--setting",
    "settings",
    multiple=True,
    metavar="SECTION.KEY=VALUE",
    help="An Airflow option for every component, over the home's own (repeatable), e.g. "
    "api_auth.jwt_expiration_time=60. A running target keeps its settings: `down` it first.",
)
def up(
    version: str, port: int | None, python: str | None, auth_config: str, database: str, settings: tuple[str, ...]
) -> None:
    """Start a real local Airflow of VERSION and print how to reach it."""
    started = time.monotonic()
    target = instance.start(
        version,
        port=port,
        python=python,
        auth_config=auth_config,
        database=database,
        progress=_progress,
        settings=airflow_options(settings),
    )
    _progress(f"up took {time.monotonic() - started:.1f} s")
    _print_target(target)


def airflow_options(pairs: tuple[str, ...]) -> dict[str, str]:
    """`section.key=value` pairs as the AIRFLOW__SECTION__KEY variables Airflow reads; a malformed one is exit 2."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        section, dot, key = name.strip().partition(".")
        if (
            not sep
            or not dot
            or not section
            or not key
            or not all(p.replace("_", "").isalnum() for p in (section, key))
        ):
            raise ConfigError(
                f"--setting {pair.split('=', 1)[0]!r}: expected SECTION.KEY=VALUE, e.g. api_auth.jwt_expiration_time=60"
            )
        out[f"AIRFLOW__{section.upper()}__{key.upper()}"] = value
    return out


@click.command()
@click.option("--airflow", "version", default=None, metavar="VERSION", help="Release to stop.")
@click.option("--all", "stop_all", is_flag=True, help="Stop every local target.")
@database_option(
    "With --airflow: which target of the release to stop (a PostgreSQL target's server stops too; "
    "default: every running target of the release).",
    default=None,
)
def down(version: str | None, stop_all: bool, database: str | None) -> None:
    """Stop local Airflow targets started by `up` (by recorded process group and PID, never by name)."""
    if version and stop_all:
        raise ConfigError("pass either --airflow VERSION or --all, not both")
    targets = instance.running()
    if stop_all:
        chosen = [(t.version, t.database) for t in targets]
    elif version and database:
        chosen = [(version, database)]
    elif version:
        chosen = [(t.version, t.database) for t in _running_of(version)] or [(version, "sqlite")]
    elif len(targets) <= 1:
        chosen = [(t.version, t.database) for t in targets]
    else:
        raise ConfigError(
            f"several local targets are running ({', '.join(t.key for t in targets)}); "
            "pass --airflow VERSION (and --database) or --all"
        )
    if not chosen:
        click.echo("no local Airflow targets running")
        return
    for v, db in chosen:
        label = f"Airflow {v}" + ("" if db == "sqlite" else f" on {DATABASE_LABELS[db]}")
        click.echo(f"stopped {label}" if instance.stop(v, db) else f"{label} is not running")


@click.command()
def status() -> None:
    """List running local targets (credentials redacted) and whether each is healthy.

    STATE is "ready" only when the target's own health endpoint reports no component unhealthy
    (scheduler, DAG processor, triggerer, metadata database); exit 1 when one is.
    """
    targets = instance.running()
    if not targets:
        click.echo("no local Airflow targets running")
        return
    states = {t.key: _state(t) for t in targets}
    rows = [("VERSION", "DATABASE", "URL", "API", "AUTH", "STATE", "STARTED")]
    rows += [
        (t.version, _database_text(t), t.url, t.api, t.redacted_auth_spec, states[t.key], t.started_at) for t in targets
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    if any(state.startswith(UNHEALTHY) for state in states.values()):
        raise click.exceptions.Exit(int(ExitCode.NOT_CONFORMANT))


UNHEALTHY = "unhealthy"


def _state(target: LocalTarget) -> str:
    """ "starting", "ready", or what the target's own health endpoint says is not running."""
    if not target.ready:
        return "starting"
    found = health.read(requests.Session(), health.url_of(target.url, target.api), timeout=5.0)
    if found.problem:
        return f"not answering ({found.problem})"
    return f"{UNHEALTHY}: {found.describe_unhealthy()}" if found.unhealthy else "ready"


@click.group("probe-dags")
def probe_dags_group() -> None:
    """The suite's probe DAG files (deploy them into a target's DAGs folder)."""


@probe_dags_group.command("install")
@click.argument("dest", metavar="DIR")
@click.option(
    "--airflow",
    "version",
    default=NEWEST,
    show_default=True,
    metavar="VERSION",
    help="Airflow release of the target (only the major matters).",
)
def install(dest: str, version: str) -> None:
    """Copy the probe DAGs for VERSION's major into DIR (an existing DAGs folder)."""
    for path in probe_dag_files.install(dest, version):
        click.echo(str(path))


probe_dags = probe_dags_group  # the name COMMANDS exports

COMMANDS = [up, down, status, probe_dags]
