"""Fast layer: the property tier's verdict per check, and what keeps it from deciding.

Built from hand-made `Outcome`/`Failure` objects and real `Deviation`s; no Airflow, no network.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import requests

from conformance.checks.registry import must_of
from conformance.expectations.deviations import Deviation
from conformance.tiers.properties.outcome import Failure, Outcome
from conformance.tiers.properties.tier import Tier, _problems, per_check

pytestmark = pytest.mark.fast

OP = "get_pools"
CONTENT_TYPE_DEV = Deviation.parse(
    {
        "id": "acf-problem-json",
        "versions": "<3",
        "operations": [OP],
        "checks": ["content_type_conformance"],
        "response": {"status": [400, 404], "content_type": "application/problem+json"},
        "reproduce": [{"each": True}],
        "upstream": "unreported",
        "summary": "errors are problem+json",
    }
)
LIMIT_DEV = Deviation.parse(
    {
        "id": "acf-limit-400",
        "versions": "<3",
        "operations": [OP],
        "checks": ["status_code_conformance"],
        "response": {"status": 400, "body": "Page limit"},
        "reproduce": [{"operation": OP}],
        "upstream": "apache/airflow#1",
        "summary": "limit 0 refused",
    }
)


def failure(
    check: str,
    status: int = 400,
    deviation: Deviation | None = None,
    count: int = 1,
    message: str | None = None,
    content_type: str = "application/json",
) -> Failure:
    return Failure(
        check=check,
        status=status,
        content_type=content_type,
        message=message or f'{check} broke | response: {{"detail": "x"}} | request: GET /pools',
        curl=f"curl 'http://x/api/v1/pools?c={check}'",
        count=count,
        deviation=deviation,
        operation=OP,
    )


def outcome(
    *failures: Failure, runs: dict | None = None, statuses: dict | None = None, sent: int = 10, **kw
) -> Outcome:
    out = Outcome(op_id=OP, seed=7, sent=sent, statuses=dict(statuses or {200: sent}), **kw)
    out.check_runs = dict(runs or {})
    for i, f in enumerate(failures):
        out.failures[(f.check, i)] = f
    return out


def rows_by_name(rows: list[dict]) -> dict[str, dict]:
    return {r["name"]: r for r in rows}


# -- per_check ------------------------------------------------------------------------
def test_unexplained_failure_fails_its_check_though_another_check_is_only_excused():
    out = outcome(
        failure("content_type_conformance", deviation=CONTENT_TYPE_DEV, count=4),
        failure("status_code_conformance", status=418),
        runs={"content_type_conformance": 10, "status_code_conformance": 10, "not_a_server_error": 10},
    )
    rows = per_check(out)
    by = rows_by_name(rows)
    assert by["status_code_conformance"]["status"] == "failed"
    assert by["status_code_conformance"]["failures"] == 1
    assert "excused" not in by["status_code_conformance"]
    assert by["content_type_conformance"]["status"] == "known_deviation"
    assert by["content_type_conformance"]["excused"] == 4
    assert by["content_type_conformance"]["deviations"] == ["acf-problem-json"]
    assert "failures" not in by["content_type_conformance"]
    assert by["not_a_server_error"]["status"] == "passed" and by["not_a_server_error"]["judged"] == 10
    # worst first
    assert [r["status"] for r in rows] == ["failed", "known_deviation", "passed"]
    assert by["status_code_conformance"]["must"] == must_of("status_code_conformance")


def test_excused_and_unexplained_failures_of_the_same_check_fail_it():
    out = outcome(
        failure("status_code_conformance", deviation=LIMIT_DEV, count=3),
        failure("status_code_conformance", status=418, count=2),
        runs={"status_code_conformance": 10},
    )
    row = rows_by_name(per_check(out))["status_code_conformance"]
    assert row["status"] == "failed"
    assert row["failures"] == 2 and row["excused"] == 3 and row["deviations"] == ["acf-limit-400"]


def test_crashed_check_is_an_error_not_a_pass():
    out = outcome(
        runs={"total_entries_consistent": 9, "limit_honoured": 10},
        check_errors=[("total_entries_consistent", "TypeError: 'NoneType' object is not subscriptable")],
    )
    by = rows_by_name(per_check(out))
    assert by["total_entries_consistent"]["status"] == "error"
    assert by["total_entries_consistent"]["crashed"] == 1
    assert by["limit_honoured"]["status"] == "passed"


def test_check_that_only_crashed_is_still_listed():
    out = outcome(runs={}, check_errors=[("limit_honoured", "ValueError: x"), ("limit_honoured", "ValueError: y")])
    rows = per_check(out)
    assert rows == [
        {"name": "limit_honoured", "status": "error", "judged": 0, "must": must_of("limit_honoured"), "crashed": 2}
    ]


def test_unexplained_failure_outranks_a_crash_of_the_same_check():
    out = outcome(
        failure("limit_honoured", status=200),
        runs={"limit_honoured": 3},
        check_errors=[("limit_honoured", "ValueError: x")],
    )
    assert rows_by_name(per_check(out))["limit_honoured"]["status"] == "failed"


def test_failure_of_a_check_that_never_reported_a_run_is_listed():
    out = outcome(failure("auth_not_ignored", status=200), runs={"not_a_server_error": 1})
    assert set(rows_by_name(per_check(out))) == {"auth_not_ignored", "not_a_server_error"}


# -- _problems ----------------------------------------------------------------------------
def test_no_problems_for_a_clean_outcome():
    assert _problems(outcome(statuses={200: 5, 404: 5})) == []


def test_crashed_checks_are_a_problem():
    out = outcome(check_errors=[("limit_honoured", "ValueError: x"), ("limit_honoured", "ValueError: y")])
    problems = _problems(out)
    assert len(problems) == 1
    assert problems[0] == "check limit_honoured crashed on 2 response(s): ValueError: x"


def test_internal_errors_are_a_problem_with_the_most_common_reason():
    out = outcome(internal_errors=["cannot serialize body", "path parameter missing", "cannot serialize body"])
    assert _problems(out) == ["3 generated case(s) could not be checked: cannot serialize body"]


def test_transport_errors_are_a_problem():
    out = outcome(transport_errors=[requests.ConnectionError("connection reset"), requests.ReadTimeout("slow")])
    problems = _problems(out)
    assert problems == ["2 request(s) got no answer: ConnectionError: connection reset"]


def test_every_answer_401_is_credentials_refused():
    problems = _problems(outcome(statuses={401: 12}, sent=12))
    assert len(problems) == 1 and problems[0].startswith("credentials refused: every one of 12")


def test_some_answers_past_authentication_is_not_credentials_refused():
    assert _problems(outcome(statuses={401: 11, 200: 1}, sent=12)) == []
    assert _problems(outcome(statuses={}, sent=0)) == []


def test_problems_accumulate():
    out = outcome(
        statuses={401: 2},
        sent=3,
        transport_errors=[requests.ConnectionError("reset")],
        internal_errors=["x"],
        check_errors=[("limit_honoured", "E")],
    )
    problems = _problems(out)
    assert len(problems) == 4
    assert [p.split()[0] for p in problems] == ["check", "1", "credentials", "1"]


# -- the operation's verdict (Tier.verdict_of, without a running tier) -------------------------
def verdict_of(out: Outcome):
    fake_tier = SimpleNamespace(ctx=SimpleNamespace(options=SimpleNamespace(seed=7)), engine=SimpleNamespace(ops={}))
    return Tier.verdict_of(fake_tier, out, title="GET /pools")


def test_verdict_failed_when_one_check_is_unexplained():
    out = outcome(
        failure("content_type_conformance", deviation=CONTENT_TYPE_DEV, count=4),
        failure("status_code_conformance", status=418),
        runs={"content_type_conformance": 10, "status_code_conformance": 10},
    )
    c = verdict_of(out)
    assert c.status == "failed"
    assert c.message.startswith("1 distinct contract violation(s) of GET /pools")
    assert "--seed 7" in c.message
    assert "[status_code_conformance] HTTP 418" in c.message
    assert "acf-problem-json" in c.message  # named as explained, never as the cause
    assert [e.deviation.id for e in c.excused] == ["acf-problem-json"] and c.excused[0].count == 4
    assert c.reproduce == "curl 'http://x/api/v1/pools?c=status_code_conformance'"
    assert {r["name"]: r["status"] for r in c.checks} == {
        "status_code_conformance": "failed",
        "content_type_conformance": "known_deviation",
    }


def test_verdict_known_deviation_when_every_failure_is_excused():
    out = outcome(
        failure("content_type_conformance", deviation=CONTENT_TYPE_DEV, count=2),
        failure("status_code_conformance", deviation=LIMIT_DEV),
        runs={"content_type_conformance": 10, "status_code_conformance": 10},
    )
    c = verdict_of(out)
    assert c.status == "known_deviation"
    assert sorted(e.deviation.id for e in c.excused) == ["acf-limit-400", "acf-problem-json"]
    assert c.upstream in ("unreported, apache/airflow#1", "apache/airflow#1, unreported")


def test_verdict_error_when_a_check_crashed_even_if_the_rest_is_excused():
    out = outcome(
        failure("content_type_conformance", deviation=CONTENT_TYPE_DEV),
        runs={"content_type_conformance": 10, "limit_honoured": 9},
        check_errors=[("limit_honoured", "TypeError: boom")],
    )
    c = verdict_of(out)
    assert c.status == "error"
    assert "check limit_honoured crashed" in c.message
    assert "acf-problem-json" in c.message


def test_verdict_error_when_every_answer_was_401():
    c = verdict_of(outcome(statuses={401: 10}, runs={"not_a_server_error": 10}))
    assert c.status == "error" and "credentials refused" in c.message


def test_verdict_passed_and_skipped():
    assert verdict_of(outcome(runs={"not_a_server_error": 10})).status == "passed"
    skipped = verdict_of(outcome(sent=0, statuses={}, refused=["destructive", "destructive"]))
    assert (
        skipped.status == "skipped"
        and "refused by the safety guard (2 generated cases): destructive" in skipped.message
    )
