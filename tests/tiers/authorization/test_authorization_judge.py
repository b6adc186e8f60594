"""How one (identity, operation) answer is judged, and how pairs become a result and the report table (fast).

The answers are real `requests.Response` objects with the bodies real 2.10.5 and 3.3.2 servers
send (problem+json 403 on 2.x, `{"detail": "Forbidden"}` on 3.x, the expose_config refusal).
"""

from __future__ import annotations

import json

import pytest
import requests

from conformance.expectations import access
from conformance.expectations.access import ANONYMOUS
from conformance.reporting.markdown import authorization_lines
from conformance.reporting.results import Result, authorization_table
from conformance.tiers.authorization.judge import ALLOWED, DENIED, SKIPPED, UNEXPECTED, Cell, changed, judge
from conformance.tiers.authorization.probes import ReadBack
from conformance.tiers.authorization.tier import conclude

V2_FORBIDDEN = {
    "detail": None,
    "status": 403,
    "title": "Forbidden",
    "type": "https://airflow.apache.org/docs/apache-airflow/2.10.5/stable-rest-api-ref.html#section/Errors/PermissionDenied",
}
CONFIG_OFF = "Your Airflow administrator chose not to expose the configuration, most likely for security reasons."


def _resp(status: int, body, ctype: str = "application/json") -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r._content = json.dumps(body).encode() if not isinstance(body, bytes) else body
    r.headers["Content-Type"] = ctype
    return r


@pytest.fixture(scope="module")
def v2():
    return access.load("2.10.5")


@pytest.fixture(scope="module")
def v3():
    return access.load("3.3.2")


def test_a_role_refused_with_the_release_body_is_denied(v2, v3):
    assert (
        judge(
            v2,
            "get_variables",
            "Viewer",
            v2.expect("Viewer", "get_variables"),
            _resp(403, V2_FORBIDDEN, "application/problem+json"),
        )[0]
        == DENIED
    )
    assert (
        judge(v3, "get_variables", "viewer", v3.expect("viewer", "get_variables"), _resp(403, {"detail": "Forbidden"}))[
            0
        ]
        == DENIED
    )


def test_a_role_let_through_where_the_release_refuses_is_unexpected(v2):
    outcome, reason = judge(
        v2, "post_variables", "Viewer", v2.expect("Viewer", "post_variables"), _resp(200, {"key": "k"})
    )
    assert outcome == UNEXPECTED and "can_create on Variables" in reason


def test_a_403_without_the_release_body_is_unexpected(v2, v3):
    assert judge(v3, "get_variables", "viewer", v3.expect("viewer", "get_variables"), _resp(403, {}))[0] == UNEXPECTED
    assert (
        judge(
            v2, "get_variables", "Viewer", v2.expect("Viewer", "get_variables"), _resp(403, V2_FORBIDDEN, "text/html")
        )[0]
        == UNEXPECTED
    )


def test_a_role_refused_what_it_may_do_is_unexpected(v2):
    expected = v2.expect("Op", "get_variables")
    assert expected.allowed
    assert (
        judge(v2, "get_variables", "Op", expected, _resp(403, V2_FORBIDDEN, "application/problem+json"))[0]
        == UNEXPECTED
    )
    assert judge(v2, "get_variables", "Op", expected, _resp(404, {"title": "not found"}))[0] == ALLOWED


def test_anonymous_must_get_401(v3):
    expected = v3.expect(ANONYMOUS, "get_dags")
    assert judge(v3, "get_dags", ANONYMOUS, expected, _resp(401, {"detail": "Not authenticated"}))[0] == DENIED
    assert judge(v3, "get_dags", ANONYMOUS, expected, _resp(403, {"detail": "Forbidden"}))[0] == UNEXPECTED
    assert judge(v3, "get_dags", ANONYMOUS, expected, _resp(200, {"dags": []}))[0] == UNEXPECTED
    assert judge(v3, "get_version", ANONYMOUS, v3.expect(ANONYMOUS, "get_version"), _resp(200, {}))[0] == ALLOWED


