"""The compatibility matrix: one release that cannot be provisioned must not stop the others; second passes
decide on a restart what a release's main run cannot."""

from __future__ import annotations

import json
import re

import pytest

from conformance.matrix import build, collect


@pytest.mark.parametrize("version", ["2.10.5"])  # the target it runs on (tests/live_groups.py)
def test_failed_release_becomes_an_error_column_and_the_rest_runs(targets, tmp_path, version):
    live = targets.get(version)
    messages: list[str] = []
    extra = ["--only", "posture"]
    broken = collect.collect_local(["2.9.3"], tmp_path, extra, messages.append, python="/nonexistent/python3.11")
    ran = collect.collect_targets([live.url], live.auth_spec, tmp_path, extra, messages.append)
    doc = build.build(broken + ran)
    build.write(doc, tmp_path)

    columns = {c["version"]: c for c in doc["versions"]}
    assert columns["2.9.3"]["status"] == "error" and "could not provision" in columns["2.9.3"]["reason"]
    assert columns[version]["status"] == "ran" and columns[version]["verdict"] == "conformant"
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
    # every entry is replayed (`--every-entry`): the ones whose range names the release occur, the others are evidence
    replayed = {
        dev_id: cells["2.10.5"] for dev_id, cells in doc["deviations"].items() if "in_range" in cells.get("2.10.5", {})
    }
    on_release = {dev_id: cell for dev_id, cell in replayed.items() if cell["in_range"]}
    assert on_release and all(cell["occurs"] for cell in on_release.values()), {
        d: c for d, c in on_release.items() if not c["occurs"]
    }
    assert len(replayed) > len(on_release), "the matrix replayed only the entries recorded for the release"
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


@pytest.mark.airflow
def test_the_disruptive_pass_decides_what_the_sandbox_and_the_default_settings_cannot(tmp_path):
    """After the main run, one restart (`--profile disruptive`, `[core] test_connection` on) decides the
    authorization cells the guard keeps back in the sandbox (default connections) and the official client's
    `test_connection`; what it created is gone (its ledger is discarded, no cleanup problem) and no target is
    left running. Not 3.3.2: other modules keep it running, and the matrix never restarts a target that was
    running before it. (2.x user and role creates: test_safety's disruptive run, on the running 2.10.5.)"""
    from conformance.local import instance  # noqa: PLC0415
    from conformance.matrix import cells as cell_of  # noqa: PLC0415
    from conformance.safety.ledger import ledger_dir  # noqa: PLC0415

    releases = ["3.2.2"]
    if {t.key for t in instance.running()} & set(releases):
        pytest.skip("a release of this test is already running: the matrix would not restart it")
    messages: list[str] = []
    columns = collect.collect_local(
        releases, tmp_path, ["--only", "authorization", "--seed", "20261201"], messages.append
    )
    doc = build.build(columns)
    waiting = {"3.2.2": ["authorization.create_default_connections", "client.test_connection"]}
    for version, checks in waiting.items():
        assert any(f"Airflow {version}: disruptive restart: --profile disruptive" in m for m in messages), messages
        for check in checks:
            cell = doc["checks"][check]["cells"][version]
            assert cell["status"] in cell_of.DECIDED and cell.get("second_pass") == "disruptive", (version, check, cell)
        undecided = [
            cid
            for cid, row in doc["checks"].items()
            if cid.startswith("authorization.") and row["cells"][version]["status"] == cell_of.UNDECIDED
        ]
        assert undecided == [], (version, undecided)
        second = json.loads((tmp_path / "runs" / version / "disruptive" / "results.json").read_text())
        assert second["profile"] == "disruptive" and second["cleanup_problems"] == []
        assert not (ledger_dir() / f"{second['run_id']}.jsonl").exists()  # everything it recorded was deleted
    assert not {t.key for t in instance.running()} & set(releases)
