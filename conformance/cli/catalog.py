"""`airflow-conformance list`: every check, from the checks' own metadata and the response-check registry."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click

from conformance.checks.metadata import Meta
from conformance.checks.registry import check_names, must_of
from conformance.errors import ConfigError

# the page that holds the generated table (the documented target of --update-readme, and what a test compares)
CHECKS_PAGE = "docs/checks.md"
CHECKS_BEGIN = f"<!-- checks:begin (generated: airflow-conformance list --update-readme {CHECKS_PAGE}) -->"
CHECKS_END = "<!-- checks:end -->"
# any begin marker, whatever command it names (a file made when the table lived in the README keeps working)
BEGIN_MARKER = re.compile(r"<!-- checks:begin\b[^>]*-->")


def _versions(meta: Meta) -> str:
    if meta.since and meta.until:
        return f"{meta.since} – <{meta.until}"
    if meta.since:
        return f"≥ {meta.since}"
    if meta.until:
        return f"< {meta.until}"
    return "all"


def markdown_table(checks: dict[str, Meta]) -> str:
    """The checks table of docs/checks.md; a test keeps that page in step with this output."""
    lines = ["| id | kind | title | versions | tier | MUST |", "|---|---|---|---|---|---|"]
    for meta in checks.values():
        lines.append(f"| `{meta.id}` | {meta.kind} | {meta.title} | {_versions(meta)} | {meta.tier} | {meta.must} |")
    lines.append("")
    lines.append(
        "Property tests add one check per operationId of the target's reference spec (`property.<operationId>`); "
        "each judges every answer with these response checks (named in results.json `checks` and in "
        "known deviations):"
    )
    lines.append("")
    lines += ["| response check | MUST |", "|---|---|"]
    lines += [f"| `{name}` | {must_of(name)} |" for name in response_checks()]
    lines.append("")
    lines.append(
        "The authorization tier adds one check per operationId (`authorization.<operationId>`): it MUST let "
        "through exactly the built-in roles the release grants the operation's permission, refuse the others "
        "with 403 and the release's error body without changing anything, and refuse a request without "
        "credentials with 401 unless the operation is public (see [Who may do what](authorization.md))."
    )
    return "\n".join(lines)


def response_checks() -> list[str]:
    """Every check a result or a deviation may name: the registry's, schemathesis', the engine's and the chains'."""
    return sorted(check_names())


def update_table(path: Path, checks: dict[str, Meta]) -> None:
    """Rewrite the generated checks table between the markers of `path` (docs/checks.md)."""
    text = path.read_text(encoding="utf-8")
    begin = BEGIN_MARKER.search(text)
    end = text.find(CHECKS_END, begin.end()) if begin else -1
    if begin is None or end < 0:
        raise ConfigError(f"{path} has no generated checks section ({CHECKS_BEGIN} ... {CHECKS_END})")
    path.write_text(f"{text[: begin.end()]}\n{markdown_table(checks)}\n{text[end:]}", encoding="utf-8")


def print_effects(versions: tuple[str, ...], fmt: str) -> None:
    """The effects table of each release's reference spec: every effect with its class and observation, then the counts."""
    from conformance.specs.catalog import load_spec, reference_version_for  # noqa: PLC0415
    from conformance.specs.effects import effects_of, summary  # noqa: PLC0415

    out: dict[str, dict[str, Any]] = {}
    for version in versions:
        table = effects_of(load_spec(reference_version_for(version)))
        out[version] = {"summary": summary(table), "effects": [e.as_dict() for e in table]}
        if fmt == "json":
            continue
        for e in table:
            field = f" ({e.field})" if e.field and e.field != e.parameter else ""
            click.echo(
                f"{version}  {e.operation_id:<42} {e.location:<5} {e.parameter + field:<40} "
                f"{e.effect_class.value:<10} {e.observation.value:<14} {e.reason}"
            )
        figures = out[version]["summary"]
        click.echo(
            f"Airflow {version}: {figures['documented']} documented effects: {figures['checked']} checked, "
            f"{figures['not_observable']} not observable (with the reason), {figures['unchecked']} unchecked"
        )
    if fmt == "json":
        click.echo(json.dumps(out, indent=2))