def test_a_setting_checked_after_the_permission_tells_who_got_through(v2):
    off = _resp(403, {**V2_FORBIDDEN, "detail": CONFIG_OFF}, "application/problem+json")
    assert judge(v2, "get_config", "Op", v2.expect("Op", "get_config"), off)[0] == ALLOWED
    outcome, reason = judge(v2, "get_config", "Viewer", v2.expect("Viewer", "get_config"), off)
    assert outcome == UNEXPECTED and "let Viewer through" in reason


def test_a_setting_checked_before_the_permission_makes_the_pair_undecidable(v3):
    off = _resp(
        403, {"detail": "Testing connections is disabled in Airflow configuration. Contact your deployment admin"}
    )
    for role in ("viewer", "op"):
        assert judge(v3, "enqueue_connection_test", role, v3.expect(role, "enqueue_connection_test"), off)[0] == SKIPPED


def test_read_back_sees_what_a_refused_write_changed():
    update = ReadBack("/variables/acf_x", fields=("value",))
    assert changed(update, (200, {"value": "a"}), (200, {"value": "a"})) == ""
    assert "value" in changed(update, (200, {"value": "a"}), (200, {"value": "b"}))
    delete = ReadBack("/variables/acf_x")
    assert "404" in changed(delete, (200, {}), (404, {}))
    create = ReadBack("/variables/acf_new", absent=True)
    assert changed(create, (404, None), (404, None)) == ""
    assert "made" in changed(create, (404, None), (200, {"key": "acf_new"}))


def test_pairs_become_a_result_and_the_table(v2):
    req = v2.operations["get_variables"]
    cells = [
        Cell("Op", "allowed", ALLOWED, 200),
        Cell("Viewer", "denied", DENIED, 403),
        Cell(ANONYMOUS, "denied", UNEXPECTED, 200, "served without credentials", "curl -X GET ... ***"),
    ]
    conclusion = conclude("get_variables", req, cells)
    assert conclusion.status == "failed" and "anonymous" in conclusion.message and "curl" in conclusion.message
    assert conclude("get_variables", req, cells[:2]).status == "passed"
    assert conclude("get_variables", req, [Cell("Op", "allowed", SKIPPED, reason="guard")]).status == "skipped"
    result = Result(
        "authorization.get_variables",
        "authorization",
        "t",
        ["get_variables"],
        conclusion.status,
        cells=conclusion.cells,
        group=conclusion.group,
    )
    table = authorization_table([result])
    assert table["identities"] == ["Op", "Viewer", ANONYMOUS]
    assert table["groups"]["Variable"]["Viewer"]["denied"] == 1
    assert table["pairs"] == {
        "total": 3,
        "decided": 3,
        "allowed": 1,
        "denied": 1,
        "unexpected": 1,
        "skipped": 0,
        "error": 0,
    }
    text = "\n".join(authorization_lines(table))
    assert "| Variable | 1 / 0 / 0 | 0 / 1 / 0 | **0 / 0 / 1** |" in text


def test_the_html_report_shows_the_table_and_the_unexpected_pair(v2):
    from conformance.reporting.html import render_html  # noqa: PLC0415
    from conformance.reporting.results import RunResults  # noqa: PLC0415

    cells = [
        Cell(
            "Viewer",
            "denied",
            UNEXPECTED,
            200,
            "answered 200 although Viewer lacks can_create on Variables",
            "curl -X POST -H 'Authorization: Basic ***' http://h/api/v1/variables",
        )
    ]
    conclusion = conclude("post_variables", v2.operations["post_variables"], cells)
    run = RunResults(
        results=[
            Result(
                "authorization.post_variables",
                "authorization",
                "Who may POST /variables",
                ["post_variables"],
                conclusion.status,
                conclusion.message,
                reproduce=conclusion.reproduce,
                cells=conclusion.cells,
                group=conclusion.group,
            )
        ]
    )
    html = render_html(run.as_dict())
    assert "Authorization (role × operation group)" in html and "<th>Viewer</th>" in html
    assert "0 / 0 / 1" in html and "authorization.post_variables" in html and "Basic ***" in html
