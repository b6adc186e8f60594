"""A ready-to-file upstream report for a deviation nobody has reported yet."""

from __future__ import annotations

import json
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from conformance.expectations.deviations import Deviation


def affected_releases(dev: Deviation, matrix_file: str) -> tuple[list[str], str]:
    """Releases where the matrix saw this deviation (else the supported releases in its range) and the source."""
    path = Path(matrix_file)
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        cells = (data.get("deviations") or {}).get(dev.id) or {}
        seen = sorted((v for v, cell in cells.items() if cell.get("occurs") or cell.get("excused")), key=Version)
        if seen:
            return seen, f"observed in {path.name}"
    from conformance.local.versions import supported  # noqa: PLC0415

    rng = SpecifierSet(dev.versions)
    return [v for v in supported() if Version(v) in rng], "the recorded version range (not yet seen in a matrix)"


def _request_line(rep: dict) -> str:
    parts = [f"operation `{rep.get('operation', 'each listed operation')}`"]
    for key in ("path", "query", "body", "headers"):
        if rep.get(key) is not None:
            parts.append(f"{key} `{json.dumps(rep[key])}`")
    if rep.get("anonymous"):
        parts.append("without credentials")
    return ", ".join(parts)


def draft(dev: Deviation, matrix_file: str) -> str:
    """Markdown for an upstream issue: title, affected releases, reproduction, spec vs server."""
    releases, source = affected_releases(dev, matrix_file)
    lines = [f"Title: REST API: {dev.summary.split(';')[0].split(' (')[0][:110]}", "",
             f"Apache Airflow version: {', '.join(releases) or dev.versions} ({source})", "",
             "### What happened", "", dev.summary, "",
             "### What the OpenAPI spec says", "",
             dev.spec_says or f"The operation(s) {', '.join(dev.operations) or '(scenario steps)'} do not document "
                              f"this answer; the failing check: {', '.join(dev.checks)}.", "",
             "### What the server answered", "", dev.response.describe(), "", "### How to reproduce", ""]
    for rep in dev.reproduce:
        for step in rep.get("setup") or []:
            lines.append(f"- setup: `{step.get('method', 'GET')} {step.get('path')}`"
                         + (f" body `{json.dumps(step.get('body'))}`" if "body" in step else ""))
        lines.append(f"- {_request_line(rep)}")
    lines += ["", "(placeholders: {probe_dag} is a DAG with a schedule and one task; {missing} a name that does "
              "not exist)", "", f"Found by airflow-api-conformance (deviation `{dev.id}`); "
              "`airflow-conformance deviations verify --id " + dev.id + "` replays it."]
    if dev.upstream and dev.upstream != "unreported":
        lines.insert(0, f"(already recorded upstream: {dev.upstream})\n")
    return "\n".join(lines)
