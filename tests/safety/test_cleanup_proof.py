"""Cleanup is proven by reading back, not assumed from a DELETE's status.

A fault-injecting proxy in front of a real Airflow (2.10.5 and 3.3.2) answers
204 to every DELETE of a variable, pool or connection and forwards nothing: the
objects stay. The run (the effects tier's list checks, which pass and delete nothing themselves)
must name each of them in `cleanup_problems`, end with the verdict "cleanup incomplete" (exit 3), say so on its
last lines, and keep them in its ledger, so that
`airflow-conformance cleanup --run-id` against the real target deletes them
afterwards (read back again: gone).
"""

from __future__ import annotations

from conformance.safety.cleanup import COLLECTIONS
from tests import harness, targets
from tests.faultproxy.mutation import Mutation, pretend_applied
from tests.faultproxy.proxy import FaultProxy

KEPT = Mutation(
    "delete_answers_204_and_keeps",
    (),
    "DELETE answers 204 and deletes nothing",
    method="DELETE",
    path=r"{api}/(variables|pools|connections)/[^/]+",
    request=pretend_applied(204),
)


def test_objects_a_delete_did_not_remove_are_reported_and_left_for_cleanup(live, tmp_path):
    with FaultProxy(live.url, [KEPT], credentials=live.credentials) as proxy:
        # checks that list the effects tier's objects (and delete none themselves): each passes, so the verdict
        # is the cleanup's own
        outcome = targets.run_suite(
            proxy.url,
            live.auth_spec,
            tmp_path / "report",
            only="effects",
            keyword="get_variables or get_pools or get_connections",
            timeout=600,
        )
    assert targets.no_traceback(outcome), outcome.stderr[-2000:]
    results = outcome.results
    run_id = results["run_id"]
    kept = [p for p in results["cleanup_problems"] if "still on the target" in p]
    kinds = {p.split(" ", 1)[0] for p in kept}
    assert kinds == set(COLLECTIONS), results["cleanup_problems"]  # every kind the run created and "deleted"
    assert all(f"{run_id}_" in p for p in kept), kept
    assert results["verdict"] == "cleanup incomplete" and outcome.returncode == 3, (
        results["verdict"],
        outcome.returncode,
    )
    assert all(p.split(":")[0] in outcome.stdout + outcome.stderr for p in kept), "the terminal names every leftover"
    assert "still on the target" in (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    from conformance.safety.ledger import ledger_dir  # noqa: PLC0415 - reads the cache this process's CLI runs use

    ledger = ledger_dir() / f"{run_id}.jsonl"
    assert ledger.exists(), "the ledger must stay for a later cleanup"

    # the real target: cleanup from the ledger deletes what is left, and reading back proves it
    swept = harness.cli("cleanup", "--target", live.url, "--auth", live.auth_spec, "--run-id", run_id, timeout=300)
    assert swept.returncode == 0, swept.stderr[-2000:]
    direct = live.session()
    for problem in kept:
        kind, name = problem.split(" ")[0], problem.split(" ")[1].rstrip(":")
        path = f"{COLLECTIONS[kind][0]}/{name}"
        assert direct.get(live.api_root + path, timeout=30).status_code == 404, f"{path} is still there after cleanup"
    assert not ledger.exists()
