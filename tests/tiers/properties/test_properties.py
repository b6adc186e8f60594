"""The property tier against real Airflow 2.10.5 and 3.3.2: coverage, the readonly promise, the time budget
(what a sandbox run reaches is judged on test_safety's default run: `assert_sandbox_coverage`).

No mocks: the target is started through the public CLI (`up`, reused when it
already runs, stopped at the end only if this session started it), the suite
runs through `airflow-conformance run --only properties`, and what the
target holds is read back over its own API.
"""

from __future__ import annotations

import json

import pytest

from tests.harness import cli
from tests.snapshot import snapshot

EXAMPLES = "4"
SEED = "20240101"
TERMINAL = ("success", "failed")
# operations whose 2xx answers once reached no client: the log (2.x answers text/plain unless asked for JSON), the
# mapped task instance, a bulk clear, a re-parse (2.x: 201 without a body), a task
CLIENT_READ_OPERATIONS = (
    "get_log",
    "get_mapped_task_instance",
    "get_mapped_task_instance_try_details",
    "clear_dag_runs",
    "reparse_dag_file",
    "get_task",
)


def listing(live) -> dict:
    """What a run must not change, from the target's database; runs still finishing count as `unfinished`."""
    snap = snapshot(live, live.home)
    snap["dag_runs"] = sorted((d, r, st if st in TERMINAL else "unfinished") for d, r, st in snap["dag_runs"])
    return snap


def _spec_operations(version: str) -> dict[str, str]:
    """operationId -> HTTP method of the reference spec."""
    from conformance.specs.catalog import load_spec  # noqa: PLC0415

    spec = load_spec(version)
    return {
        op["operationId"]: method.upper()
        for item in spec["paths"].values()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }


def _run(live, tmp_path, *extra: str) -> tuple[object, dict]:
    proc = cli(
        "run",
        "--target",
        live.url,
        "--auth",
        live.auth_spec,
        "--only",
        "properties",
        "--max-examples",
        EXAMPLES,
        "--seed",
        SEED,
        "--report-dir",
        str(tmp_path),
        *extra,
        timeout=1500,
    )
    results = json.loads((tmp_path / "results.json").read_text()) if (tmp_path / "results.json").exists() else {}
    return proc, results


def _undecided(results: dict) -> list[str]:
    """Results the suite could not decide (failed ones are the release's honest answers, not the test's concern)."""
    return [f"{r['id']}: {r['message'][:400]}" for r in results.get("results", []) if r["status"] == "error"]


def test_readonly_run_changes_nothing_and_covers_every_operation(live, tmp_path):
    from conformance.safety.guard import READONLY_POSTS  # noqa: PLC0415

    before = listing(live)
    proc, results = _run(live, tmp_path, "--profile", "readonly")
    after = listing(live)
    assert proc.returncode in (0, 1) and not _undecided(results), (proc.stderr[-1500:], _undecided(results))
    assert results["profile"] == "readonly"
    for kind in before:
        assert before[kind] == after[kind], f"the readonly run changed {kind}"
    ops = _spec_operations(live.version)
    assert set(results["operations"]) == set(ops), "results.json must list every operationId of the reference spec"
    writes = [op for op, method in ops.items() if method not in ("GET", "HEAD") and op not in READONLY_POSTS]
    for op in writes:
        entry = results["operations"][op]
        assert entry["requests"] == 0, f"readonly sent {entry['requests']} request(s) to the state-changing {op}"
        assert entry["status"] == "skipped" and "readonly" in entry["reason"], (op, entry)
    exercised = [
        op for op, e in results["operations"].items() if e["status"] in ("passed", "failed", "known_deviation")
    ]
    reads = [op for op in ops if op not in writes]
    assert set(reads) <= set(exercised), f"reads not exercised: {sorted(set(reads) - set(exercised))}"
    props = [
        r for r in results["results"] if r["id"].startswith("property.") and not r["id"].startswith("property.chain.")
    ]
    assert {r["id"] for r in props} == {f"property.{op}" for op in ops}
    assert all(r["status"] != "skipped" or r["message"] for r in results["results"]), "every skip says why"


def assert_sandbox_coverage(results: dict, version: str) -> None:
    """What a sandbox run must reach, judged on its results.json (test_safety's default run calls it: one run
    proves both that nothing foreign changed and that the run covered what it should)."""
    assert results["cleanup_problems"] == []
    ops = _spec_operations(version)
    assert set(results["operations"]) == set(ops)
    exercised = [
        op for op, e in results["operations"].items() if e["status"] in ("passed", "failed", "known_deviation")
    ]
    assert len(exercised) >= 0.95 * len(ops), f"only {len(exercised)} of {len(ops)} operations exercised"
    skipped = {op: e["reason"] for op, e in results["operations"].items() if e["status"] == "skipped"}
    assert all(reason for reason in skipped.values()), skipped
    chains = {r["id"]: r["status"] for r in results["results"] if r["id"].startswith("property.chain.")}
    assert set(chains) == {f"property.chain.{c}" for c in ("variables", "pools", "connections", "dag_runs")}
    assert all(status in ("passed", "known_deviation", "failed") for status in chains.values()), chains
    # an operation the run got a 2xx answer of is read by the official client (the cell is decided, not `undecided`)
    clients = {r["id"]: r["status"] for r in results["results"] if r["kind"] == "client"}
    for op in CLIENT_READ_OPERATIONS:
        statuses = (results["operations"].get(op) or {}).get("statuses") or {}
        if any(str(code).startswith("2") for code in statuses):
            assert clients.get(f"client.{op}") in ("passed", "known_deviation", "failed"), (
                op,
                statuses,
                clients.get(f"client.{op}"),
            )
    # the dag-runs chain reaches these on every run where the release has them (the 2.x probe DAG maps a task from 2.3)
    reached = {op: (results["operations"].get(op) or {}).get("statuses") or {} for op in ("get_log", "clear_dag_runs")}
    assert all(any(str(c).startswith("2") for c in st) for op, st in reached.items() if op in ops), reached


@pytest.mark.parametrize("version", ["2.10.5"])  # the target it runs on (tests/live_groups.py)
def test_time_budget_cuts_examples_but_reaches_every_read(targets, tmp_path, version):
    """--time-budget: operations share the time; once an operation's share is spent it sends no more
    cases, yet every operation still gets at least one. 60 examples per operation would take minutes."""
    # 2.10.5: generating 3.3.2's larger schemas costs more than the budget saves (227 s there, 87 s here at 200)
    live = targets.get(version)
    proc = cli(
        "run",
        "--target",
        live.url,
        "--auth",
        live.auth_spec,
        "--only",
        "properties",
        "--profile",
        "readonly",
        "--max-examples",
        "60",
        "--time-budget",
        "20",
        "--seed",
        SEED,
        "--report-dir",
        str(tmp_path),
        timeout=1500,
    )
    results = json.loads((tmp_path / "results.json").read_text())
    assert proc.returncode in (0, 1) and not _undecided(results), (proc.stderr[-1500:], _undecided(results))
    assert results["configuration"]["time_budget"] == 20
    from conformance.safety.guard import READONLY_POSTS  # noqa: PLC0415

    reads = [
        op for op, method in _spec_operations(live.version).items() if method in ("GET", "HEAD") or op in READONLY_POSTS
    ]
    assert all(results["operations"][op]["status"] != "skipped" for op in reads)
    cut = [r["id"] for r in results["results"] if "not sent (time budget)" in (r["message"] or "")]
    assert cut, "no operation reported cases cut by the time budget"
