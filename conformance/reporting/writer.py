"""Write every report of a run, each passed through the redactor last."""

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
    out_dir.mkdir(parents=True, exist_ok=True)
    data = run.as_dict()
    texts = {
        "results.json": json.dumps(data, indent=2) + "\n",
        "junit.xml": render_junit(run),
        "report.html": render_html(data),
        "summary.md": render_summary(data),
    }
    return write_texts(out_dir, {name: redactor.redact(text) for name, text in texts.items()})


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
