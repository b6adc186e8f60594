"""Stacked bars for the HTML reports: plain data the templates draw as inline SVG.

A reader should see the shape of a run before reading a table: how many checks
passed or failed, how far the run reached into each part of the API, how the
releases of a matrix compare. The numbers are computed here and drawn by the
`chart` macro (templates/_page.html.j2), every bar with its counts as text
beside it and a legend, so nothing depends on colour alone or on the network.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from conformance.model.status import STATUSES

WIDTH = 1000  # the viewBox width a bar's segments are laid out in

STATUS_ORDER = STATUSES
STATUS_LABELS: dict[str, str] = {s: s.value.replace("_", " ") for s in STATUSES}
# how far an operation's requests got, best first (results.json `operations[op]` counts)
COVERAGE = (
    ("reached", "reached (2xx/3xx)"),
    ("validated", "validated (4xx)"),
    ("server_error", "server error only (5xx)"),
    ("refused", "refused only (401/403)"),
    ("not_sent", "not sent (kept back by the guard)"),
    ("no_request", "no request"),
)


def status_label(status: str) -> str:
    """How a status reads in a report (unknown statuses read as themselves)."""
    return STATUS_LABELS.get(status, status.replace("_", " "))


def bar(label: str, counts: Mapping[str, int], order: Iterable[tuple[str, str]]) -> dict:
    """One stacked bar: segments in `order` laid out over WIDTH units, with its counts as text."""
    parts = [(key, text, int(counts.get(key, 0))) for key, text in order]
    total = sum(value for _, _, value in parts)
    segments, x = [], 0.0
    for key, text, value in parts:
        if not value:
            continue
        width = WIDTH * value / total
        segments.append({"key": key, "label": text, "value": value, "x": round(x, 2), "width": round(width, 2)})
        x += width
    summary = ", ".join(f"{s['label']} {s['value']}" for s in segments) or "nothing"
    return {"label": label, "total": total, "segments": segments, "text": summary}


def chart(
    title: str, rows: list[dict], order: Iterable[tuple[str, str]], totals: Mapping[str, int] | None = None
) -> dict:
    """A titled set of bars with a legend (counts in the legend when `totals` is given)."""
    legend = [
        {"key": key, "label": text, "value": None if totals is None else int(totals.get(key, 0))} for key, text in order
    ]
    return {"title": title, "rows": rows, "legend": legend}


def _statuses(counts: Mapping[str, int]) -> list[tuple[str, str]]:
    """The five statuses in their order, then any other status a newer suite may report."""
    extra = sorted(k for k in counts if k not in STATUS_ORDER and k != "requests")
    return [(s, status_label(s)) for s in (*STATUS_ORDER, *extra)]


def status_chart(summary: Mapping[str, int]) -> dict:
    """The run's results by status, as one bar."""
    order = _statuses(summary)
    return chart("Checks by status", [bar("all checks", summary, order)], order, totals=summary)


def coverage_kind(row: Mapping) -> str:
    """The furthest an operation's requests got: reached, validated, server error, refused, not sent, or none."""
    for key, _ in COVERAGE[:-1]:
        if int(row.get(key) or 0):
            return key
    return "no_request"


def coverage_chart(operations: Mapping[str, Mapping], tags: Mapping[str, str]) -> dict:
    """Operations per API tag, each counted once by how far its requests got."""
    by_tag: dict[str, Counter] = {}
    for op, row in operations.items():
        by_tag.setdefault(tags.get(op) or "untagged", Counter())[coverage_kind(row)] += 1
    totals: Counter[str] = Counter()
    for counts in by_tag.values():
        totals.update(counts)
    rows = [
        bar(f"{tag} ({sum(counts.values())} operations)", counts, COVERAGE) for tag, counts in sorted(by_tag.items())
    ]
    return chart("Operations per tag, by how far their requests got", rows, COVERAGE, totals=totals)


def releases_chart(versions: list[dict]) -> dict:
    """One bar per release of a compatibility matrix: its results by status."""
    merged: Counter = Counter()
    for v in versions:
        merged.update({k: n for k, n in (v.get("summary") or {}).items() if k != "requests"})
    order = _statuses(merged)
    rows = [
        bar(
            v["version"] if v.get("summary") else f"{v['version']} (no results: {v.get('reason') or v.get('status')})",
            v.get("summary") or {},
            order,
        )
        for v in versions
    ]
    return chart("Results per release", rows, order)
