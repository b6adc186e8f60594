"""The four report files rendered from a run built here (no Airflow: the fast layer).

The same files from real runs against Airflow 2.10.5 and 3.3.2 are checked in
test_reports.py; this layer catches a renderer that drops a failure, loses its
curl, miscounts, leaks a registered secret or reaches for the network, in seconds.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from conformance.http.redact import Redactor
from conformance.reporting.results import Result, RunResults, operations_table
from conformance.reporting.writer import FILES, write_all

SECRET = "pw-4c1d-never-shown"
SCHEMA = Path(__file__).with_name("schemas") / "junit.xsd"
CURL = f"curl -X PATCH 'http://airflow.test/api/v2/dags/x' -u 'admin:{SECRET}' --data '{{\"is_paused\": true}}'"


def _results() -> list[Result]:
    return [
        Result("dags.patch_paused", "scenario", "Pause via update_mask", ["patch_dag"], "passed", must="MUST pause"),
        Result("dag_runs.state_is_read_only", "scenario", "state is read-only", ["post_dag_run"], "failed",
               message=f"POST answered 200, expected 400 (password {SECRET})", reproduce=CURL, must="MUST refuse state"),
        Result("property.get_pools", "property", "GET /pools", ["get_pools"], "known_deviation",
               message="excused", upstream="apache/airflow#15150",
               deviations=[{"id": "v2-example", "upstream": "apache/airflow#15150", "checks": ["status_code_conformance"],
                            "operations": ["get_pools"], "count": 2}]),
        Result("auth.deny_all_default", "scenario", "deny_all default", [], "skipped", message="needs default auth"),
        Result("property.get_dag", "property", "GET /dags/{dag_id}", ["get_dag"], "error", message="ReadTimeout"),
    ]


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[RunResults, Path]:
    out = tmp_path_factory.mktemp("reports")
    results = _results()
    run = RunResults(seed=7, run_id="acf_fast", target={"url": "http://airflow.test", "airflow_version": "3.3.2",
                                                        "api": "v2", "auth": "jwt"},
                     spec_version="3.3.2", results=results, requests=42)
    run.operations = operations_table(["patch_dag", "post_dag_run", "get_pools", "get_dag", "get_variables"], results,
                                      {"patch_dag": 3, "post_dag_run": 2, "get_pools": 5, "get_dag": 1}, {}, {})
    write_all(run, out, Redactor([SECRET]))
    return run, out


def test_every_file_is_written_and_none_holds_the_secret(written):
    _, out = written
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    for name in FILES:
        text = (out / name).read_text()
        assert text and SECRET not in text, name


def test_results_json_counts_and_verdict(written):
    run, out = written
    data = json.loads((out / "results.json").read_text())
    assert data["verdict"] == "not conformant" and run.exit_code() == 1
    assert data["summary"] == {"passed": 1, "failed": 1, "known_deviation": 1, "skipped": 1, "error": 1, "requests": 42}
    failed = next(r for r in data["results"] if r["status"] == "failed")
    assert failed["reproduce"].startswith("curl -X PATCH") and "***" in failed["reproduce"]
    assert set(data["operations"]) == {"patch_dag", "post_dag_run", "get_pools", "get_dag", "get_variables"}


def test_junit_has_one_case_per_result_and_marks_failures_and_errors(written):
    _, out = written
    xmlschema.XMLSchema(str(SCHEMA)).validate(str(out / "junit.xml"))
    root = ET.parse(out / "junit.xml").getroot()
    cases = root.iter("testcase")
    kinds = {case.get("name"): {child.tag for child in case} for case in cases}
    assert len(kinds) == 5
    assert "failure" in kinds["dag_runs.state_is_read_only"] and "error" in kinds["property.get_dag"]
    assert "skipped" in kinds["auth.deny_all_default"] and not kinds["dags.patch_paused"] - {"system-out"}


def test_html_is_self_contained_and_shows_the_failure_with_its_curl(written):
    _, out = written
    html = (out / "report.html").read_text()
    assert re.findall(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I) == []
    assert "<link" not in html and "@import" not in html
    assert "Not conformant" in html
    assert "dag_runs.state_is_read_only" in html and "curl -X PATCH" in html
    assert "apache/airflow#15150" in html


def test_summary_md_is_a_short_table_naming_the_failure(written):
    _, out = written
    md = (out / "summary.md").read_text()
    header = md.splitlines().index(next(line for line in md.splitlines() if line.startswith("| passed")))
    assert re.fullmatch(r"\|(---:\|)+", md.splitlines()[header + 1])
    assert "| 1 | 1 | 1 | 1 | 1 |" in md
    assert "dag_runs.state_is_read_only" in md
