"""A ready-to-file upstream issue for a known deviation, as Markdown (and the index of a folder of them).

A deviation marked `unreported` is a promise that someone will file it; the
report makes that a copy-paste: the releases the matrix saw it on, the recorded
(already redacted) curl of a replay that reproduced it, what in the request
triggers it and the same request without the trigger, what the spec documents
against what the server answered, and a search to check nobody filed it first.
This module only writes text: the evidence comes from the matrix
(conformance.matrix.upstream) and the documented answers from the release's
reference spec (conformance.specs.documented).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import quote_plus

from conformance.expectations.deviations import UNREPORTED, Deviation
from conformance.specs.documented import Documented

SEARCH_URL = "https://github.com/{repo}/issues?q="
SERVER_REPO, CLIENT_REPO = "apache/airflow", "apache/airflow-client-python"  # a `client:` defect is the client's
SCHEMA_CHECKS = frozenset({"response_schema", "response_schema_conformance"})
SHOWN_OPERATIONS = 3  # documented answers of this many operations; a deviation of eighty lists the rest by name
PLACEHOLDERS = (
    "placeholders: {probe_dag} is a DAG with a schedule and one task, {missing} a name that does not exist, "
    "{prefix} any prefix of your own"
)
_REGEX_SYNTAX = re.compile(r"\\[dswbDSWB]|[\\^$.|?*+()\[\]{}]")


@dataclass(frozen=True)
class Recorded:
    """One request of a matrix run, as its evidence recorded it (the curl is redacted when recorded)."""

    column: str  # matrix column label: "3.3.2", "3.3.2 · PostgreSQL"
    operation: str
    curl: str = ""
    detail: str = ""  # what the server answered, as the replay summed it up ("HTTP 422 application/json")
    source: str = ""  # the file it comes from, relative to the report folder


@dataclass(frozen=True)
class Evidence:
    """What the matrix saw of one deviation."""

    releases: tuple[str, ...]  # column labels where it occurred (else the data's range), release then database
    source: str  # where `releases` comes from, said in the report
    occurs_on: tuple[str, ...] = ()  # operations on which a replay reproduced it
    curl: Recorded | None = None  # a replay (or a run's excused failure) that reproduced it
    controls: tuple[Recorded, ...] = ()  # recorded outcomes of the negative control, when the evidence has them


TITLE_CHARS = 110


def title(dev: Deviation) -> str:
    """The issue title: the summary's first clause, cut at a word to stay readable in GitHub's issue list."""
    clause = dev.summary.split(";")[0].split(" (")[0]
    if len(clause) > TITLE_CHARS:
        clause = clause[:TITLE_CHARS].rsplit(" ", 1)[0].rstrip(",") + " …"
    return f"REST API: {clause}"


def draft(dev: Deviation, evidence: Evidence, spec_version: str, documented: list[Documented]) -> str:
    """The Markdown of the issue: header, reproduction, trigger and control, expected vs actual, search hint."""
    lines = _header(dev, evidence) + _reproduction(dev, evidence) + _trigger_and_control(dev, evidence)
    lines += _expected_vs_actual(dev, spec_version, documented) + _search_hint(dev, documented)
    lines += [
        "",
        f"Found by airflow-api-conformance (deviation `{dev.id}`); "
        f"`airflow-conformance deviations verify --id {dev.id}` replays it.",
    ]
    return "\n".join(lines) + "\n"


def _header(dev: Deviation, evidence: Evidence) -> list[str]:
    lines = (
        [f"**Already recorded upstream: {dev.upstream}** — add to that thread rather than filing again.", ""]
        if dev.upstream and dev.upstream != UNREPORTED
        else []
    )
    lines += [
        f"# {title(dev)}",
        "",
        f"- class: `{dev.failure_class}`",
        f"- Apache Airflow version(s): {', '.join(evidence.releases) or dev.versions} ({evidence.source})",
        f"- upstream: {dev.reference}",
    ]
    if dev.backend:
        lines.append(f"- metadata database: {dev.backend} only")
    if dev.intermittent:
        lines.append(f"- intermittent: {dev.intermittent}")
    return lines + ["", "## What happened", "", dev.summary]


def _reproduction(dev: Deviation, evidence: Evidence) -> list[str]:
    """The recorded curl when a replay reproduced it, else the data's reproduction as request lines."""
    lines = ["", "## How to reproduce", ""]
    rec = evidence.curl
    if rec is not None and rec.curl:
        lines += [
            f"Recorded on Airflow {rec.column} (`{rec.operation}`, {rec.detail or 'reproduced'}; "
            f"from {rec.source}; credentials masked as `***`, the host is the local test server):",
            "",
            "```sh",
            rec.curl,
            "```",
        ]
        others = [op for op in evidence.occurs_on if op != rec.operation]
        if others:
            lines += ["", f"The same answer on {len(others)} more operation(s): {_names(others)}."]
        return lines
    lines += ["No recorded curl in the matrix evidence; the reproduction from the data:", ""]
    lines += [line for rep in dev.reproduce for line in _steps(rep)]
    return lines + ["", f"({PLACEHOLDERS})"]


def _trigger_and_control(dev: Deviation, evidence: Evidence) -> list[str]:
    lines = ["", "## Trigger and negative control", ""]
    lines.append(
        f"- trigger: {dev.trigger.describe()}"
        if dev.trigger
        else "- trigger: not recorded (the answer alone identifies this defect)"
    )
    if not dev.control:
        return lines + ["- negative control: not recorded"]
    lines.append("- negative control (the same request without the trigger; it must not produce the answer above):")
    lines += [f"  {line}" for rep in dev.control for line in _steps(rep)]
    for rec in evidence.controls:
        lines.append(
            f"  - recorded on Airflow {rec.column} (`{rec.operation}`): {rec.detail or 'no outcome recorded'}"
            + (f" — `{rec.curl}`" if rec.curl else "")
        )
    return lines


