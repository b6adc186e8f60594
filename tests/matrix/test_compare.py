"""`compare`: what changes between two runs, from their results.json (no Airflow: the fast layer)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.errors import ConfigError
from conformance.matrix import compare_report
from conformance.matrix.compare import adjacent, compare, is_regression, load_side
from tests.harness import caller_env, cli


def _run(version: str, spec: str, statuses: dict[str, str], codes: dict[str, dict], excused: dict[str, list]) -> dict:
    results = [
        {
            "id": rid,
            "kind": "scenario",
            "title": rid,
            "operation_ids": [],
            "status": status,
            "message": "",
            "deviations": [{"id": d} for d in excused.get(rid, [])],
        }
        for rid, status in statuses.items()
    ]
    operations = {op: {"requests": sum(c.values()), "status": "passed", "statuses": c} for op, c in codes.items()}
    return {
        "target": {"url": "http://x", "airflow_version": version, "api": "v1"},
        "reference_spec": spec,
        "verdict": "conformant",
        "results": results,
        "operations": operations,
    }


A = _run(
    "2.9.3",
    "2.9.3",
    {"dags.get": "passed", "pools.crud": "passed", "auth.x": "skipped", "gone": "passed"},
    {"get_dags": {"200": 3}, "get_pools": {"200": 2, "404": 1}},
    {"pools.crud": []},
)
B = _run(
    "2.10.5",
    "2.10.5",
    {"dags.get": "failed", "pools.crud": "known_deviation", "auth.x": "passed", "new": "passed"},
    {"get_dags": {"200": 2, "500": 1}, "get_pools": {"200": 2}},
    {"pools.crud": ["v1-example-deviation"]},
)


@pytest.fixture
def files(tmp_path) -> tuple[Path, Path]:
    (tmp_path / "a.json").write_text(json.dumps(A))
    (tmp_path / "runs" / "2.10.5").mkdir(parents=True)
    (tmp_path / "runs" / "2.10.5" / "results.json").write_text(json.dumps(B))
    return tmp_path / "a.json", tmp_path


def test_changes_a_client_meets(files):
    a_path, root = files
    doc = compare(load_side(str(a_path), root), load_side("2.10.5", root))  # a file, and a matrix release
    changes = {c["id"]: (c["from"], c["to"]) for c in doc["status_changes"]}
    assert changes == {
        "dags.get": ("passed", "failed"),
        "pools.crud": ("passed", "known_deviation"),
        "auth.x": ("skipped", "passed"),
    }
    assert [c["id"] for c in doc["status_changes"]][:2] == ["dags.get", "pools.crud"]  # regressions first
    assert doc["new_statuses"] == [{"operation": "get_dags", "statuses": ["500"]}]
    assert doc["gone_statuses"] == [{"operation": "get_pools", "statuses": ["404"]}]
    assert doc["deviations_appeared"] == ["v1-example-deviation"] and doc["deviations_gone"] == []
    assert doc["checks_added"] == ["new"] and doc["checks_removed"] == ["gone"]
    assert doc["spec"]["added"] and doc["spec"]["changed"]  # 2.9.3 -> 2.10.5 added operations (e.g. reparse)


def test_skipped_is_never_a_regression():
    assert not is_regression({"from": "skipped", "to": "failed"})
    assert not is_regression({"from": "passed", "to": "skipped"})
    assert is_regression({"from": "known_deviation", "to": "error"})


def test_renderings_name_every_part(files, tmp_path):
    a_path, root = files
    doc = compare(load_side(str(a_path), root), load_side("2.10.5", root))
    text, md = compare_report.render_text(doc), compare_report.render_markdown(doc)
    for part in ("dags.get: passed -> failed  (worse)", "get_dags: 500", "v1-example-deviation"):
        assert part in text and part in md
    paths = compare_report.write(doc, tmp_path / "out")
    assert [p.name for p in paths] == list(compare_report.FILES)
    assert "dags.get" in (tmp_path / "out" / "compare.html").read_text()


def test_same_run_twice_has_nothing_to_say(files):
    a_path, root = files
    side = load_side(str(a_path), root)
    assert "No difference a client would meet." in compare_report.render_text(compare(side, side))


def test_adjacent_releases_of_a_matrix():
    rows = adjacent([("2.9.3", A), ("2.10.5", B), ("3.0.0", {})])  # a release without results is passed over
    assert [(r["from"], r["to"]) for r in rows] == [("2.9.3", "2.10.5")]


def test_unknown_input_is_one_line_and_exit_2(tmp_path):
    with pytest.raises(ConfigError):
        load_side("9.9.9", tmp_path)
    (tmp_path / "bad.json").write_text("{}")
    proc = cli(
        "compare", str(tmp_path / "bad.json"), "9.9.9", "--matrix-dir", str(tmp_path), timeout=None, env=caller_env()
    )
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_a_matrix_release_is_compared_with_the_cells_its_second_passes_decided(tmp_path):
    from conformance.safety.guard import FORBIDDEN_AREA_REASON  # noqa: PLC0415

    main = _run("2.10.5", "2.10.5", {"dags.get": "passed"}, {}, {})
    main["results"].append(
        {
            "id": "authorization.post_user",
            "kind": "authorization",
            "title": "",
            "operation_ids": [],
            "status": "skipped",
            "message": f"refused by the safety guard: {FORBIDDEN_AREA_REASON}",
        }
    )
    second = {
        "run_id": "acf_x",
        "results": [
            {
                "id": "authorization.post_user",
                "kind": "authorization",
                "status": "failed",
                "message": "Viewer allowed (200)",
            }
        ],
    }
    folder = tmp_path / "runs" / "2.10.5"
    (folder / "disruptive").mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps(main))
    (folder / "disruptive" / "results.json").write_text(json.dumps(second))
    side = load_side("2.10.5", tmp_path)
    assert side.results["authorization.post_user"]["status"] == "failed" and side.verdict == "not conformant"
