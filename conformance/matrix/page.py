"""compatibility.html: the matrix as a page an engineer planning an upgrade can use.

The rows are grouped the way such a reader asks ("what happens to DAG runs?"): by API
area (the specs' tags, `areas.py`), then by tier, each group collapsed with its counts
per release, so the page opens short and every group is one click (or Enter) away. The
page is rendered from compatibility.json alone (`matrix --render-only`), plus the set of
upgrade pages that exist beside it, so the FROM -> TO picker links to a page only where
there is one and otherwise offers the command that writes it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from conformance.matrix import areas, clients, databases
from conformance.matrix import cells as cell_of
from conformance.matrix.deviation_cells import deviation_lines, deviation_notes, deviation_short, deviation_status
from conformance.reporting.charts import releases_chart
from conformance.reporting.findings import upstream_links
from conformance.reporting.html import environment

# a group's cell for one release: its worst status among the rows, most telling first
SEVERITY = (
    "failed",
    "error",
    "known_deviation",
    "stale",
    cell_of.UNDECIDED,
    "passed",
    "skipped",
    cell_of.NOT_APPLICABLE,
    "absent",
)
SHORT = {"known_deviation": "known", cell_of.NOT_APPLICABLE: "n/a"}  # badge words that fit a column
UPGRADE_DIR = "upgrade"  # upgrade pages live in <report-dir>/upgrade/<FROM>-to-<TO>.html
UPGRADE_PAGE = re.compile(r"(?P<a>[^/]+?)-to-(?P<b>[^/]+)\.html")


def upgrade_page(a: str, b: str) -> str:
    """The upgrade page of a pair, relative to compatibility.html."""
    return f"{UPGRADE_DIR}/{a}-to-{b}.html"


def upgrade_pairs(names: Iterable[str]) -> frozenset[tuple[str, str]]:
    """The (FROM, TO) pairs of the upgrade pages among these file names (`2.10.5-to-2.11.2.html`)."""
    return frozenset((m["a"], m["b"]) for m in map(UPGRADE_PAGE.fullmatch, names) if m)


def upgrades_beside(report_dir: Path) -> frozenset[tuple[str, str]]:
    """The pairs whose upgrade page is in `report_dir/upgrade/` (the picker links to those, offers the command else)."""
    folder = report_dir / UPGRADE_DIR
    return upgrade_pairs(p.name for p in folder.glob("*.html")) if folder.is_dir() else frozenset()


def _worst(statuses: Iterable[str]) -> str:
    present = set(statuses)
    return next((s for s in SEVERITY if s in present), sorted(present)[0] if present else cell_of.NOT_APPLICABLE)


def _group_cell(statuses: list[str]) -> dict:
    """A collapsed group's cell for one release: its worst status, how many rows have it, of how many apply."""
    tally = Counter(statuses)
    worst = _worst(statuses)
    applies = sum(n for s, n in tally.items() if s not in (cell_of.NOT_APPLICABLE, "absent"))
    if worst in (cell_of.NOT_APPLICABLE, "absent"):
        return {"status": worst, "text": SHORT.get(worst, worst)}
    return {
        "status": worst,
        "text": f"{tally[worst]} {SHORT.get(worst, worst.replace('_', ' '))}"
        + (f" / {applies}" if tally[worst] != applies else ""),
    }


def _summary(rows: list[dict], versions: list[str], noun: str) -> dict:
    """What a collapsed group says: its size, rows with failures or deviations somewhere, and a cell per release."""

    def with_status(status: str) -> int:
        return sum(1 for r in rows if status in r["statuses"].values())

    parts = [f"{len(rows)} {noun}{'' if len(rows) == 1 else 's'}"]
    parts += [
        f"{n} {word}"
        for word, n in (
            ("failing on some release", with_status("failed")),
            ("with a known deviation", with_status("known_deviation")),
        )
        if n
    ]
    return {"text": ", ".join(parts), "cells": {v: _group_cell([r["statuses"][v] for r in rows]) for v in versions}}


def _check_row(cid: str, row: dict, versions: list[str]) -> dict:
    cells = {}
    for v in versions:
        c = row["cells"][v]
        lines = [c["message"]] if c.get("message") and (c["status"] != "passed" or c.get("second_pass")) else []
        if c.get("second_pass"):
            lines.append(
                f"{cell_of.SECOND_PASS_MARK} decided on the matrix's {c['second_pass']} pass, not its main run"
            )
        cells[v] = {
            "status": c["status"],
            "text": SHORT.get(c["status"]),
            "lines": lines,
            "links": upstream_links(c.get("upstream") or ""),
            "mark": bool(c.get("second_pass")),
        }
    return {
        "id": cid,
        "title": row.get("title", ""),
        "cells": cells,
        "statuses": {v: cells[v]["status"] for v in versions},
    }


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "other"


def check_groups(doc: dict, versions: list[str]) -> list[dict]:
    """The checks grid: one group per API area, its rows in tiers (scenarios first), each with counts."""
    by_area: dict[str, dict[str, list[dict]]] = {}
    op_areas = doc.get("areas") or {}
    for cid, row in doc["checks"].items():
        kind = row.get("kind") or areas.kind_of(cid)
        area = areas.check_area(cid, row.get("operations") or [], op_areas)
        by_area.setdefault(area, {}).setdefault(kind, []).append(_check_row(cid, row, versions))
    groups = []
    for area in sorted(by_area, key=lambda a: (a == areas.NO_OPERATION, a.lower())):
        tiers = [
            {"label": areas.tier_label(kind), "rows": rows, **_summary(rows, versions, "check")}
            for kind, rows in sorted(by_area[area].items(), key=lambda kv: (areas.tier_rank(kv[0]), kv[0]))
        ]
        every = [r for t in tiers for r in t["rows"]]
        groups.append(
            {"id": f"checks-{_slug(area)}", "label": area, "tiers": tiers, **_summary(every, versions, "check")}
        )
    return groups


