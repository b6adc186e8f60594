"""Write every report of a run, each passed through the redactor last.

All four files are rendered from the content of results.json, so the reports of any run can be
written again from its results.json alone (`airflow-conformance report`), and report.html, JUnit
XML and summary.md can never say something results.json does not.
"""

from __future__ import annotations

import json
from pathlib import Path

from conformance.http.redact import Redactor
from conformance.reporting.html import render_html
from conformance.reporting.junit import render_junit
from conformance.reporting.markdown import render_summary
from conformance.reporting.results import RunResults

FILES = ("results.json", "junit.xml", "report.html", "summary.md")


def write_all(run: RunResults, out_dir: Path, redactor: Redactor) -> list[Path]:
    """results.json, junit.xml, report.html and summary.md in `out_dir`."""
    texts = render_all(run.as_dict())
    return write_texts(out_dir, {name: redactor.redact(text) for name, text in texts.items()})


def render_all(data: dict) -> dict[str, str]:
    """{file name: text} of the four reports of the run whose results.json content is `data`."""
    return {
        "results.json": json.dumps(data, indent=2) + "\n",
        "junit.xml": render_junit(data),
        "report.html": render_html(data),
        "summary.md": render_summary(data),
    }


def write_texts(out_dir: Path, texts: dict[str, str]) -> list[Path]:
    """Each text into its file in `out_dir`, replacing it whole: a reader never sees a half-written report."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in texts.items():
        path = out_dir / name
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    return written