def print_writes(paths: tuple[Path, ...], fmt: str) -> None:
    """Per release, the write operations none of the given runs got a 2xx from, with the reason (from data)."""
    from conformance.reporting.effects import writes_without_2xx  # noqa: PLC0415
    from conformance.specs.catalog import load_spec, reference_version_for  # noqa: PLC0415

    by_version: dict[str, list[dict]] = {}
    for path in paths:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            version = doc["target"]["airflow_version"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{path} is not a results.json of a run ({type(exc).__name__})") from exc
        by_version.setdefault(version, []).append(doc)
    out = {v: writes_without_2xx(load_spec(reference_version_for(v)), runs) for v, runs in by_version.items()}
    if fmt == "json":
        click.echo(json.dumps(out, indent=2))
        return
    for version, rows in out.items():
        if fmt == "markdown":
            click.echo(f"\n**Airflow {version}**: {len(rows)} write operations without a 2xx\n")
            click.echo("| operation | request | reason | why | answered |\n|---|---|---|---|---|")
            for r in rows:
                answered = ", ".join(f"{k}×{n}" for k, n in r["statuses"].items()) or "not sent"
                click.echo(
                    f"| `{r['operation_id']}` | `{r['method']} {r['path']}` | {r['reason_code']} | {r['reason']} "
                    f"| {answered} |"
                )
            continue
        for r in rows:
            click.echo(f"{version}  {r['operation_id']:<38} {r['method']:<6} {r['reason_code']:<14} {r['reason']}")
        click.echo(
            f"Airflow {version}: {len(rows)} write operations without a 2xx in {len(by_version[version])} run(s)"
        )


@click.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True)
@click.option(
    "--update-readme",
    "readme",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Rewrite the generated checks table between the markers in FILE ({CHECKS_PAGE}) instead of printing.",
)
@click.option(
    "--effects",
    "effects",
    metavar="VERSION",
    multiple=True,
    help="Print the documented effects of VERSION's reference spec (every parameter and body field, its class, "
    "and whether it is checked, not observable or unchecked, with the reason) instead of the checks; "
    "repeatable. --format json gives them as data.",
)
@click.option(
    "--writes",
    "writes",
    metavar="RESULTS_JSON",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Print, per release, the write operations none of these runs' results.json got a 2xx from, with the "
    "reason (setting, executor, release defect, guard, needs an object); repeatable.",
)
def list_checks(fmt: str, readme: Path | None, effects: tuple[str, ...], writes: tuple[Path, ...]) -> None:
    """List every check: scenarios and posture (id, title, versions, tier), then the response checks and their MUST."""
    if writes:
        print_writes(writes, fmt)
        return
    if effects:
        print_effects(effects, fmt)
        return
    checks = load_all()
    if readme is not None:
        if not readme.exists():
            raise ConfigError(f"{readme} does not exist")
        update_table(readme, checks)
        click.echo(f"updated the checks table in {readme} ({len(checks)} checks)")
    elif fmt == "json":
        responses = [{"id": name, "kind": "response", "must": must_of(name)} for name in response_checks()]
        click.echo(json.dumps([m.as_dict() for m in checks.values()] + responses, indent=2))
    elif fmt == "markdown":
        click.echo(markdown_table(checks))
    else:
        width = max(len(m.result_id) for m in checks.values())
        for meta in checks.values():
            click.echo(f"{meta.result_id:<{width}}  {_versions(meta):<14} {meta.tier:<10} {meta.title}")
        click.echo(f"{len(checks)} checks (plus one property check per operation of the target's reference spec)")
        names = response_checks()
        click.echo(f"\nresponse checks of the property tier ({len(names)}):")
        width = max(len(n) for n in names)
        for name in names:
            click.echo(f"{name:<{width}}  {must_of(name)}")


def load_all() -> dict[str, Meta]:
    """Every scenario and posture check, read from the marks of the check modules (by result id).

    The checks are found where they are written, not in a registry their imports fill,
    so the list cannot depend on what happened to be imported before.
    """
    import importlib  # noqa: PLC0415
    import pkgutil  # noqa: PLC0415

    import conformance.tiers.posture as posture_pkg  # noqa: PLC0415
    import conformance.tiers.scenarios as scenarios_pkg  # noqa: PLC0415

    found: dict[str, Meta] = {}
    for pkg in (scenarios_pkg, posture_pkg):
        for info in pkgutil.iter_modules(pkg.__path__):
            if info.name.startswith("test_"):
                module = importlib.import_module(f"{pkg.__name__}.{info.name}")
                for meta in _metas_in(vars(module).values()):
                    if meta.result_id in found:
                        raise ValueError(
                            f"duplicate check id {meta.result_id} ({found[meta.result_id].module}, {meta.module})"
                        )
                    found[meta.result_id] = meta
    return dict(sorted(found.items()))


def _metas_in(objects) -> list[Meta]:
    return [
        mark.args[0]
        for obj in objects
        for mark in getattr(obj, "pytestmark", [])
        if getattr(mark, "name", "") == "conformance" and getattr(obj, "__module__", None) == mark.args[0].module
    ]
