"""The four run reports, produced by real runs against real Airflow 2.10.5 and 3.3.2."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import jsonschema
import pytest
import xmlschema

from conformance.reporting.results import SCHEMA_VERSION, schema
from tests.harness import cli

FILES = ("results.json", "junit.xml", "report.html", "summary.md")
SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "junit.xsd"
SELECTION = "paging or crud or password or auth or state_is_read_only or config or unknown or patch_update_mask or partial_patch"


@pytest.fixture(scope="module")
def run(live, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"reports-{live.version}")
    proc = cli(
        "run",
        "--target",
        live.url,
        "--auth",
        live.auth_spec,
        "--only",
        "scenarios,posture",
        "-k",
        SELECTION,
        "--report-dir",
        str(out),
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return live, out, proc


def test_all_four_files(run):
    _, out, _ = run
    for name in FILES:
        assert (out / name).stat().st_size > 0, name


def test_results_json_schema(run):
    live, out, _ = run
    data = json.loads((out / "results.json").read_text())
    # the file a real run wrote follows the schema shipped in the package
    jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker()).validate(data)
    assert data["schema_version"] == SCHEMA_VERSION
    assert all(row["tag"] for row in data["operations"].values())
    for key in (
        "suite_version",
        "seed",
        "profile",
        "run_id",
        "target",
        "started",
        "duration_s",
        "summary",
        "operations",
        "results",
    ):
        assert key in data, key
    assert data["target"] == {"url": live.url, "airflow_version": live.version, "api": live.api, "auth": live.kind}
    counts = {s: sum(1 for r in data["results"] if r["status"] == s) for s in data["summary"] if s != "requests"}
    assert counts == {k: v for k, v in data["summary"].items() if k != "requests"}
    assert data["summary"]["requests"] > 0
    from conformance.specs.catalog import load_spec, operations  # noqa: PLC0415

    spec_ops = {o.operation_id for o in operations(load_spec(data["reference_spec"]))}
    assert set(data["operations"]) == spec_ops
    for op in data["operations"].values():
        assert op["status"] in ("passed", "failed", "known_deviation", "skipped", "error")
        assert op["status"] != "skipped" or op["reason"]
    for r in data["results"]:
        assert r["status"] != "skipped" or r["message"], r["id"]
        if r["status"] == "known_deviation":  # structured: which deviations, which checks, a reference or `unreported`
            assert r["deviations"] and all(d["id"] and d["checks"] for d in r["deviations"]), r
            assert all(
                ref.strip() == "unreported" or re.fullmatch(r"[\w.-]+/[\w.-]+#\d+", ref.strip())
                for ref in r["upstream"].split(",")
            ), r


def test_junit_validates_against_the_ci_schema(run):
    _, out, _ = run
    xmlschema.XMLSchema(str(SCHEMA)).validate(str(out / "junit.xml"))
    data = json.loads((out / "results.json").read_text())
    xml = (out / "junit.xml").read_text()
    assert xml.count("<testcase ") == len(data["results"])
    for r in data["results"]:
        if r["status"] == "known_deviation":
            assert r["upstream"].split(",")[0] in xml


def test_html_is_self_contained(run):
    _, out, _ = run
    html = (out / "report.html").read_text()
    assert re.findall(r"""\bsrc\s*=\s*["']?\s*(?:https?:)?//""", html, re.I) == []
    assert "<link" not in html and "@import" not in html and "url(" not in html
    links = set(
        re.findall(r"""href\s*=\s*["']([^"']+)""", html)
    )  # in-page anchors, and upstream threads a reader may follow
    outside = {link for link in links if not link.startswith("#")}
    assert all(re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+/issues/\d+", link) for link in outside), outside
    anchors = set(re.findall(r"""\bid\s*=\s*["']([^"']+)""", html))
    assert {link[1:] for link in links - outside} <= anchors, "an in-page link leads nowhere"
    data = json.loads((out / "results.json").read_text())
    assert data["verdict"].capitalize() in html
    assert all(op in html for op in data["operations"])


def test_summary_md_is_a_short_table(run):
    _, out, _ = run
    md = (out / "summary.md").read_text()
    lines = md.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| passed"))
    assert re.fullmatch(r"\|(---:\|)+", lines[header + 1])
    assert len(lines) <= 80 and len(md) <= 8000


def test_no_secret_in_any_artifact_or_output(run):
    live, out, proc = run
    user, password = live.user, live.password
    secrets = [password, base64.b64encode(f"{user}:{password}".encode()).decode()]
    texts = {name: (out / name).read_text() for name in (*FILES, "cassette.json")}
    texts["stdout"], texts["stderr"] = proc.stdout, proc.stderr
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"a secret leaked into {where}"
        assert not re.search(r"eyJ[\w-]{10,}\.[\w-]{10,}\.", text), f"a JWT leaked into {where}"
        assert "acf-secret-" not in text, f"a connection password leaked into {where}"
