"""JUnit XML as CI systems render it: one testcase per result.

Known deviations are reported as skipped with their upstream reference, so a
clean official release is green in CI while the deviation stays visible.
Rendered from the content of results.json (like report.html and summary.md), so
`airflow-conformance report` can write it again from any run's file.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter

from conformance.model.status import Status

# characters XML 1.0 cannot hold (control characters, lone surrogates): generated inputs echoed in messages carry them
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: object) -> str:
    """`value` as text a JUnit reader can parse: a character XML cannot hold is written as its escape (\\x14)."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))


def render_junit(data: dict) -> str:
    results = data.get("results") or []
    target = data.get("target") or {}
    counts = Counter(r.get("status") for r in results)
    suites = ET.Element("testsuites", name="airflow-conformance")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"airflow-conformance {target.get('airflow_version', '')}",
        tests=str(len(results)),
        failures=str(counts["failed"]),
        errors=str(counts["error"]),
        skipped=str(counts[Status.SKIPPED] + counts[Status.KNOWN_DEVIATION]),
        time=f"{float(data.get('duration_s') or 0):.3f}",
    )
    props = ET.SubElement(suite, "properties")
    for key, value in (
        ("target", target.get("url", "")),
        ("airflow_version", target.get("airflow_version", "")),
        ("profile", data.get("profile", "")),
        ("seed", str(data.get("seed"))),
        ("run_id", data.get("run_id", "")),
    ):
        ET.SubElement(props, "property", name=key, value=str(value))
    for reading in (data.get("clients") or {}).get("readings") or []:  # how many recorded answers each client parsed
        ET.SubElement(props, "property", name=f"client_{reading['client']}_parsed", value=str(reading.get("parsed", 0)))
    for r in results:
        _testcase(suite, r)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _testcase(suite: ET.Element, r: dict) -> None:
    status, message = r.get("status"), _text(r.get("message") or "")
    case = ET.SubElement(
        suite,
        "testcase",
        classname=f"conformance.{r.get('kind', '')}",
        name=str(r.get("id", "")),
        time=f"{float(r.get('duration_s') or 0):.3f}",
    )
    if status == "failed":
        el = ET.SubElement(case, "failure", message=message[:500], type="ContractViolation")
        el.text = message + ("\n\nReproduce:\n" + _text(r["reproduce"]) if r.get("reproduce") else "")
    elif status == "error":
        el = ET.SubElement(case, "error", message=message[:500], type="Error")
        el.text = message
    elif status == Status.KNOWN_DEVIATION:
        ET.SubElement(case, "skipped", message=f"known deviation {_text(r.get('upstream', ''))}: {message}"[:1000])
    elif status == "skipped":
        ET.SubElement(case, "skipped", message=message[:1000])
    if r.get("stale_deviation"):
        ET.SubElement(case, "system-out").text = _text(r["stale_deviation"])