def operation_groups(doc: dict, versions: list[str]) -> list[dict]:
    """The operations grid: one group per API area (operations answered by no spec tag last)."""
    op_areas = doc.get("areas") or {}
    by_area: dict[str, list[dict]] = {}
    for op, row in doc["operations"].items():
        cells = {}
        for v in versions:
            c = row[v]
            lines = [c["reason"]] if c.get("reason") and c["status"] != "passed" else []
            cells[v] = {
                "status": c["status"],
                "text": SHORT.get(c["status"]),
                "lines": lines,
                "links": [],
                "note": f"{c.get('requests', 0)} req." if c["status"] != cell_of.NOT_APPLICABLE else "",
            }
        by_area.setdefault(op_areas.get(op) or areas.NO_OPERATION, []).append(
            {"id": op, "title": "", "cells": cells, "statuses": {v: cells[v]["status"] for v in versions}}
        )
    return [
        {
            "id": f"operations-{_slug(area)}",
            "label": area,
            "tiers": [{"label": "", "rows": rows, **_summary(rows, versions, "operation")}],
            **_summary(rows, versions, "operation"),
        }
        for area, rows in sorted(by_area.items(), key=lambda kv: (kv[0] == areas.NO_OPERATION, kv[0].lower()))
    ]


def deviation_groups(doc: dict, versions: list[str]) -> list[dict]:
    """The deviations grid: one group per failure class, each row with its summary, range and upstream link."""
    notes = doc.get("deviation_notes") or {}
    by_class: dict[str, list[dict]] = {}
    for dev_id, cells in doc["deviations"].items():
        note = notes.get(dev_id) or {}
        row_cells = {}
        for v in versions:
            c = cells.get(v)
            row_cells[v] = (
                {
                    "status": deviation_status(c),
                    "text": deviation_short(c),
                    "lines": deviation_notes(c) + deviation_lines(c),
                    "links": [],
                }
                if c
                else {"status": "absent", "text": "absent", "lines": [], "links": []}
            )
        by_class.setdefault(note.get("class") or "not in the data", []).append(
            {
                "id": dev_id,
                "title": note.get("summary") or "no longer in the deviation data",
                "versions": note.get("versions", ""),
                "links": upstream_links(note.get("upstream") or ""),
                "cells": row_cells,
                "statuses": {v: row_cells[v]["status"] for v in versions},
            }
        )
    return [
        {
            "id": f"deviations-{_slug(name)}",
            "label": name,
            "tiers": [{"label": "", "rows": rows, **_summary(rows, versions, "deviation")}],
            **_summary(rows, versions, "deviation"),
        }
        for name, rows in sorted(by_class.items())
    ]


def client_rows(doc: dict, versions: list[str]) -> list[dict]:
    """The clients grid: each client release's reading of each server release, as words (no hover needed)."""
    rows = []
    for client, row in (doc.get("clients") or {}).items():
        cells = {v: clients.cell_view(row.get(v)) for v in versions}
        rows.append({"id": client, "title": "", "cells": cells, "statuses": {v: cells[v]["status"] for v in versions}})
    return rows


def releases(versions: list[str]) -> list[dict]:
    """The release picker's entries: each column, its release and database, its run's report."""
    out = []
    for i, label in enumerate(versions):
        release, database = databases.split_label(label)
        out.append(
            {
                "index": i,
                "label": label,
                "release": release,
                "database": databases.LABELS.get(database, database),
                "report": f"runs/{databases.run_dir_name(label)}/report.html",
            }
        )
    return out


def upgrade_choices(versions: list[str]) -> list[str]:
    """The releases an upgrade goes from or to: one per release (its SQLite column), in version order."""
    return [v for v in versions if databases.split_label(v)[1] == "sqlite"]


def _pair_title(a: str, b: str) -> str:
    """`2.10.5 → 2.11.2`, or `2.10.5: SQLite → PostgreSQL` for a release on two databases."""
    (ra, da), (rb, db) = databases.split_label(a), databases.split_label(b)
    if ra == rb:
        return f"{ra}: {databases.LABELS.get(da, da)} → {databases.LABELS.get(db, db)}"
    return f"{a} → {b}"


_env = environment("conformance.matrix")
_env.globals.update(
    client_cell=clients.cell_text,
    score_text=cell_of.score_text,
    class_text=cell_of.class_text,
    pair_title=_pair_title,
    upgrade_page=upgrade_page,
)


def render(doc: dict, upgrades: frozenset[tuple[str, str]] = frozenset()) -> str:
    """compatibility.html from the compatibility document and the (FROM, TO) pairs whose upgrade page exists."""
    versions = [v["version"] for v in doc["versions"]]
    choices = upgrade_choices(versions)
    available = sorted(f"{a}-to-{b}" for a, b in upgrades)
    return _env.get_template("compatibility.html.j2").render(
        doc=doc,
        versions=versions,
        releases=releases(versions),
        release_chart=releases_chart(doc["versions"]),
        check_groups=check_groups(doc, versions),
        operation_groups=operation_groups(doc, versions),
        deviation_groups=deviation_groups(doc, versions) if doc.get("deviations") else [],
        client_rows=client_rows(doc, versions),
        choices=choices,
        available=available,
        default_pair=(choices[-2], choices[-1])
        if len(choices) > 1
        else (choices[0], choices[0])
        if choices
        else ("", ""),
    )
