"""summary.md: short enough for a pull-request comment."""

from __future__ import annotations

from conformance.model.classes import ordered
from conformance.model.status import Status
from conformance.reporting.findings import class_counts, gate_text
from conformance.reporting.results import client_lines

MAX_ROWS = 20


def _cell(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_summary(data: dict) -> str:
    t, s = data["target"], data["summary"]
    ops = data["operations"]
    exercised = sum(1 for o in ops.values() if o["status"] != "skipped")
    icon = {"conformant": "✅", "not conformant": "❌", "aborted": "⚠️"}.get(data["verdict"], "")
    lines = [
        f"## {icon} Airflow {t.get('airflow_version')} API conformance: {data['verdict']}",
        "",
        f"Target `{t.get('url')}` ({t.get('api')}, auth {t.get('auth')}), profile `{data['profile']}`, "
        f"run `{data['run_id']}`, seed `{data['seed']}`, {data['duration_s']} s, {s['requests']} requests.",
        "",
        "| passed | failed | known deviations | skipped | errors | operations exercised |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {s[Status.PASSED]} | {s[Status.FAILED]} | {s[Status.KNOWN_DEVIATION]} | {s[Status.SKIPPED]} | {s[Status.ERROR]} | {exercised} / {len(ops)} |",
        "",
    ]
    lines += class_lines(data)
    lines += authorization_lines(data.get("authorization") or {})
    clients = client_lines(data.get("clients") or {})
    if clients:
        lines += [f"- {_cell(line, 300)}" for line in clients] + [""]
    bad = [r for r in data["results"] if r["status"] in ("failed", "error")]
    lines += _table(
        "Failures",
        ["check", "status", "class", "message"],
        [f"| `{r['id']}` | {r['status']} | {', '.join(r.get('classes') or [])} | {_cell(r['message'])} |" for r in bad],
        "| … | | {} more in report.html |",
    )
    known = [r for r in data["results"] if r["status"] == Status.KNOWN_DEVIATION]
    lines += _table(
        "Known upstream deviations",
        ["check", "upstream"],
        [f"| `{r['id']}` | {_cell(r['upstream'], 60)} |" for r in known],
        "| … {} more | |",
    )
    for problem in data.get("cleanup_problems") or []:
        lines.append(f"- cleanup: {_cell(problem)}")
    return "\n".join(lines).rstrip() + "\n"


def _table(title: str, columns: list[str], rows: list[str], more: str) -> list[str]:
    """A section with at most MAX_ROWS rows, or nothing without rows.

    A pull-request comment has to stay short: past MAX_ROWS, the row `more` (formatted with
    how many were left out) points to the full report instead.
    """
    if not rows:
        return []
    lines = [f"### {title}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += rows[:MAX_ROWS]
    if len(rows) > MAX_ROWS:
        lines.append(more.format(len(rows) - MAX_ROWS))
    return [*lines, ""]


def class_lines(data: dict) -> list[str]:
    """The gate (`--fail-on`) and, when anything failed or was excused, a per-class count table."""
    failed, known = class_counts(data, Status.FAILED), class_counts(data, Status.KNOWN_DEVIATION)
    gate = gate_text(data, label="")
    lines = [f"Failure classes that fail the run (`--fail-on`): {gate}.", ""] if gate else []
    names = ordered({*failed, *known})
    if names:
        lines += ["| class | failed | known deviations |", "|---|---:|---:|"]
        lines += [f"| {name} | {failed.get(name, 0)} | {known.get(name, 0)} |" for name in names] + [""]
    return lines


def authorization_lines(table: dict) -> list[str]:
    """The role x operation-group table: each cell `allowed / denied / unexpected` pairs (+ skipped when any)."""
    if not table:
        return []
    who, pairs = table["identities"], table["pairs"]
    lines = [
        "### Authorization (role × operation group)",
        "",
        f"{pairs['decided']} of {pairs['total']} (identity, operation) pairs decided: {pairs['allowed']} allowed, "
        f"{pairs['denied']} denied, {pairs['unexpected']} unexpected; {pairs['skipped']} skipped, "
        f"{pairs['error']} errors. Cells: allowed / denied / unexpected (+ skipped).",
        "",
        "| group | " + " | ".join(who) + " |",
        "|---|" + "---:|" * len(who),
    ]
    for group, row in table["groups"].items():
        cells = []
        for identity in who:
            c = row.get(identity) or {}
            text = f"{c.get('allowed', 0)} / {c.get('denied', 0)} / {c.get('unexpected', 0)}"
            text += f" (+{c['skipped']})" if c.get("skipped") else ""
            cells.append(f"**{text}**" if c.get("unexpected") or c.get("error") else text)
        lines.append(f"| {_cell(group, 40)} | " + " | ".join(cells) + " |")
    return [*lines, ""]
