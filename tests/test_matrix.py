"""The compatibility matrix: one release that cannot be provisioned must not stop the others."""

from __future__ import annotations

import json
import re

from conformance.matrix import build, collect


def test_failed_release_becomes_an_error_column_and_the_rest_runs(targets, tmp_path):
    live = targets.get("2.10.5")
    messages: list[str] = []
    extra = ["--only", "posture"]
    broken = collect.collect_local(["2.9.3"], tmp_path, extra, messages.append, python="/nonexistent/python3.11")
    ran = collect.collect_targets([live.url], live.auth_spec, tmp_path, extra, messages.append)
    doc = build.build(broken + ran)
    build.write(doc, tmp_path)

    columns = {c["version"]: c for c in doc["versions"]}
    assert columns["2.9.3"]["status"] == "error" and "could not provision" in columns["2.9.3"]["reason"]
    assert columns["2.10.5"]["status"] == "ran" and columns["2.10.5"]["verdict"] == "conformant"
    assert any("2.9.3" in m for m in messages), "no progress line for the failing release"
    # the release's run speaks while it runs: its own lines come through, prefixed with its place
    # ... with the time its turn has taken so far ("[1/1] +0:42 ...")
    lines = [re.sub(r"^(\[\d+/\d+\]) \+\d+:\d\d ", r"\1 ", m) for m in messages]
    assert all(re.match(r"^\[\d+/\d+\] \+\d+:\d\d ", m) for m in messages if m.startswith("[")), messages
    assert any(m.startswith("[1/1] target ") and ": Airflow 2.10.5 (API v1)" in m for m in lines), messages
    assert any(m.startswith("[1/1] phase: posture") for m in lines), messages
    assert any(m.startswith("[1/1] verdict: conformant") for m in lines), messages
    assert "[1/1] replaying the recorded deviations" in lines
    md = (tmp_path / "compatibility.md").read_text()
    assert "| 2.9.3 | error: could not provision" in md and "| 2.10.5 | conformant |" in md
    assert json.loads((tmp_path / "compatibility.json").read_text())["spec_diffs"][0]["from"] == "2.9.3"

    rebuilt = build.build(collect.load_runs(tmp_path))  # `matrix --rebuild` gives the same columns
    assert {c["version"]: c["status"] for c in rebuilt["versions"]} == {"2.9.3": "error", "2.10.5": "ran"}

    # each release records which known deviations its replay reproduced (and a rebuild keeps that)
    on_release = {dev_id: cells["2.10.5"] for dev_id, cells in doc["deviations"].items() if "2.10.5" in cells}
    assert on_release and all(cell["occurs"] for cell in on_release.values()), \
        {d: c for d, c in on_release.items() if not c["occurs"]}
    assert "## Known deviations by release" in md
    assert rebuilt["deviations"].keys() == doc["deviations"].keys()

    # client rows: the matching client and the previous minor read the release's cassette (no 2.11 client exists)
    assert set(doc["clients"]) == {"2.9.1", "2.10.0"}, doc["clients"]
    cells = {client: row["2.10.5"] for client, row in doc["clients"].items()}
    assert cells["2.10.0"]["relation"] == "matching" and cells["2.9.1"]["relation"] == "older"
    assert all(c["parsed"] > 0 and not c["error"] for c in cells.values()), cells
    assert "## Official clients" in md and "(matching)" in md
    assert rebuilt["clients"] == doc["clients"]
    run_dir = next(p for p in (tmp_path / "runs").iterdir() if (p / "cassette.json").is_file())
    (run_dir / "clients.json").unlink()  # collected without readings: a rebuild reads the cassette itself
    assert build.build(collect.load_runs(tmp_path))["clients"] == doc["clients"]
    (run_dir / "clients.json").unlink()
    (run_dir / "cassette.json").unlink()  # no cassette: no client cells, the rest still renders
    bare = build.build(collect.load_runs(tmp_path))
    assert bare["clients"] == {} and "## Official clients" not in build.render_markdown(bare)
