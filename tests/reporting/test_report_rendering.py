"""The four report files rendered from a run built here (no Airflow: the fast layer).

The same files from real runs against Airflow 2.10.5 and 3.3.2 are checked in
test_reports.py; this layer catches a renderer that drops a failure, loses its
curl, miscounts, leaks a registered secret, reaches for the network, stops
grouping findings or drifts from the published results schema, in seconds.
How the pages look in a real browser is test_report_browser.py.
"""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import xmlschema

from conformance.http.redact import Redactor
from conformance.reporting import findings
from conformance.reporting.results import SCHEMA_FILE, SCHEMA_VERSION, schema
from conformance.reporting.writer import FILES, write_all
from tests.sample_run import SECRET, sample_run

JUNIT_SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "junit.xsd"


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    run = sample_run()
    write_all(run, out, Redactor([SECRET]))
    return run, out


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())


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
    assert data["summary"] == {"passed": 2, "failed": 3, "known_deviation": 2, "skipped": 1, "error": 1, "requests": 42}
    failed = next(r for r in data["results"] if r["id"] == "scenario.dag_runs.state_is_read_only")
    assert failed["reproduce"].startswith("curl -X PATCH") and "***" in failed["reproduce"]
    assert data["operations"]["get_pools"]["tag"] == "Pool"


def test_results_json_follows_the_shipped_schema(written):
    _, out = written
    data = json.loads((out / "results.json").read_text())
    assert data["schema_version"] == SCHEMA_VERSION
    assert SCHEMA_FILE.parent.name == "reporting" and SCHEMA_FILE.parent.parent.name == "conformance"  # in the package
    jsonschema.Draft202012Validator.check_schema(schema())
    _validator().validate(data)


@pytest.mark.parametrize(
    "break_it",
    [
        lambda d: d.pop("schema_version"),
        lambda d: d["summary"].pop("failed"),
        lambda d: d["results"][0].update(status="sort of"),
        lambda d: d["results"][0].update(kind="Not A Kind"),
        lambda d: d["operations"]["get_dag"].pop("exercised"),
        lambda d: d["results"][0].update(surprise=1),
        lambda d: d["configuration"].update(headers=["X-Gateway-Key: the-value-itself"]),
    ],
    ids=["no-version", "summary-count", "status", "kind", "coverage", "undocumented-field", "header-value"],
)
def test_the_schema_rejects_what_it_does_not_document(written, break_it):
    _, out = written
    data = copy.deepcopy(json.loads((out / "results.json").read_text()))
    break_it(data)
    assert list(_validator().iter_errors(data)), "the schema let a broken file through"


def test_junit_has_one_case_per_result_and_marks_failures_and_errors(written):
    run, out = written
    xmlschema.XMLSchema(str(JUNIT_SCHEMA)).validate(str(out / "junit.xml"))
    root = ET.parse(out / "junit.xml").getroot()
    kinds = {case.get("name"): {child.tag for child in case} for case in root.iter("testcase")}
    assert len(kinds) == len(run.results)
    assert "failure" in kinds["scenario.dag_runs.state_is_read_only"] and "error" in kinds["property.get_dag"]
    assert "skipped" in kinds["scenario.auth.deny_all_default"] and not kinds["scenario.dags.patch_paused"] - {
        "system-out"
    }


def test_html_loads_nothing_from_the_network(written):
    _, out = written
    html = (out / "report.html").read_text()
    assert re.findall(r"""\bsrc\s*=\s*["']?\s*(?:https?:)?//""", html, re.I) == []
    assert "<link" not in html and "@import" not in html and "url(" not in html
    # the only outbound addresses are links a reader may follow: upstream issue threads
    hrefs = set(re.findall(r"""href\s*=\s*["']([^"']+)""", html))
    assert {h for h in hrefs if not h.startswith("#")} == {"https://github.com/apache/airflow/issues/15150"}


def test_contents_bar_links_every_section_of_the_report(written):
    """The contents bar of report.html links to sections that exist, and every section heading is in it."""
    _, out = written
    html = (out / "report.html").read_text()
    bar = re.search(r'<nav class="contents".*?</nav>', html, re.S)
    assert bar is not None
    linked = re.findall(r'href="#([^"]+)"', bar.group(0))
    sections = re.findall(r'<h2 id="([^"]+)"', html)
    assert linked == sections  # same sections, same order


def test_html_groups_failures_by_check_and_deviations_by_id(written):
    _, out = written
    html = (out / "report.html").read_text()
    failures = html.split('id="failure-groups"', 1)[1].split("</div>\n\n<h2", 1)[0]
    group = failures.split("<code>response_schema_conformance</code>", 1)[1].split('<details class="group"', 1)[0]
    assert "2 results, 2 operations" in group and "property.get_dags" in group and "property.get_pool" in group
    deviations = html.split('id="deviation-groups"', 1)[1]
    group = deviations.split("<code>v2-example-order-by</code>", 1)[1].split('<details class="group"', 1)[0]
    assert "2 results, 2 operations, excused 4 times" in group
    assert '<a href="https://github.com/apache/airflow/issues/15150"' in group
    assert "order_by is refused with 400" in group


