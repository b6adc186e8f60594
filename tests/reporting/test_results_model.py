"""Fast layer: the run's verdict and exit code, and the per-operation coverage table."""

from __future__ import annotations

import json

import pytest

from conformance.reporting.results import Result, RunResults, operations_table

pytestmark = pytest.mark.fast


def result(status: str, ops=("get_pools",), rid: str | None = None, message: str = "") -> Result:
    return Result(
        id=rid or f"property.{ops[0] if ops else 'x'}",
        kind="property",
        title="t",
        operation_ids=list(ops),
        status=status,
        message=message,
    )


EXERCISED = {"get_pools": {"requests": 3, "reached": 3, "exercised": True}}


def run(*statuses: str, operations: dict | None = None, **kw) -> RunResults:
    return RunResults(
        results=[result(s) for s in statuses], operations=EXERCISED if operations is None else operations, **kw
    )


# -- exit codes and verdicts -------------------------------------------------------------
@pytest.mark.parametrize(
    ("statuses", "code", "verdict"),
    [
        (("passed",), 0, "conformant"),
        (("passed", "known_deviation", "skipped"), 0, "conformant"),
        (("known_deviation",), 0, "conformant"),
        (("passed", "failed"), 1, "not conformant"),
        (("passed", "error"), 1, "not conformant"),
        (("known_deviation", "error"), 1, "not conformant"),
        (("skipped", "skipped"), 1, "not conformant"),
        ((), 1, "not conformant"),
    ],
)
def test_exit_code_from_statuses(statuses, code, verdict):
    r = run(*statuses)
    assert r.exit_code() == code
    assert r.verdict == verdict
    assert r.conformant is (code == 0)


def test_all_skipped_decides_nothing():
    r = run("skipped", "skipped")
    assert r.nothing_decided == "every check was skipped or could not be decided"
    assert r.as_dict()["verdict_reason"] == r.nothing_decided


def test_no_result_decides_nothing():
    assert run().nothing_decided == "no check ran"


def test_operations_table_without_exercised_operation_decides_nothing():
    ops = {
        "get_pools": {"requests": 4, "refused": 4, "exercised": False},
        "get_dags": {"requests": 0, "exercised": False},
    }
    r = run("passed", operations=ops)
    assert r.exercised == 0
    assert r.nothing_decided == "no request got past authentication on any operation"
    assert r.exit_code() == 1 and r.verdict == "not conformant"
    # one exercised operation is enough
    ops["get_dags"]["exercised"] = True
    assert r.exercised == 1 and r.nothing_decided == "" and r.exit_code() == 0


def test_empty_operations_table_does_not_mean_nothing_decided():
    """Scenario-only runs have no operations table; passed checks still decide the run."""
    r = run("passed", operations={})
    assert r.nothing_decided == "" and r.exit_code() == 0


def test_refused_by_configuration_is_exit_2():
    r = run("passed", refused_by_configuration="auth_backends = deny_all")
    assert r.exit_code() == 2
    assert r.verdict == "credentials refused by configuration"
    assert not r.conformant
    assert r.as_dict()["verdict_reason"] == "auth_backends = deny_all"
    # even with failures, the configuration is what the run reports
    assert run("failed", refused_by_configuration="deny_all").exit_code() == 2


@pytest.mark.parametrize("statuses", [("passed",), ("failed",), ("error",), ("skipped",)])
def test_aborted_is_exit_3(statuses):
    r = run(*statuses, aborted="interrupted by SIGINT")
    assert r.exit_code() == 3
    assert r.verdict == "aborted"
    assert not r.conformant


def test_aborted_wins_over_refused_by_configuration():
    r = run("passed", aborted="target went away", refused_by_configuration="deny_all")
    assert r.exit_code() == 3 and r.verdict == "aborted"


def test_cleanup_problems_without_failure_is_exit_3():
    r = run("passed", "known_deviation", cleanup_problems=["pool acf_x_pool left behind"])
    assert r.verdict == "cleanup incomplete"
    assert r.exit_code() == 3
    assert not r.conformant


@pytest.mark.parametrize("bad", ["failed", "error"])
def test_cleanup_problems_with_failure_is_exit_1(bad):
    r = run("passed", bad, cleanup_problems=["pool acf_x_pool left behind"])
    assert r.verdict == "not conformant"
    assert r.exit_code() == 1


