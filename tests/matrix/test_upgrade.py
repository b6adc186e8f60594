"""`upgrade FROM TO`, `report RESULTS.json` and the published upgrade pages, from the recorded matrix runs
in reports/ and the real reference specs (no Airflow: the fast layer).

Expected facts are read from the specs and the runs here, independently of the report's own code, so a
report that stops saying them (or says something the data does not) fails.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from packaging.version import Version

from conformance.matrix import upgrade, upgrade_pages, upgrade_report
from conformance.matrix.compare import load_side, side_from_data
from conformance.specs import catalog
from tests.harness import caller_env, cli

REPORTS = Path(__file__).resolve().parents[2] / "reports"
RUNS = REPORTS / "runs"


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The command with the caller's environment as is and no time limit (offline: it reads files only)."""
    return cli(*args, timeout=None, env=caller_env(), cwd=cwd)


def _first_screen(text: str) -> list[str]:
    lines = text.splitlines()
    return lines[: lines.index(f"==== {upgrade_report.DETAILS} ====")]


def _ops(version: str) -> dict[str, catalog.Operation]:
    return {op.operation_id: op for op in catalog.operations(catalog.load_spec(version))}


@pytest.fixture(scope="module")
def big() -> dict:
    """The upgrade document of 2.10.5 -> 3.3.2, the pair the issue is about."""
    return upgrade_pages.document("2.10.5", "3.3.2", REPORTS)


@pytest.fixture(scope="module")
def big_text() -> str:
    proc = _cli("upgrade", "2.10.5", "3.3.2", "--matrix-dir", str(REPORTS))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_the_first_screen_is_at_most_80_lines_and_says_the_headline_facts(big_text):
    screen = _first_screen(big_text)
    assert len(screen) <= upgrade_report.FIRST_SCREEN
    text = " ".join(" ".join(screen).split())  # as read, wherever a line was wrapped
    a, b = catalog.load_spec("2.10.5"), catalog.load_spec("3.3.2")
    assert catalog.base_path(a) in text and catalog.base_path(b) in text  # /api/v1 -> /api/v2
    token_url = next(
        flow["tokenUrl"]
        for s in b["components"]["securitySchemes"].values()
        for flow in (s.get("flows") or {}).values()
    )
    assert token_url in text and "bearer" in text.lower() and "basic" in text.lower()
    assert "400 → 422" in text
    assert "dataset → asset" in text and "execution_date → logical_date" in text


def test_every_users_roles_and_permissions_operation_is_on_the_first_screen_as_removed(big_text):
    before, after = _ops("2.10.5"), _ops("3.3.2")
    gone = [op for op, o in before.items() if re.search(r"/(users|roles|permissions)\b", o.path) and op not in after]
    assert len(gone) >= 11
    screen = "\n".join(_first_screen(big_text))
    for op in gone:
        assert re.search(rf"\b{op}\b", screen), op


def test_renamed_operations_are_paired_by_evidence_and_partition_the_old_spec(big):
    before, after = _ops("2.10.5"), _ops("3.3.2")
    spec = big["spec"]
    olds = [r["from"]["operation"] for r in spec["renamed"]]
    removed = [r["operation"] for r in spec["removed"]]
    kept = [op for op in before if op in after]
    assert sorted(olds + removed + kept) == sorted(before)  # every old operation: kept, paired or removed, once
    for pair in spec["renamed"]:
        old, new = before[pair["from"]["operation"]], after[pair["to"]["operation"]]
        assert old.method == new.method and pair["how"]
        strip = [re.sub(r"\{[^}]*\}|~", "{}", p.split("/api/v", 1)[1][1:]) for p in (old.path, new.path)]
        renamed_old = strip[0].replace("dataset", "asset").replace("Dataset", "Asset")
        by_id = old.operation_id.replace("dataset", "asset") == new.operation_id
        assert strip[0] == strip[1] or renamed_old == strip[1] or by_id, (old, new)
    pairs = {r["from"]["operation"]: r["to"]["operation"] for r in spec["renamed"]}
    assert pairs.get("get_datasets") == "get_assets" and pairs.get("post_dag_run") == "trigger_dag_run"


def test_a_response_field_renamed_by_the_generation_is_reported_as_renamed(big):
    a, b = catalog.load_spec("2.10.5"), catalog.load_spec("3.3.2")
    assert "execution_date" in a["components"]["schemas"]["DAGRun"]["properties"]
    assert "execution_date" not in json.dumps(b["components"]["schemas"]["DAGRunResponse"])
    row = next(r for r in big["spec"]["fields"] if r["operation"] == "get_dag_runs")
    assert ["dag_runs[].execution_date", "dag_runs[].logical_date"] in row["response"]["renamed"]


