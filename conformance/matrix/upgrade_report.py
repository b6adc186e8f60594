"""The renderings of an upgrade document: text for the terminal, Markdown, JSON and one self-contained HTML page.

Every rendering opens with the same first screen (the headline items, most breaking first, each naming
the details section that proves it) and then the details, so the terminal, a pull-request comment and
the published page tell one story. The text and Markdown first screens stay within FIRST_SCREEN lines.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

from conformance.matrix.upgrade_details import sections
from conformance.reporting.html import environment
from conformance.reporting.writer import write_texts

FIRST_SCREEN = 80  # lines of text before the details: one terminal page, scrolled once at most
WIDTH = 110
INLINE_AFTER = 8  # an item with more names lists them in one wrapped paragraph
DETAILS = "Details"
FORMATS = ("text", "md", "json", "html")
RUN_FOLDER = re.compile(r"^\d+(\.\d+)*(-[a-z]+)?$")

_env = environment("conformance.matrix")


def title(doc: dict) -> str:
    return f"Upgrading Airflow {doc['from']['label']} → {doc['to']['label']}: what a client meets"


def _runs_line(doc: dict) -> str:
    a, b = doc["from"], doc["to"]
    line = (
        f"Runs: {a['label']} ({a['verdict'] or 'no verdict'}) → {b['label']} ({b['verdict'] or 'no verdict'}); "
        f"reference specs {a['reference_spec']} → {b['reference_spec']}"
    )
    if doc.get("uses") is not None:
        line += f"; limited to the {len(doc['uses'])} operations given with --uses"
    return line


def first_screen_text(doc: dict) -> list[str]:
    """The headline items as numbered, wrapped lines (what the first screen of every rendering says)."""
    lines = [title(doc), *textwrap.wrap(_runs_line(doc), WIDTH), ""]
    for n, item in enumerate(doc["headline"], 1):
        mark = "!" if item["breaking"] else " "
        lines += textwrap.wrap(f"{n:>2}.{mark}{item['title']}: {item['text']}", WIDTH, subsequent_indent="     ")
        names = item["names"] if len(item["names"]) <= INLINE_AFTER else ["; ".join(item["names"])]
        for name in names:
            lines += textwrap.wrap(name, WIDTH, initial_indent="       ", subsequent_indent="         ")
    lines += [
        "",
        "(!: breaks a client of the first release; each item's evidence is in the details below, "
        "the curl of a run or the spec excerpt)",
    ]
    return lines


def render_text(doc: dict, details: bool = True) -> str:
    lines = first_screen_text(doc)
    if details:
        lines += ["", f"==== {DETAILS} ===="]
        for section in sections(doc):
            lines += ["", f"{section['title']} ({len(section['rows'])}):"]
            for row in section["rows"]:
                lines += textwrap.wrap(row["text"], WIDTH, initial_indent="  ", subsequent_indent="      ")
                lines += [f"      evidence: {row['evidence'].splitlines()[0]}"] if row.get("evidence") else []
    return "\n".join(lines) + "\n"


def render_markdown(doc: dict) -> str:
    lines = [f"## {title(doc)}", "", _runs_line(doc), ""]
    for n, item in enumerate(doc["headline"], 1):
        lines.append(
            f"{n}. **{item['title']}**{' ⚠' if item['breaking'] else ''}: {item['text']} ([details](#{item['anchor']}))"
        )
        lines += [f"   - {name}" for name in item["names"]]
    lines += ["", f"### {DETAILS}", ""]
    for section in sections(doc):
        lines += [f'<a id="{section["id"]}"></a>', "", f"#### {section['title']} ({len(section['rows'])})", ""]
        lines += [
            f"- {row['text']}" + (f"  \n  `{row['evidence'].splitlines()[0]}`" if row.get("evidence") else "")
            for row in section["rows"]
        ]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def render_json(doc: dict) -> str:
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def render_html(doc: dict) -> str:
    parts = sections(doc)
    return _env.get_template("upgrade.html.j2").render(
        doc=doc,
        title=title(doc),
        runs=_runs_line(doc),
        sections=parts,
        toc=[(s["id"], f"{s['short']} ({len(s['rows'])})") for s in parts],
    )


RENDER = {"text": render_text, "md": render_markdown, "json": render_json, "html": render_html}
SUFFIX = {"md": ".md", "json": ".json", "html": ".html"}


def file_stem(doc: dict) -> str:
    """`<FROM>-to-<TO>`, each side named by its run folder (`2.10.5`, `2.10.5-postgres`) or release."""

    def name(side: dict) -> str:
        from conformance.matrix.databases import run_dir_name  # noqa: PLC0415

        folder = run_dir_name(side["label"])  # "2.10.5", "2.10.5-postgres" for a matrix column or run folder
        return folder if RUN_FOLDER.match(folder) else side["airflow_version"]  # a path: named by its release

    return f"{name(doc['from'])}-to-{name(doc['to'])}"


def write(doc: dict, out_dir: Path, formats: tuple[str, ...] = ("html", "md", "json")) -> list[Path]:
    """`<FROM>-to-<TO>.{html,md,json}` (those in `formats`) in `out_dir`."""
    stem = file_stem(doc)
    return write_texts(out_dir, {stem + SUFFIX[f]: RENDER[f](doc) for f in formats if f in SUFFIX})
