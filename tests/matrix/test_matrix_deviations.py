"""How the matrix records, per release, which known deviations occurred (no Airflow needed)."""

from __future__ import annotations

import json

from conformance.expectations import all_deviations
from conformance.matrix.build import build, deviation_cell, render_markdown
from conformance.matrix.collect import Column
from conformance.matrix.upstream import gather, read_matrix


def _column(version: str, replays: list, excused: dict[str, list[str]]) -> Column:
    results = {
        "results": [
            {
                "id": f"property.{op}",
                "kind": "property",
                "title": op,
                "status": "known_deviation",
                "message": "",
                "deviations": [{"id": dev_id, "operations": [op]}],
            }
            for dev_id, ops in excused.items()
            for op in ops
        ]
    }
    return Column(version, status="ran", exit_code=0, results=results, replays=replays)


def _replay(dev_id: str, op: str, verdict: str) -> dict:
    return {"id": dev_id, "operation": op, "verdict": verdict, "detail": ""}


def test_replays_and_excuses_land_per_release_and_a_deviation_that_no_longer_occurs_is_stale():
    old = _column(
        "2.9.3",
        [_replay("d-one", "get_dags", "occurs"), _replay("d-one", "get_pools", "does not occur")],
        {"d-one": ["get_dags"]},
    )
    new = _column(
        "2.10.5", [_replay("d-one", "get_dags", "does not occur"), _replay("d-one", "get_pools", "does not occur")], {}
    )
    doc = build([new, old])
    cells = doc["deviations"]["d-one"]
    assert cells["2.9.3"]["occurs"] == ["get_dags"] and cells["2.9.3"]["excused"] == ["get_dags"]
    assert deviation_cell(cells["2.9.3"]) == "occurs 1/2, excused 1"
    assert deviation_cell(cells["2.10.5"]) == "stale 0/2"
    assert "| `d-one` | occurs 1/2, excused 1 | stale 0/2 |" in render_markdown(doc)


def test_the_upstream_draft_names_the_releases_where_the_matrix_saw_the_deviation(tmp_path):
    dev = all_deviations()[0]
    matrix = {
        "deviations": {
            dev.id: {
                "2.9.3": {"occurs": [], "absent": ["x"], "not_replayed": [], "excused": []},
                "2.10.5": {"occurs": ["x"], "absent": [], "not_replayed": [], "excused": []},
            }
        }
    }
    path = tmp_path / "compatibility.json"
    path.write_text(json.dumps(matrix), encoding="utf-8")
    evidence = gather(dev, read_matrix(path), path)
    assert evidence.releases == ("2.10.5",) and "compatibility.json" in evidence.source