def _steps(rep: dict) -> list[str]:
    """A reproduction dict of the data as Markdown list items: its setup requests, then the request."""
    out = [
        f"- setup: `{step.get('method', 'GET')} {step.get('path')}`"
        + (f" body `{json.dumps(step.get('body'))}`" if "body" in step else "")
        for step in rep.get("setup") or []
    ]
    return out + [f"- {request_line(rep)}"]


def request_line(rep: dict) -> str:
    """One reproduction as a line: the operation and what it sends (never credentials: the data holds none)."""
    parts = [f"operation `{rep['operation']}`" if rep.get("operation") else "each listed operation"]
    if rep.get("mutate"):
        parts.append(f"a valid request built from the spec (`{rep['mutate']}`)")
    for key in ("path", "query", "body", "data", "headers"):
        if rep.get(key) is not None:
            parts.append(f"{key} `{json.dumps(rep[key])}`")
    if rep.get("anonymous"):
        parts.append("without credentials")
    return ", ".join(parts)


def _expected_vs_actual(dev: Deviation, spec_version: str, documented: list[Documented]) -> list[str]:
    lines = ["", "## Expected (the OpenAPI spec) vs actual (the server)", ""]
    if dev.spec_says:
        lines += [dev.spec_says, ""]
    if not documented:
        lines.append(
            f"The operations are not in the reference spec {spec_version or '(none here)'}; failing check(s): "
            f"{', '.join(dev.checks)}."
        )
    for doc in documented[:SHOWN_OPERATIONS]:
        lines.append(
            f"- expected, `{doc.operation_id}` ({doc.method} {doc.path}) in the {spec_version} spec: {doc.summary()}"
        )
    if len(documented) > SHOWN_OPERATIONS:
        lines.append(
            f"- and {len(documented) - SHOWN_OPERATIONS} more operation(s): "
            f"{_names([d.operation_id for d in documented[SHOWN_OPERATIONS:]])}"
        )
    lines.append(f"- actual: {dev.response.describe()} (failing check(s): {', '.join(dev.checks)})")
    excerpt = _schema_excerpt(dev, documented)
    return lines + (["", excerpt] if excerpt else [])


def _schema_excerpt(dev: Deviation, documented: list[Documented]) -> str:
    """For a schema check: the schema of the documented answer the server's answer stands against."""
    if not documented or not SCHEMA_CHECKS & set(dev.checks):
        return ""
    doc = documented[0]
    status = doc.answer_for(min(dev.response.status) if dev.response.status else None)
    text = doc.schema_excerpt(status) if status else ""
    return f"Documented schema of `{doc.operation_id}` {status}:\n\n```json\n{text}\n```" if text else ""


def search_terms(dev: Deviation, documented: list[Documented]) -> list[str]:
    """A few terms an existing issue would contain: the operation path, the signature's literal words, the
    message the summary quotes, the error status."""
    terms = []
    if documented:
        terms.append(re.sub(r"^/api/v\d+", "", documented[0].path))
    patterns = [p.pattern for p in (dev.response.body, dev.response.schema_error) if p is not None]
    patterns += [rx.pattern for _pointer, rx in dev.response.pointer]
    for pattern in patterns:
        # quotes dropped: GitHub's phrase search ignores punctuation, and a quote inside a term would end it
        words = [w.replace('"', "").replace("'", "").strip(" `:,;") for w in _REGEX_SYNTAX.split(pattern)]
        terms += [w for w in sorted(words, key=len, reverse=True)[:1] if len(w) >= 4]
    terms += re.findall(r'"([^"]{6,80})"', dev.summary)[:1]  # a message the summary quotes: what a reporter pastes
    if dev.response.status and min(dev.response.status) >= 400:  # "200" would match every issue with a response
        terms.append(str(min(dev.response.status)))
    return list(dict.fromkeys(terms))[:4]


def search_url(terms: list[str], repo: str = SERVER_REPO) -> str:
    return SEARCH_URL.format(repo=repo) + quote_plus(" ".join(["is:issue", *(f'"{t}"' for t in terms)]))


def _search_hint(dev: Deviation, documented: list[Documented]) -> list[str]:
    terms = search_terms(dev, documented)
    return [
        "",
        "## Before filing: search",
        "",
        " ".join(f'"{t}"' for t in terms),
        "",
        search_url(terms, CLIENT_REPO if dev.client else SERVER_REPO),
    ]


def _names(ops: list[str], limit: int = 12) -> str:
    shown = ", ".join(f"`{op}`" for op in ops[:limit])
    return shown + (f" and {len(ops) - limit} more" if len(ops) > limit else "")


def index(rows: list[tuple[Deviation, Evidence]]) -> str:
    """index.md of a folder of reports: one row per deviation, linking its file."""
    lines = [
        "# Known deviations: upstream reports",
        "",
        "| id | class | title | affected releases | upstream |",
        "|---|---|---|---|---|",
    ]
    for dev, evidence in rows:
        cell = ", ".join(evidence.releases) or dev.versions
        lines.append(
            f"| [`{dev.id}`]({dev.id}.md) | `{dev.failure_class}` | {_cell(title(dev))} | {_cell(cell)} | "
            f"{dev.reference} |"
        )
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
