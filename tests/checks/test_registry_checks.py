"""The Airflow checks of the registry, judged on answers built here (no Airflow: the fast layer).

Each check gets an answer that keeps its rule and one that breaks it, in the
shape each API generation really uses (problem details on /api/v1,
{"detail": ...} on /api/v2), so a check that stopped judging fails here in
seconds instead of only in the fault-proxy tests against a real Airflow.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import requests

from conformance.checks import registry
from conformance.checks.registry import CHECKS, check_names, must_of, run_all

V1 = "http://airflow.test/api/v1"
V2 = "http://airflow.test/api/v2"


def answer(
    status: int,
    body=None,
    *,
    url: str = f"{V2}/dags",
    method: str = "GET",
    raw: bytes | None = None,
    ctype: str = "application/json",
) -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    resp._content = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    resp.headers["Content-Type"] = ctype
    resp.request = requests.Request(method, url).prepare()
    return resp


def sent(body=None):
    return SimpleNamespace(body=body)


def verdict(name: str, response, case=None) -> str:
    """'' when the check holds, else its message."""
    try:
        CHECKS[name](response, case if case is not None else sent())
    except AssertionError as exc:
        return str(exc) or "failed"
    return ""


PROBLEM = {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "DAG not found"}


@pytest.mark.parametrize(
    "name, response, holds",
    [
        ("error_body_shape", answer(404, PROBLEM, url=f"{V1}/dags/x"), True),
        ("error_body_shape", answer(404, {"detail": "DAG not found"}, url=f"{V1}/dags/x"), False),
        ("error_body_shape", answer(404, {**PROBLEM, "status": 400}, url=f"{V1}/dags/x"), False),
        ("error_body_shape", answer(404, {"detail": "DAG not found"}, url=f"{V2}/dags/x"), True),
        ("error_body_shape", answer(404, {"error": "DAG not found"}, url=f"{V2}/dags/x"), False),
        (
            "error_body_shape",
            answer(404, raw=b"<html>not found</html>", ctype="text/html"),
            True,
        ),  # not JSON: others judge
        ("auth_error_carries_no_data", answer(403, {"detail": "Forbidden"}), True),
        ("auth_error_carries_no_data", answer(403, {"detail": "Forbidden", "dags": [{"dag_id": "x"}]}), False),
        ("auth_error_carries_no_data", answer(401, [{"dag_id": "x"}]), False),
        ("auth_error_carries_no_data", answer(401, {**PROBLEM, "status": 401}, url=f"{V1}/dags"), True),
        ("total_entries_consistent", answer(200, {"dags": [], "total_entries": 0}), True),
        ("total_entries_consistent", answer(200, {"dags": [], "total_entries": -1}), False),
        ("total_entries_consistent", answer(200, {"dags": [], "total_entries": True}), False),
        ("total_entries_consistent", answer(200, {"dags": [{}, {}], "total_entries": 1}), False),
        (
            "total_entries_consistent",
            answer(200, {"dags": [{}, {}], "total_entries": 1}, url=f"{V2}/dags?offset=5"),
            True,
        ),
        ("limit_honoured", answer(200, {"dags": [{}, {}], "total_entries": 9}, url=f"{V2}/dags?limit=2"), True),
        ("limit_honoured", answer(200, {"dags": [{}, {}, {}], "total_entries": 9}, url=f"{V2}/dags?limit=2"), False),
        ("limit_honoured", answer(200, {"dags": [{}, {}, {}], "total_entries": 9}, url=f"{V2}/dags?limit=0"), True),
        ("no_content_has_no_body", answer(204, method="DELETE"), True),
        ("no_content_has_no_body", answer(204, {"deleted": True}, method="DELETE"), False),
    ],
)
def test_check_holds_or_fails(name, response, holds):
    message = verdict(name, response)
    assert (message == "") is holds, message


def test_a_connection_password_is_write_only():
    secret = "s3cret-password-123"
    case = sent({"connection_id": "c", "conn_type": "http", "password": secret})
    masked = answer(200, {"connection_id": "c", "conn_type": "http", "password": "***"}, url=f"{V2}/connections/c")
    assert verdict("connection_password_hidden", masked, case) == ""
    echoed = answer(200, {"connection_id": "c", "conn_type": "http", "password": secret}, url=f"{V2}/connections/c")
    assert "the password this request set" in verdict("connection_password_hidden", echoed, case)
    listed = answer(
        200,
        {"connections": [{"connection_id": "c", "conn_type": "http", "password": "plain"}], "total_entries": 1},
        url=f"{V2}/connections",
    )
    assert "an unmasked password" in verdict("connection_password_hidden", listed)
    in_extra = answer(200, {"connection_id": "c", "conn_type": "http", "extra": f'{{"p": "{secret}"}}'})
    assert "contains the connection password" in verdict("connection_password_hidden", in_extra, case)


def test_a_password_that_is_not_a_string_is_judged_not_crashed_on():
    """A server may answer any JSON; a check that crashes decides nothing (the run would show an error)."""
    odd = answer(200, {"connection_id": "c", "conn_type": "http", "password": {"value": "x"}})
    assert "an unmasked password" in verdict("connection_password_hidden", odd, sent({"password": "abcdefgh1"}))


def test_run_all_reports_a_crashing_check_as_an_error_not_a_pass(monkeypatch):
    def explodes(response, case):
        raise KeyError("boom")

    monkeypatch.setattr(registry, "CHECKS", {**CHECKS, "explodes": registry.Check("explodes", explodes, "crashes")})
    errors: list = []
    failures = run_all(answer(200, {"dags": [], "total_entries": 0}), sent(), errors)
    assert failures == [] and errors == [("explodes", "KeyError: 'boom'")]
    with pytest.raises(KeyError):
        run_all(answer(200, {}), sent())  # without a list to collect them, a crash is not swallowed


def test_the_registry_holds_every_marked_check_and_cannot_be_changed():
    assert list(CHECKS) == [
        "error_body_shape",
        "auth_error_carries_no_data",
        "connection_password_hidden",
        "total_entries_consistent",
        "limit_honoured",
        "no_content_has_no_body",
    ]
    with pytest.raises(TypeError):
        CHECKS["extra"] = CHECKS["limit_honoured"]  # type: ignore[index]


def test_every_check_a_result_may_name_has_a_must_sentence():
    for name in check_names():
        assert must_of(name) != name and must_of(name).strip(), name
