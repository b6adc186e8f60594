"""A deviation's releases are exactly those where its replay occurs: `deviations range`, lint from evidence,
the suggested specifier set, and the matrix's consistency invariant, on the committed matrix (no Airflow needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from conformance.cli import main
from conformance.expectations import all_deviations
from conformance.local.versions import supported
from conformance.matrix import consistency, evidence
from conformance.matrix.build import deviation_cell, deviation_status
from conformance.matrix.specifiers import selects, suggest

REPORTS = Path(__file__).resolve().parents[2] / "reports"
MATRIX = REPORTS / "compatibility.json"
S = supported()
X2 = [v for v in S if v.startswith("2.")]
X3 = [v for v in S if v.startswith("3.")]


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def _agreeing() -> evidence.EntryEvidence:
    """A real entry of the data whose replays on the committed matrix agree with its range and occur somewhere."""
    doc = evidence.load(MATRIX)
    found = [
        e
        for e in (evidence.of(d, doc) for d in all_deviations() if not d.backend)
        if e.agrees and e.where(evidence.OCCURS)
    ]
    assert found, "no entry of the data agrees with the committed matrix"
    return found[0]


# -- the suggested specifier set --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "occurs, expected",
    [
        (X3, ">=3.0,<3.4"),  # all of 3.x: bounded after the newest release where it occurs
        (["3.3.2"], ">=3.3,<3.4"),
        (["3.0.6", "3.1.8", "3.2.2"], ">=3.0,<3.3"),
        (X2, "<3"),  # all of 2.x: the next major, not <3.0.6
        ([v for v in X2 if Version(v) >= Version("2.6")], ">=2.6,<3"),
        (["2.10.5"], ">=2.10,<2.11"),
        (
            ["3.0.6", "3.1.8", "3.3.2"],
            ">=3.0,<3.4,!=3.2.*",
        ),  # a release in the middle without it: a hole, not two ranges
        (S, "<3.4"),  # every release: bounded above all the same, never an empty string
    ],
)
def test_the_suggestion_selects_exactly_the_releases_where_it_occurs(occurs, expected):
    assert suggest(occurs, S) == expected
    assert [str(v) for v in selects(expected, S)] == sorted(occurs, key=Version)


def test_no_suggestion_for_an_entry_that_occurs_nowhere():
    assert suggest([], S) is None


# -- deviations range ---------------------------------------------------------------------------------------------
def test_range_says_agrees_for_a_real_entry_whose_evidence_matches_its_range():
    entry = _agreeing()
    result = _invoke("deviations", "range", entry.deviation.id, "--matrix", str(MATRIX))
    assert result.exit_code == 0, result.output
    assert f"data: {entry.deviation.versions}" in result.stdout and "  agrees" in result.stdout
    suggested = result.stdout.split("suggested: ")[1].split()[0]
    occurring = {Version(r) for r in entry.occurring_releases()}
    assert occurring and occurring <= set(selects(suggested, S))


def test_range_exits_1_and_suggests_the_range_when_it_occurs_outside_the_data(tmp_path):
    entry = _agreeing()
    doc = json.loads(MATRIX.read_text(encoding="utf-8"))
    outside = next(
        label
        for label in evidence.columns_of(doc)  # a SQLite column the entry's range leaves out
        if " · " not in label and not entry.in_range(evidence.Column(label, label, "sqlite", evidence.OCCURS))
    )
    cell = {"occurs": ["some_operation"], "absent": [], "not_replayed": [], "excused": []}
    doc["deviations"].setdefault(entry.deviation.id, {})[outside] = cell
    copy = tmp_path / "compatibility.json"
    copy.write_text(json.dumps(doc), encoding="utf-8")
    result = _invoke("deviations", "range", entry.deviation.id, "--matrix", str(copy))
    assert result.exit_code == 1, result.output
    assert f"DISAGREES: data says {entry.deviation.versions} but it occurs on {outside}" in result.stdout
    suggested = result.stdout.split("suggested: ")[1].split()[0]
    assert Version(outside) in SpecifierSet(suggested) and Version(outside) not in SpecifierSet(
        entry.deviation.versions
    )
    wanted = {Version(r) for r in entry.occurring_releases()} | {Version(outside)}
    assert set(selects(suggested, S)) == wanted


def test_a_postgres_column_counts_for_its_release_on_that_backend():
    doc = json.loads(MATRIX.read_text(encoding="utf-8"))
    label = next(v for v in evidence.columns_of(doc) if v.endswith("PostgreSQL"))
    col = evidence.of(all_deviations()[0], doc).columns[evidence.columns_of(doc).index(label)]
    assert (col.release, col.database) == (label.split(" · ")[0], "postgres")


def test_an_unknown_id_is_a_usage_error():
    assert _invoke("deviations", "range", "no-such-deviation", "--matrix", str(MATRIX)).exit_code == 2


# -- lint from evidence ---------------------------------------------------------------------------------------------
def test_lint_reports_a_range_the_evidence_disagrees_with_and_not_without_evidence(tmp_path):
    entry = _agreeing()
    doc = json.loads(MATRIX.read_text(encoding="utf-8"))
    inside = [c.label for c in entry.where(evidence.OCCURS)]
    for label in inside:  # the copy says the replay ran there and never reproduced it: the range is too wide
        doc["deviations"][entry.deviation.id][label] = {
            "occurs": [],
            "absent": ["x"],
            "not_replayed": [],
            "excused": [],
        }
    copy = tmp_path / "compatibility.json"
    copy.write_text(json.dumps(doc), encoding="utf-8")
    line = f"deviation {entry.deviation.id}: data says {entry.deviation.versions} but it does not occur on"
    with_copy = _invoke("deviations", "lint", "--evidence", str(copy))
    assert with_copy.exit_code == 1 and line in with_copy.stdout
    assert "it occurs nowhere: stale" in with_copy.stdout.split(line)[1].split("\n")[0]
    assert line not in _invoke("deviations", "lint", "--evidence", str(MATRIX)).stdout
    assert line not in _invoke("deviations", "lint", "--no-evidence", "--evidence", str(copy)).stdout


def test_an_intermittent_entry_is_not_decided_by_one_miss():
    intermittent = next(d for d in all_deviations() if d.intermittent)
    label = "3.3.2"
    doc = {
        "versions": [{"version": label}],
        "deviations": {intermittent.id: {label: {"occurs": [], "absent": ["x"], "not_replayed": [], "excused": []}}},
    }
    assert evidence.of(intermittent, doc).columns[0].outcome == evidence.UNDECIDED


def test_a_cell_outside_the_range_that_does_not_occur_is_absent_not_stale():
    cell = {"occurs": [], "absent": ["get_dags"], "not_replayed": [], "excused": [], "in_range": False}
    assert deviation_cell(cell) == "absent 0/1" and deviation_status(cell) == "skipped"
    assert deviation_cell({**cell, "in_range": True}) == "stale 0/1"
    assert deviation_cell({**cell, "occurs": ["get_pools"]}) == "occurs 1/2 (outside its range)"


# -- the consistency invariant ----------------------------------------------------------------------------------------
# The same answer to the same request, recorded as a failure on one release and as an excused one on another (the
# formats results.json uses: a failure line with its curl, an excuse's `observed:` part), in runs written here, so
# the rule is tested on its own and not on whatever the published matrix holds today.
_REQUEST = "GET /api/v2/dags?dag_run_state=x&limit=2"
_LINE = (
    "[negative_data_rejection] HTTP 200 application/json: Schema-violating request accepted | response: "
    '{"dags": [], "total_entries": 0} | request: ' + _REQUEST
)
_CURL = "curl -X GET -H 'Authorization: Bearer ***' 'http://127.0.0.1:28095/api/v2/dags?dag_run_state=x&limit=2'"


def _result(status: str) -> dict:
    message = (
        f"1 distinct contract violation(s) of GET /dags in 3 requests:\n- {_LINE}\n  reproduce: {_CURL}"
        if status == "failed"
        else f"known upstream deviation v2-x (unreported): a summary | observed: {_LINE} | 3 requests; statuses 200x3"
    )
    return {"id": "property.get_dags", "kind": "property", "status": status, "message": message, "reproduce": _CURL}


def _write_runs(root: Path, statuses: dict[str, str]) -> Path:
    for version, status in statuses.items():
        folder = root / "runs" / version
        folder.mkdir(parents=True)
        doc = {"target": {"airflow_version": version}, "results": [_result(status)]}
        (folder / "results.json").write_text(json.dumps(doc), encoding="utf-8")
    return root


def test_consistency_finds_the_same_answer_failed_on_one_release_and_excused_on_another(tmp_path):
    runs = consistency.load_results(_write_runs(tmp_path, {"3.2.2": "failed", "3.3.2": "known_deviation"}))
    found = {s.check_id: s for s in consistency.splits(runs)}
    assert found["property.get_dags"].statuses == {"3.2.2": "failed", "3.3.2": "known_deviation"}
    pairs = consistency.by_release_pair(list(found.values()))
    assert pairs[("3.2.2", "failed", "3.3.2", "known_deviation")] == 1


def test_consistency_is_clean_once_the_releases_agree(tmp_path):
    runs = consistency.load_results(_write_runs(tmp_path, {"3.2.2": "known_deviation", "3.3.2": "known_deviation"}))
    assert consistency.splits(runs) == []


def test_the_consistency_command_exits_1_with_a_split_and_0_without(tmp_path):
    split = _invoke(
        "matrix",
        "--consistency",
        "--matrix-dir",
        str(_write_runs(tmp_path / "a", {"3.2.2": "failed", "3.3.2": "known_deviation"})),
    )
    assert split.exit_code == 1 and "property.get_dags: " in split.stdout
    assert split.stdout.strip().splitlines()[-1].startswith("total: 2 ")
    clean = _invoke(
        "matrix",
        "--consistency",
        "--matrix-dir",
        str(_write_runs(tmp_path / "b", {"3.2.2": "failed", "3.3.2": "failed"})),
    )
    assert clean.exit_code == 0 and clean.stdout.strip().splitlines()[-1].startswith("total: 0 ")


def test_a_failure_message_and_an_excused_one_yield_the_same_answer():
    assert set(consistency.answers(_result("failed"))) & set(consistency.answers(_result("known_deviation")))
    curl = consistency.normalise_curl(_CURL)
    assert "{target}" in curl and "Authorization" not in curl
