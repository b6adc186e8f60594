"""The property tier against a real Airflow 2.10.5: coverage, the readonly promise, and sandbox cleanup.

No mocks: the target is started through the public CLI (`up`, reused when it
already runs, stopped at the end only if this session started it), the suite
runs through `airflow-conformance run --only properties`, and what the
target holds is read back over its own API.
"""

from __future__ import annotations

import json

import pytest
import requests

from tests.targets import cli

VERSION = "2.10.5"
EXAMPLES = "4"
SEED = "20240101"
TERMINAL = ("success", "failed")


@pytest.fixture(scope="module")
def live(targets):
    return targets.get(VERSION)


def _session(live) -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    user, password = live.auth.split(":", 2)[1:]
    s.auth = (user, password)
    return s


def _all(s: requests.Session, url: str, key: str) -> list[dict]:
    items, offset = [], 0
    while True:
        resp = s.get(url, params={"limit": 100, "offset": offset}, timeout=60)
        assert resp.status_code == 200, f"GET {url}: {resp.status_code} {resp.text[:200]}"
        page = resp.json().get(key, [])
        items += page
        if len(page) < 100:
            return items
        offset += 100


def listing(live) -> dict:
    """Variables, pools, connections and DAG runs as the API lists them (what a run must not change)."""
    s = _session(live)
    base = f"{live.url}/api/v1"
    runs = _all(s, f"{base}/dags/~/dagRuns", "dag_runs")
    return {
        "variables": sorted((v["key"], v.get("value"), v.get("description")) for v in _all(s, f"{base}/variables", "variables")),
        "pools": sorted((p["name"], p["slots"], p.get("description"), p.get("include_deferred"))
                        for p in _all(s, f"{base}/pools", "pools")),
        "connections": sorted((c["connection_id"], c["conn_type"], c.get("host"), c.get("login"), c.get("port"),
                               c.get("schema"), c.get("description")) for c in _all(s, f"{base}/connections", "connections")),
        # a run the scheduler is still finishing may change state by itself; finished runs may not
        "dag_runs": sorted((r["dag_id"], r["dag_run_id"], r["state"] if r["state"] in TERMINAL else "unfinished")
                           for r in runs),
    }


def _spec_operations(version: str) -> dict[str, str]:
    """operationId -> HTTP method of the reference spec."""
    from conformance.specs.catalog import load_spec  # noqa: PLC0415

    spec = load_spec(version)
    return {op["operationId"]: method.upper() for item in spec["paths"].values() for method, op in item.items()
            if isinstance(op, dict) and "operationId" in op}


def _run(live, tmp_path, *extra: str) -> tuple[object, dict]:
    proc = cli("run", "--target", live.url, "--auth", live.auth, "--only", "properties", "--max-examples", EXAMPLES,
               "--seed", SEED, "--report-dir", str(tmp_path), *extra, timeout=1500)
    results = json.loads((tmp_path / "results.json").read_text()) if (tmp_path / "results.json").exists() else {}
    return proc, results


def _unexplained(results: dict) -> list[str]:
    return [f"{r['id']}: {r['status']}: {r['message'][:400]}" for r in results.get("results", [])
            if r["status"] in ("failed", "error")]


def test_readonly_run_changes_nothing_and_covers_every_operation(live, tmp_path):
    from conformance.safety.guard import READONLY_POSTS  # noqa: PLC0415

    before = listing(live)
    proc, results = _run(live, tmp_path, "--profile", "readonly")
    after = listing(live)
    assert proc.returncode == 0, (proc.stderr[-1500:], _unexplained(results))
    assert results["profile"] == "readonly"
    for kind in before:
        assert before[kind] == after[kind], f"the readonly run changed {kind}"
    ops = _spec_operations(VERSION)
    assert set(results["operations"]) == set(ops), "results.json must list every operationId of the reference spec"
    writes = [op for op, method in ops.items() if method not in ("GET", "HEAD") and op not in READONLY_POSTS]
    for op in writes:
        entry = results["operations"][op]
        assert entry["requests"] == 0, f"readonly sent {entry['requests']} request(s) to the state-changing {op}"
        assert entry["status"] == "skipped" and "readonly" in entry["reason"], (op, entry)
    exercised = [op for op, e in results["operations"].items() if e["status"] in ("passed", "failed", "known_deviation")]
    reads = [op for op in ops if op not in writes]
    assert set(reads) <= set(exercised), f"reads not exercised: {sorted(set(reads) - set(exercised))}"
    props = [r for r in results["results"] if r["id"].startswith("property.") and not r["id"].startswith("property.chain.")]
    assert {r["id"] for r in props} == {f"property.{op}" for op in ops}
    assert all(r["status"] != "skipped" or r["message"] for r in results["results"]), "every skip says why"


def test_sandbox_run_leaves_nothing_of_its_own_behind(live, tmp_path):
    proc, results = _run(live, tmp_path)
    assert proc.returncode == 0, (proc.stderr[-1500:], _unexplained(results))
    prefix = results["run_id"] + "_"
    after = listing(live)
    left = [(kind, row[1] if kind == "dag_runs" else row[0]) for kind, rows in after.items() for row in rows
            if str(row[1] if kind == "dag_runs" else row[0]).startswith(prefix)]
    assert left == [], f"objects of run {results['run_id']} left behind: {left}"
    assert results["cleanup_problems"] == []
    ops = _spec_operations(VERSION)
    assert set(results["operations"]) == set(ops)
    exercised = [op for op, e in results["operations"].items() if e["status"] in ("passed", "failed", "known_deviation")]
    assert len(exercised) >= 0.85 * len(ops), f"only {len(exercised)} of {len(ops)} operations exercised"
    skipped = {op: e["reason"] for op, e in results["operations"].items() if e["status"] == "skipped"}
    assert all(reason for reason in skipped.values()), skipped
    chains = {r["id"]: r["status"] for r in results["results"] if r["id"].startswith("property.chain.")}
    assert set(chains) == {f"property.chain.{c}" for c in ("variables", "pools", "connections", "dag_runs")}
    assert all(status in ("passed", "known_deviation") for status in chains.values()), chains
