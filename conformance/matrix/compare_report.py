"""The renderings of a comparison: text for the terminal, Markdown, JSON and one self-contained HTML page."""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from conformance.matrix.compare import is_regression
from conformance.reporting.writer import write_texts

_env = Environment(loader=PackageLoader("conformance.matrix", "templates"), autoescape=select_autoescape(["html"]))
FILES = ("compare.json", "compare.md", "compare.html")


def sections(doc: dict) -> list[tuple[str, list[str]]]:
    """(title, rows) for every part that has something to say, in the order a reader wants them."""
    spec = doc["spec"]
    return [
        (title, rows)
        for title, rows in (
            (
                "Checks whose status changed (worse first)",
                [
                    f"{r['id']}: {r['from']} -> {r['to']}" + ("  (worse)" if is_regression(r) else "")
                    for r in doc["status_changes"]
                ],
            ),
            (
                "Status codes answered that were not before",
                [f"{r['operation']}: {', '.join(r['statuses'])}" for r in doc["new_statuses"]],
            ),
            (
                "Status codes no longer answered",
                [f"{r['operation']}: {', '.join(r['statuses'])}" for r in doc["gone_statuses"]],
            ),
            ("Known deviations that appeared", doc["deviations_appeared"]),
            ("Known deviations that went away", doc["deviations_gone"]),
            ("Operations added (spec)", spec["added"]),
            ("Operations removed (spec)", spec["removed"]),
            ("Operations renamed (spec)", spec["renamed"]),
            ("Operations changed (spec)", [f"{op}: {'; '.join(rows)}" for op, rows in spec["changed"].items()]),
            ("Checks only in the second run", doc["checks_added"]),
            ("Checks only in the first run", doc["checks_removed"]),
        )
        if rows
    ]


def headline(doc: dict) -> str:
    a, b = doc["from"], doc["to"]
    return (
        f"Airflow {a['airflow_version']} ({a['label']}, {a['verdict']}) -> "
        f"Airflow {b['airflow_version']} ({b['label']}, {b['verdict']})"
    )


def render_text(doc: dict) -> str:
    lines = [headline(doc)]
    parts = sections(doc)
    if not parts:
        lines.append("No difference a client would meet.")
    for title, rows in parts:
        lines += ["", f"{title} ({len(rows)}):", *(f"  {row}" for row in rows)]
    return "\n".join(lines) + "\n"


def render_markdown(doc: dict) -> str:
    lines = [f"## {headline(doc)}", ""]
    parts = sections(doc)
    if not parts:
        lines.append("No difference a client would meet.")
    for title, rows in parts:
        lines += [f"### {title} ({len(rows)})", "", *(f"- `{row}`" for row in rows), ""]
    return "\n".join(lines).rstrip() + "\n"


def render_html(doc: dict) -> str:
    return _env.get_template("compare.html.j2").render(doc=doc, title=headline(doc), parts=sections(doc))


def write(doc: dict, out_dir: Path) -> list[Path]:
    """compare.json, compare.md and compare.html in `out_dir`."""
    texts = {
        "compare.json": json.dumps(doc, indent=2) + "\n",
        "compare.md": render_markdown(doc),
        "compare.html": render_html(doc),
    }
    return write_texts(out_dir, texts)