def test_cleanup_problems_when_nothing_decided_is_exit_1():
    r = run("skipped", cleanup_problems=["variable acf_x left behind"])
    assert r.verdict == "not conformant" and r.exit_code() == 1


def test_summary_counts_and_json_round_trip(tmp_path):
    r = run("passed", "passed", "failed", "known_deviation", "skipped", "error", requests=42)
    assert r.summary() == {"passed": 2, "failed": 1, "known_deviation": 1, "skipped": 1, "error": 1, "requests": 42}
    path = tmp_path / "results.json"
    r.write_json(path)
    data = json.loads(path.read_text())
    assert data["verdict"] == "not conformant" and data["summary"]["failed"] == 1
    assert len(data["results"]) == 6
    assert "deviations" not in data["results"][0]  # empty optional lists are left out


# -- operations_table ---------------------------------------------------------------------
def test_coverage_counts_come_from_answers():
    answers = {"get_pools": {"reached": 5, "validated": 2, "refused": 1, "server_error": 1, "not_sent": 3}}
    table = operations_table(["get_pools"], [result("passed")], {"get_pools": 9}, {}, answers)
    row = table["get_pools"]
    assert (
        row["requests"],
        row["reached"],
        row["validated"],
        row["refused"],
        row["server_error"],
        row["not_sent"],
    ) == (9, 5, 2, 1, 1, 3)
    assert row["exercised"] is True
    assert row["status"] == "passed" and row["reason"] == ""


def test_missing_answers_count_zero():
    row = operations_table(["get_pools"], [result("passed")], {}, {}, None)["get_pools"]
    assert {
        k: row[k] for k in ("requests", "reached", "validated", "refused", "server_error", "not_sent")
    } == dict.fromkeys(("requests", "reached", "validated", "refused", "server_error", "not_sent"), 0)
    assert row["exercised"] is False
    # no answers at all (not even refusals) is not "credentials refused"
    assert row["status"] == "passed"


@pytest.mark.parametrize(
    ("answers", "exercised"),
    [
        ({"reached": 1}, True),
        ({"validated": 1}, True),
        ({"server_error": 1}, True),
        ({"refused": 7}, False),
        ({"not_sent": 7}, False),
        ({"refused": 3, "not_sent": 2}, False),
    ],
)
def test_exercised_only_past_authentication(answers, exercised):
    row = operations_table(["get_pools"], [result("failed")], {"get_pools": 7}, {}, {"get_pools": answers})["get_pools"]
    assert row["exercised"] is exercised


def test_every_answer_refused_is_not_exercised_and_says_why():
    """The status stays the result's own (the property tier makes an all-401 operation an error itself);
    the row says that nothing got past authentication."""
    answers = {"get_pools": {"refused": 4}}
    row = operations_table(["get_pools"], [result("passed")], {"get_pools": 4}, {}, answers)["get_pools"]
    assert row["status"] == "passed"
    assert "not exercised" in row["reason"] and "4" in row["reason"]
    assert row["exercised"] is False


def test_refused_operation_that_failed_stays_failed():
    answers = {"get_pools": {"refused": 4}}
    row = operations_table(
        ["get_pools"], [result("failed", message="auth body leaks data")], {"get_pools": 4}, {}, answers
    )["get_pools"]
    assert row["status"] == "failed" and row["reason"] == "auth body leaks data"


def test_partly_refused_operation_keeps_its_status():
    answers = {"get_pools": {"refused": 4, "validated": 1}}
    row = operations_table(["get_pools"], [result("passed")], {"get_pools": 5}, {}, answers)["get_pools"]
    assert row["status"] == "passed" and row["exercised"] is True


def test_worst_result_of_an_operation_wins():
    rs = [
        result("passed", rid="property.get_pools"),
        result("known_deviation", rid="scenario.pools.a", message="known"),
        result("failed", rid="scenario.pools.b", message="broken"),
        result("skipped", rid="scenario.pools.c", message="skipped"),
    ]
    row = operations_table(["get_pools"], rs, {}, {}, {"get_pools": {"reached": 1}})["get_pools"]
    assert row["status"] == "failed" and row["reason"] == "broken"
    row = operations_table(["get_pools"], rs[:2], {}, {}, {"get_pools": {"reached": 1}})["get_pools"]
    assert row["status"] == "known_deviation" and row["reason"] == "known"


