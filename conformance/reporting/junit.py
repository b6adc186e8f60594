"""JUnit XML as CI systems render it: one testcase per result.

Known deviations are reported as skipped with their upstream reference, so a
clean official release is green in CI while the deviation stays visible.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter

from conformance.model.status import Status
from conformance.reporting.results import RunResults


def render_junit(run: RunResults) -> str:
    counts = Counter(r.status for r in run.results)
    suites = ET.Element("testsuites", name="airflow-conformance")
    suite = ET.SubElement(
        suites, "testsuite",
        name=f"airflow-conformance {run.target.get('airflow_version', '')}",
        tests=str(len(run.results)), failures=str(counts["failed"]), errors=str(counts["error"]),
        skipped=str(counts[Status.SKIPPED] + counts[Status.KNOWN_DEVIATION]), time=f"{run.duration_s:.3f}",
    )
    props = ET.SubElement(suite, "properties")
    for key, value in (("target", run.target.get("url", "")), ("airflow_version", run.target.get("airflow_version", "")),
                       ("profile", run.profile), ("seed", str(run.seed)), ("run_id", run.run_id)):
        ET.SubElement(props, "property", name=key, value=value)
    for reading in (run.clients or {}).get("readings") or []:  # how many recorded answers each client parsed
        ET.SubElement(props, "property", name=f"client_{reading['client']}_parsed", value=str(reading.get("parsed", 0)))
    for r in run.results:
        case = ET.SubElement(suite, "testcase", classname=f"conformance.{r.kind}", name=r.id, time=f"{r.duration_s:.3f}")
        if r.status == "failed":
            el = ET.SubElement(case, "failure", message=r.message[:500], type="ContractViolation")
            el.text = r.message + ("\n\nReproduce:\n" + r.reproduce if r.reproduce else "")
        elif r.status == "error":
            el = ET.SubElement(case, "error", message=r.message[:500], type="Error")
            el.text = r.message
        elif r.status == Status.KNOWN_DEVIATION:
            ET.SubElement(case, "skipped", message=f"known deviation {r.upstream}: {r.message}"[:1000])
        elif r.status == "skipped":
            ET.SubElement(case, "skipped", message=r.message[:1000])
        if r.stale_deviation:
            ET.SubElement(case, "system-out").text = r.stale_deviation
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