def test_html_gives_each_failure_and_deviation_its_curl_and_rerun(written):
    run, out = written
    html = (out / "report.html").read_text()
    assert "Not conformant" in html
    for r in run.results:
        if r.status in ("failed", "error", "known_deviation"):
            command = findings.rerun_command(run.as_dict(), r.id)
            assert f'<pre class="rerun">{command.replace(chr(39), "&#39;")}</pre>' in html, r.id
    assert (
        "airflow-conformance run --target http://airflow.test --seed 7 --client none -k &#39;[property.get_pool]&#39;"
        in html
    )
    assert html.count('<pre class="curl">curl -X PATCH') == 1 and html.count('<pre class="curl">') == 3


def test_html_draws_status_and_coverage_per_tag(written):
    _, out = written
    html = (out / "report.html").read_text()
    assert html.count('<svg class="bar"') == 1 + 5  # one status bar, one per tag (DAG, DagRun, Pool, Role, Variable)
    assert 'aria-label="all checks: passed 2, failed 3, known deviation 2, skipped 1, error 1"' in html
    assert 'aria-label="Pool (2 operations): reached (2xx/3xx) 2"' in html
    assert 'aria-label="Variable (1 operations): not sent (kept back by the guard) 1"' in html
    assert "authorization.viewer.get_roles" in html  # a kind the reports never heard of is shown like any other


def test_a_kind_unknown_to_the_reports_is_counted_everywhere(written):
    _, out = written
    md = (out / "summary.md").read_text()
    assert "| 2 | 3 | 2 | 1 | 1 |" in md
    assert "authorization.viewer.get_roles" in (out / "junit.xml").read_text()


def test_upstream_references_become_links_and_rerun_selects_exactly_one_check():
    assert findings.upstream_links("apache/airflow#15150, unreported") == [
        {"text": "apache/airflow#15150", "url": "https://github.com/apache/airflow/issues/15150"},
        {"text": "unreported", "url": ""},
    ]
    data = {"target": {"url": "https://air flow.example"}, "seed": 3, "profile": "readonly"}
    assert findings.rerun_command(data, "property.get_pool") == (
        "airflow-conformance run --target 'https://air flow.example' --seed 3 --profile readonly --client none "
        "-k '[property.get_pool]'"
    )


def test_summary_md_is_a_short_table_naming_the_failure(written):
    _, out = written
    md = (out / "summary.md").read_text()
    header = md.splitlines().index(next(line for line in md.splitlines() if line.startswith("| passed")))
    assert re.fullmatch(r"\|(---:\|)+", md.splitlines()[header + 1])
    assert "scenario.dag_runs.state_is_read_only" in md


def test_html_shows_each_failures_class_and_a_count_per_class(written):
    _, out = written
    html = (out / "report.html").read_text()
    badge = '<span class="cls" title="failure class">{}</span>'
    counts = html.split('id="classes"', 1)[1].split("</p>", 1)[0]
    assert f"{badge.format('contract_break')} 2" in counts and f"{badge.format('error_shape')} 1" in counts
    assert "(<code>--fail-on</code>): all classes" in counts
    failures = html.split('id="failure-groups"', 1)[1].split("</div>\n\n<h2", 1)[0]
    member = failures.split("<code>property.get_pool</code>", 1)[1].split("</summary>", 1)[0]
    assert badge.format("error_shape") in member and "contract_break" not in member
    deviations = html.split('id="deviation-groups"', 1)[1]
    assert badge.format("undocumented_status") in deviations


def test_summary_md_counts_failures_per_class_and_states_the_gate(written):
    _, out = written
    md = (out / "summary.md").read_text()
    assert "Failure classes that fail the run (`--fail-on`): all classes." in md
    assert (
        "| contract_break | 2 | 0 |" in md
        and "| error_shape | 1 | 0 |" in md
        and "| undocumented_status | 0 | 2 |" in md
    )
    assert "| `property.get_pool` | failed | error_shape |" in md


def test_results_json_records_the_gate_and_the_counts_per_class(written):
    _, out = written
    data = json.loads((out / "results.json").read_text())
    assert data["gate"] == {
        "fail_on": ["server_error", "contract_break", "error_shape", "undocumented_status", "security"],
        "failed_outside": 0,
    }
    assert data["classes"] == {
        "failed": {"contract_break": 2, "error_shape": 1},
        "known_deviation": {"undocumented_status": 2},
    }
