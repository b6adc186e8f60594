"""report.html: one self-contained file (inline CSS, SVG and JS, no network), rendered with jinja2.

The page is built from results.json alone, so a report can be rendered again
from any run's file; the shared frame (_page.html.j2: styles, filter bars,
charts) is also what the compatibility matrix uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from jinja2 import BaseLoader, ChoiceLoader, Environment, PackageLoader, select_autoescape

from conformance.reporting import charts
from conformance.reporting.findings import class_counts, deviation_groups, failure_groups, gate_text, upstream_links


def environment(*packages: str) -> Environment:
    """A jinja environment over these packages' templates plus the shared frame, with the report helpers."""
    loaders: list[BaseLoader] = [PackageLoader(p, "templates") for p in (*packages, "conformance.reporting")]
    env = Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(["html", "j2"]))
    env.globals.update(
        status_label=charts.status_label,
        upstream_links=upstream_links,
        coverage_kind=charts.coverage_kind,
        coverage_keys=charts.COVERAGE[:-1],
        statuses_of=_statuses_of_groups,
        statuses_of_rows=_statuses_of_rows,
        class_counts=class_counts,
    )
    return env


def _ordered(statuses: set[str]) -> list[str]:
    known = [s for s in charts.STATUS_ORDER if s in statuses]
    return known + sorted(statuses - set(known))


def _statuses_of_rows(rows: Iterable[dict]) -> list[str]:
    return _ordered({r["status"] for r in rows})


def _statuses_of_groups(groups) -> list[str]:
    return _ordered({s for g in groups for s in g.statuses.split()})


@lru_cache(maxsize=8)
def spec_tags(spec_version: str) -> dict[str, str]:
    """Operation tags from the bundled reference spec, for results written before rows carried their tag."""
    from conformance.errors import ConformanceError  # noqa: PLC0415
    from conformance.specs.catalog import load_spec, operation_tags  # noqa: PLC0415

    try:
        return operation_tags(load_spec(spec_version))
    except (ConformanceError, OSError, ValueError):
        return {}


def operation_tags(data: dict) -> dict[str, str]:
    """operationId -> the API tag it belongs to (its first tag)."""
    fallback = spec_tags(str(data.get("reference_spec") or "")) if data.get("reference_spec") else {}
    return {op: row.get("tag") or fallback.get(op, "") for op, row in (data.get("operations") or {}).items()}


_env = environment()


def render_html(data: dict) -> str:
    tags = operation_tags(data)
    views = {
        "status": charts.status_chart(data["summary"]),
        "coverage": charts.coverage_chart(data["operations"], tags),
    }
    return _env.get_template("report.html.j2").render(
        data=data,
        failures=failure_groups(data),
        deviations=deviation_groups(data),
        charts=views,
        tags=tags,
        gate=gate_text(data, label=""),
    )