def test_unchecked_and_skipped_operations():
    table = operations_table(
        ["get_pools", "get_dags", "delete_dag", "get_health"],
        [result("skipped", ops=("get_pools",), message="guard refused: readonly profile")],
        {"get_dags": 2},
        {"delete_dag": "refused by the safety guard: destructive"},
        {},
    )
    assert (
        table["get_pools"]["status"] == "skipped" and table["get_pools"]["reason"] == "guard refused: readonly profile"
    )
    assert table["get_dags"]["status"] == "skipped" and table["get_dags"]["reason"].startswith("2 request(s) sent")
    assert table["delete_dag"]["reason"] == "refused by the safety guard: destructive"
    assert table["get_health"]["reason"] == "not exercised by the checks selected for this run"
    assert list(table) == ["get_pools", "get_dags", "delete_dag", "get_health"]


def test_table_feeds_nothing_decided():
    answers = {"get_pools": {"refused": 4}, "get_dags": {"refused": 2}}
    rs = [result("passed", ops=("get_pools",)), result("passed", ops=("get_dags",))]
    table = operations_table(["get_pools", "get_dags"], rs, {"get_pools": 4, "get_dags": 2}, {}, answers)
    r = RunResults(results=rs, operations=table)
    assert r.exercised == 0
    assert r.exit_code() == 1
    assert r.nothing_decided == "no request got past authentication on any operation"


# -- a target that refuses valid credentials by configuration (2.0-2.2 deny_all) ----------------
def _deny_all_ctx(auth_denied: bool = True):
    from types import SimpleNamespace  # noqa: PLC0415

    from packaging.version import Version  # noqa: PLC0415

    return SimpleNamespace(
        auth_denied=auth_denied,
        probe_dags={},
        target=SimpleNamespace(version=Version("2.0.2"), airflow_version="2.0.2"),
        options=SimpleNamespace(profile="sandbox"),
        primary_lacks=lambda op_id: (),
    )


def test_deny_all_skips_everything_but_the_auth_default_checks():
    """Property items (no Meta) and ordinary checks are skipped, not run into 401s; deny_all itself runs."""
    from conformance.checks.metadata import Meta  # noqa: PLC0415
    from conformance.run.selection import DENY_ALL_REASON  # noqa: PLC0415
    from conformance.run.selection import skip_reason as _skip_reason  # noqa: PLC0415

    ctx = _deny_all_ctx()
    deny_all = Meta("auth.deny_all_default", "t", "m", operations=("get_dags",), until="2.3", needs=("auth_default",))
    ordinary = Meta("dags.list", "t", "m", operations=("get_dags",))
    assert _skip_reason(ctx, None, "property") == DENY_ALL_REASON
    assert _skip_reason(ctx, ordinary, "scenario") == DENY_ALL_REASON
    assert _skip_reason(ctx, deny_all, "scenario") is None
    # on a target that accepts the credentials the auth-default check is the one skipped
    ok = _deny_all_ctx(auth_denied=False)
    assert _skip_reason(ok, None, "property") is None
    assert "--auth-config default" in _skip_reason(ok, deny_all, "scenario")


def test_deny_all_run_is_exit_2_with_properties_skipped():
    rs = [
        result("passed", ops=("get_dags",), rid="scenario.auth.deny_all_default"),
        result("skipped", ops=("get_pools",), message="refuses valid credentials by configuration"),
        result("skipped", ops=("get_dags",), rid="property.get_dags", message="refuses valid credentials"),
    ]
    table = operations_table(["get_dags", "get_pools"], rs, {"get_dags": 2}, {}, {"get_dags": {"refused": 2}})
    r = RunResults(results=rs, operations=table, refused_by_configuration="deny_all")
    assert r.exit_code() == 2 and r.verdict == "credentials refused by configuration"
    data = r.as_dict()
    assert data["verdict_reason"] == "deny_all"
    assert data["summary"]["passed"] == 1 and data["summary"]["skipped"] == 2
    assert data["summary"]["failed"] == data["summary"]["known_deviation"] == data["summary"]["error"] == 0