def test_no_verdict_change_is_reported_where_the_recorded_answers_are_identical():
    """A check that went known_deviation -> passed while its operations answered the same statuses is no
    behaviour change; once an operation answers a new status, it is."""
    data = json.loads((RUNS / "3.3.2" / "results.json").read_text())
    excused = next(
        r
        for r in data["results"]
        if r["status"] == "known_deviation"
        and r["kind"] == "property"
        and r["operation_ids"]
        and (data["operations"][r["operation_ids"][0]].get("statuses"))
    )
    after = copy.deepcopy(data)
    changed = next(r for r in after["results"] if r["id"] == excused["id"])
    changed.update(status="passed", deviations=[])
    doc = upgrade.build(side_from_data("3.3.2", data), side_from_data("3.3.2b", after))
    assert doc["behaviour"] == [] and doc["same_answers"] == 1
    after["operations"][excused["operation_ids"][0]]["statuses"]["599"] = 1
    doc = upgrade.build(side_from_data("3.3.2", data), side_from_data("3.3.2b", after))
    assert [r["id"] for r in doc["behaviour"]] == [excused["id"]]


def test_every_reported_behaviour_change_has_different_answers_on_the_two_runs(big):
    assert big["behaviour"], "2.10.5 -> 3.3.2 changes behaviour somewhere"
    for row in big["behaviour"]:
        assert row["answers_from"] != row["answers_to"], row


def test_deviations_met_and_gone_follow_the_runs(big):
    a = load_side("2.10.5", REPORTS)
    b = load_side("3.3.2", REPORTS)
    assert {r["id"] for r in big["deviations"]["met_in_to"]} == b.deviations
    assert {r["id"] for r in big["deviations"]["gone"]} == a.deviations - b.deviations
    assert all(r["new"] == (r["id"] not in a.deviations) for r in big["deviations"]["met_in_to"])


def test_clients_reading_the_target_come_from_the_matrix_client_table(big):
    table = json.loads((REPORTS / "compatibility.json").read_text())["clients"]
    expected = {
        c
        for c, cells in table.items()
        if cells.get("3.3.2") and not cells["3.3.2"]["failed"] and not cells["3.3.2"]["error"]
    }
    assert {r["client"] for r in big["clients"] if r["reads"]} == expected


def test_minors_mean_the_matrix_release_of_that_minor():
    newest = max(Version(p.name) for p in RUNS.iterdir() if re.fullmatch(r"2\.10\.\d+", p.name))
    proc = _cli("compare", "2.10", "3.3", "--matrix-dir", str(REPORTS))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith(f"Airflow {newest} ({newest}")
    proc = _cli("upgrade", "2.10", "3.3", "--matrix-dir", str(REPORTS), "--brief")
    assert proc.returncode == 0 and f"Airflow {newest} →" in proc.stdout.splitlines()[0]


@pytest.mark.parametrize(
    "args",
    [
        ("9.9", "3.3"),
        ("2.10", "3.3", "--uses", "get_dags,no_such_op"),
        ("2.10", "3.3", "--uses", "@/no/such/file"),
        ("2.10", "3.3", "--format", "pdf"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args):
    proc = _cli("upgrade", *args, "--matrix-dir", str(REPORTS))
    assert proc.returncode == 2, proc.stdout[-300:]
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_uses_limits_the_report_to_the_operations_a_client_calls(tmp_path):
    (tmp_path / "ops.txt").write_text("get_dags\npost_dag_run  # triggers\n")
    proc = _cli(
        "upgrade",
        "2.10.5",
        "3.3.2",
        "--matrix-dir",
        str(REPORTS),
        "--uses",
        f"@{tmp_path / 'ops.txt'}",
        "--format",
        "json",
    )
    doc = json.loads(proc.stdout)
    assert doc["uses"] == ["get_dags", "post_dag_run"]
    assert {r["from"]["operation"] for r in doc["spec"]["renamed"]} == {"post_dag_run"}
    assert doc["spec"]["removed"] == [] and {r["operation"] for r in doc["spec"]["fields"]} <= {
        "get_dags",
        "post_dag_run",
    }


def test_every_format_renders_and_out_writes_the_three_files(tmp_path):
    for fmt in upgrade_report.FORMATS:
        proc = _cli("upgrade", "3.2.2", "3.3.2", "--matrix-dir", str(REPORTS), "--format", fmt)
        assert proc.returncode == 0, proc.stderr
    proc = _cli("upgrade", str(RUNS / "3.2.2" / "results.json"), str(RUNS / "3.3.2"), "--brief", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "3.2.2-to-3.3.2.html",
        "3.2.2-to-3.3.2.json",
        "3.2.2-to-3.3.2.md",
    ]
    html = (tmp_path / "3.2.2-to-3.3.2.html").read_text()
    anchors = set(re.findall(r'href="#([^"]+)"', html))
    assert anchors and anchors <= set(re.findall(r'id="([^"]+)"', html))  # every evidence link lands


def test_published_pairs_cover_what_the_picker_offers():
    folders = [p.parent.name for p in RUNS.glob("*/results.json")]
    pairs = set(upgrade_pages.published_pairs(folders))
    releases = sorted((Version(f), f) for f in folders if re.fullmatch(r"[\d.]+", f))
    assert {(a, b) for (_, a), (_, b) in zip(releases, releases[1:])} <= pairs
    threes = [f for v, f in releases if v.major == 3]
    twos = [(v, f) for v, f in releases if v.major == 2]
    latest_of_minor = {(v.major, v.minor): f for v, f in twos}
    assert {(f, threes[-1]) for f in latest_of_minor.values()} <= pairs
    assert {(twos[-1][1], f) for f in threes} <= pairs
    if {"2.10.5-postgres", "3.3.2-postgres"} <= set(folders):
        assert ("2.10.5-postgres", "3.3.2-postgres") in pairs
    for a, b in pairs:  # and the published matrix carries each page
        assert (REPORTS / upgrade_pages.FOLDER / f"{a}-to-{b}.html").is_file(), (a, b)


def test_matrix_publishing_writes_the_pages_of_its_runs(tmp_path):
    for version in ("3.2.2", "3.3.2"):
        (tmp_path / "runs" / version).mkdir(parents=True)
        (tmp_path / "runs" / version / "results.json").write_bytes((RUNS / version / "results.json").read_bytes())
    written = upgrade_pages.publish(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == ["upgrade/3.2.2-to-3.3.2.html"]
    assert upgrade_pages.page_name("3.2.2", "3.3.2") == "upgrade/3.2.2-to-3.3.2.html"


def test_report_renders_the_four_files_and_summary_matches_the_matrix(tmp_path):
    proc = _cli("report", str(RUNS / "2.10.5" / "results.json"), "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junit.xml", "report.html", "results.json", "summary.md"]
    assert (tmp_path / "results.json").read_bytes() == (RUNS / "2.10.5" / "results.json").read_bytes()
    matrix = {v["version"]: v["verdict"] for v in json.loads((REPORTS / "compatibility.json").read_text())["versions"]}
    assert f"API conformance: {matrix['2.10.5']}" in (tmp_path / "summary.md").read_text().splitlines()[0]
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    merged = json.loads((RUNS / "2.10.5" / "results.json").read_text())
    assert suite is not None and len(suite.findall("testcase")) >= len(merged["results"])
    assert '<nav class="contents"' in (tmp_path / "report.html").read_text()


def test_report_in_place_keeps_the_runs_results_json(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    original = (RUNS / "3.3.2" / "results.json").read_bytes()
    (folder / "results.json").write_bytes(original)
    proc = _cli("report", str(folder))
    assert proc.returncode == 0, proc.stderr
    assert (folder / "results.json").read_bytes() == original
    assert {"junit.xml", "report.html", "summary.md"} <= {p.name for p in folder.iterdir()}


@pytest.mark.parametrize("content", ["not json", "{}", json.dumps({"versions": []})])
def test_report_refuses_what_is_not_a_results_json(tmp_path, content):
    (tmp_path / "results.json").write_text(content)
    proc = _cli("report", str(tmp_path / "results.json"), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_published_runs_summary_and_matrix_give_the_same_verdict():
    matrix = {v["version"]: v["verdict"] for v in json.loads((REPORTS / "compatibility.json").read_text())["versions"]}
    from conformance.matrix.databases import label_of_dir  # noqa: PLC0415

    for folder in sorted(p.parent for p in RUNS.glob("*/results.json")):
        version = json.loads((folder / "results.json").read_text())["target"]["airflow_version"]
        label = label_of_dir(folder.name, version)
        head = (folder / "summary.md").read_text().splitlines()[0]
        assert head.endswith(f"API conformance: {matrix[label]}"), (folder.name, head)
        assert (folder / "report.html").is_file()


def test_body_fields_a_newer_spec_requires_are_reported(big):
    """POST /connections: the fields 3.3.2's body schema requires and 2.10.5's did not are listed as newly required."""

    def required(version: str, path: str) -> set[str]:
        spec = catalog.load_spec(version)
        body = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        schema = catalog.resolve(spec, body)
        found = set(schema.get("required") or [])
        for part in schema.get("allOf") or []:
            found |= set(catalog.resolve(spec, part).get("required") or [])
        return found

    new = required("3.3.2", "/api/v2/connections") - required("2.10.5", "/connections")
    assert new, "3.3.2 requires fields of a connection that 2.10.5 did not"
    row = next(r for r in big["spec"]["fields"] if r["operation"] == "post_connection")
    assert new <= set(row["newly_required"])


def test_matrix_rebuild_publishes_the_upgrade_pages(tmp_path):
    """`matrix --rebuild` (no Airflow) writes the compatibility files and the upgrade page of its two runs."""
    for version in ("3.2.2", "3.3.2"):
        (tmp_path / "runs" / version).mkdir(parents=True)
        for name in ("results.json", "clients.json"):
            (tmp_path / "runs" / version / name).write_bytes((RUNS / version / name).read_bytes())
    proc = _cli("matrix", "--rebuild", "--report-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-500:]
    page = tmp_path / upgrade_pages.page_name("3.2.2", "3.3.2")
    assert page.is_file() and "Upgrading Airflow 3.2.2 → 3.3.2" in page.read_text()
    assert (tmp_path / "compatibility.html").is_file()
