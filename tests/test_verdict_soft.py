"""Fast layer: scenario assertions are soft, and each violation is matched against known deviations on its own."""

from __future__ import annotations

import json

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from conformance.expectations.deviations import Deviation, Observation
from conformance.verdict import MAX_SHOWN, Conclusion, StopCheck, Verdict

pytestmark = pytest.mark.fast

RESULT_ID = "scenario.pools.partial_patch"
POOL_DEVIATION = Deviation.parse(
    {
        "id": "acf-pool-patch-422",
        "versions": ">=3.2",
        "scenarios": [{"id": RESULT_ID, "step": "patch"}],
        "checks": ["status"],
        "response": {"status": 422, "body": "include_deferred"},
        "reproduce": [{"operation": "patch_pool"}],
        "upstream": "apache/airflow#4242",
        "summary": "partial PATCH refused",
    }
)
SCHEMA_DEVIATION = Deviation.parse(
    {
        "id": "acf-slots-schema",
        "versions": ">=3.2",
        "scenarios": [{"id": RESULT_ID, "step": "get"}],
        "checks": ["response_schema"],
        "response": {"status": 200, "schema_error": "^/slots:"},
        "reproduce": [{"operation": "get_pool"}],
        "upstream": "unreported",
        "summary": "slots has the wrong type",
    }
)


class FakeExpectations:
    """Answers `known(obs)` from real deviations and keeps every observation it was asked about."""

    def __init__(self, *deviations: Deviation, backend: str = "") -> None:
        self.deviations = deviations
        self.backend = backend
        self.seen: list[Observation] = []

    def known(self, obs: Observation):
        self.seen.append(obs)
        return next((d for d in self.deviations if d.covers(obs)), None)


class FakeValidator:
    def __init__(self, errors: list[str]) -> None:
        self._errors = errors

    def errors(self, resp) -> list[str]:
        return list(self._errors)


class FakeRedactor:
    def curl(self, req: requests.PreparedRequest) -> str:
        return f"curl -X {req.method} {req.url}"


class FakeSession:
    redactor = FakeRedactor()


def response(
    status: int,
    body: object = None,
    *,
    text: str | None = None,
    content_type: str = "application/json",
    method: str = "GET",
    url: str = "http://x/api/v2/pools/p",
    req_body: object = None,
) -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    raw = text if text is not None else ("" if body is None else json.dumps(body))
    resp._content = raw.encode("utf-8")
    resp.encoding = "utf-8"
    resp.headers = CaseInsensitiveDict({"Content-Type": content_type} if content_type else {})
    resp.request = requests.Request(method, url, json=req_body).prepare()
    return resp


def verdict(*deviations: Deviation, errors: list[str] | None = None, operations=("patch_pool",), backend: str = ""):
    exp = FakeExpectations(*deviations, backend=backend)
    v = Verdict(RESULT_ID, exp, FakeValidator(errors or []), FakeSession(), operations)
    return v, exp


REFUSED = {"detail": [{"loc": ["body", "include_deferred"], "msg": "Field required"}]}


# -- soft assertions -------------------------------------------------------------------
def test_every_violation_is_recorded_and_listed():
    v, _ = verdict()
    assert v.that(False, "slots were not updated", step="get") is False
    assert v.that(True, "never recorded") is True
    assert v.status(response(500, {"detail": "boom"}), 200, "read the pool", step="get") is False
    assert v.status(response(404, {"detail": "gone"}), (200, 204), "delete the pool", step="delete") is False
    assert len(v.violations) == 3
    c = v.conclusion()
    assert isinstance(c, Conclusion) and c.status == "failed"
    assert c.message.startswith("3 violation(s):")
    assert "slots were not updated [step get]" in c.message
    assert "read the pool: expected HTTP 200, got 500" in c.message
    assert "delete the pool: expected HTTP 200 or 204, got 404" in c.message
    assert c.excused == []
    assert c.reproduce == "curl -X GET http://x/api/v2/pools/p"


def test_status_returns_bool_and_records_only_a_mismatch():
    v, _ = verdict()
    assert v.status(response(201, {"name": "p"}), [200, 201], "create") is True
    assert v.violations == []
    assert v.status(response(200, {}), 201, "create", step="create") is False
    assert [(x.check, x.step) for x in v.violations] == [("status", "create")]


def test_more_violations_than_shown_are_counted():
    v, _ = verdict()
    for i in range(MAX_SHOWN + 2):
        v.that(False, f"violation {i}")
    c = v.conclusion()
    assert c.status == "failed"
    assert f"{MAX_SHOWN + 2} violation(s)" in c.message
    assert f"violation {MAX_SHOWN - 1}" in c.message and f"violation {MAX_SHOWN}\n" not in c.message
    assert "... and 2 more" in c.message


def test_nothing_violated_concludes_nothing():
    v, _ = verdict(POOL_DEVIATION)
    assert v.that(True, "fine") is True
    assert v.status(response(200, {"name": "p"}), 200, "read") is True
    assert v.conclusion() is None


def test_unrelated_exception_without_violation_is_left_to_the_plugin():
    v, _ = verdict()
    assert v.conclusion(stopped_by=RuntimeError("network hiccup")) is None


def test_unrelated_exception_after_a_violation_still_fails_and_says_why_it_stopped():
    v, _ = verdict()
    v.that(False, "slots were not updated")
    c = v.conclusion(stopped_by=KeyError("slots"))
    assert c.status == "failed"
    assert "(the scenario stopped: KeyError" in c.message


# -- known deviations, per step -------------------------------------------------------
def test_violation_matched_for_its_step_is_a_known_deviation():
    v, exp = verdict(POOL_DEVIATION)
    assert v.status(response(422, REFUSED, method="PATCH"), 200, "partial patch", step="patch") is False
    assert v.violations[0].deviation is POOL_DEVIATION
    obs = exp.seen[-1]
    assert (obs.result_id, obs.step, obs.check, obs.status) == (RESULT_ID, "patch", "status", 422)
    assert "include_deferred" in obs.body and obs.content_type == "application/json"
    assert obs.json == REFUSED
    c = v.conclusion()
    assert c.status == "known_deviation"
    assert [e.deviation.id for e in c.excused] == ["acf-pool-patch-422"]
    ex = c.excused[0].as_dict()
    assert ex["id"] == "acf-pool-patch-422" and ex["upstream"] == "apache/airflow#4242"
    assert ex["checks"] == ["status"] and ex["operations"] == ["patch_pool"] and ex["count"] == 1
    assert "intermittent" not in ex
    assert c.upstream == "apache/airflow#4242"
    assert "known upstream deviation acf-pool-patch-422" in c.message and "partial patch" in c.message
    assert c.reproduce == "curl -X PATCH http://x/api/v2/pools/p"


def test_same_answer_on_another_step_is_not_excused():
    v, _ = verdict(POOL_DEVIATION)
    v.status(response(422, REFUSED), 200, "read after patch", step="get")
    assert v.violations[0].deviation is None
    assert v.conclusion().status == "failed"


def test_request_text_does_not_excuse():
    """The request named include_deferred, the answer did not: not the deviation."""
    v, _ = verdict(POOL_DEVIATION)
    resp = response(422, {"detail": "database is locked"}, method="PATCH", req_body={"include_deferred": True})
    assert b"include_deferred" in resp.request.body
    v.status(resp, 200, "partial patch", step="patch")
    assert v.violations[0].deviation is None
    assert v.conclusion().status == "failed"


def test_known_violation_never_hides_an_unexplained_one():
    v, _ = verdict(POOL_DEVIATION)
    v.status(response(422, REFUSED), 200, "partial patch", step="patch")
    v.that(False, "slots read back as 1, not 3", step="get")
    c = v.conclusion()
    assert c.status == "failed"
    assert c.message.startswith("1 violation(s):")
    assert "slots read back as 1, not 3" in c.message
    assert "partial patch" not in c.message.split("(also")[0]
    assert "(also explained by known deviations: acf-pool-patch-422)" in c.message
    assert [e.deviation.id for e in c.excused] == ["acf-pool-patch-422"]


def test_each_schema_error_is_matched_on_its_own():
    v, _ = verdict(
        SCHEMA_DEVIATION, errors=["/slots: 'x' is not of type 'integer'", "/name: None is not of type 'string'"]
    )
    assert v.schema(response(200, {"name": None, "slots": "x"}), "pool", step="get") is False
    assert [x.deviation is not None for x in v.violations] == [True, False]
    assert {x.check for x in v.violations} == {"response_schema"}
    c = v.conclusion()
    assert c.status == "failed"
    assert "/name: None is not of type 'string'" in c.message
    assert "acf-slots-schema" in c.message


def test_only_known_schema_errors_are_a_known_deviation():
    v, _ = verdict(SCHEMA_DEVIATION, errors=["/slots: 'x' is not of type 'integer'"])
    assert v.schema(response(200, {"slots": "x"}), step="get") is False
    c = v.conclusion()
    assert c.status == "known_deviation"
    assert c.excused[0].checks == {"response_schema"}


def test_schema_without_errors_records_nothing():
    v, _ = verdict(errors=[])
    assert v.schema(response(200, {"slots": 1})) is True
    assert v.violations == [] and v.conclusion() is None


def test_backend_of_the_expectations_reaches_the_observation():
    sqlite_dev = Deviation.parse(
        {
            "id": "acf-sqlite",
            "versions": ">=3",
            "scenarios": [{"id": RESULT_ID, "step": "patch"}],
            "checks": ["status"],
            "response": {"status": 500, "body": "Database error"},
            "backend": "sqlite",
            "reproduce": [{"operation": "patch_pool"}],
            "upstream": "unreported",
            "summary": "s",
        }
    )
    resp = response(500, {"detail": {"reason": "Database error"}})
    on_sqlite, _ = verdict(sqlite_dev, backend="sqlite")
    on_sqlite.status(resp, 200, "patch", step="patch")
    assert on_sqlite.conclusion().status == "known_deviation"
    on_postgres, _ = verdict(sqlite_dev, backend="postgres")
    on_postgres.status(resp, 200, "patch", step="patch")
    assert on_postgres.conclusion().status == "failed"


# -- json() stops the scenario ---------------------------------------------------------------
def test_json_returns_the_parsed_body():
    v, _ = verdict()
    assert v.json(response(200, {"name": "p"})) == {"name": "p"}
    assert v.violations == []


def test_json_on_a_non_json_body_stops_and_fails():
    v, exp = verdict()
    with pytest.raises(StopCheck) as info:
        v.json(response(200, text="<html>Internal error</html>", content_type="text/html"), "pool", step="get")
    assert [(x.check, x.step) for x in v.violations] == [("json", "get")]
    assert exp.seen[-1].content_type == "text/html" and exp.seen[-1].json is None
    c = v.conclusion(stopped_by=info.value)
    assert c.status == "failed"
    assert "pool: body is not JSON: <html>Internal error</html>" in c.message
    assert "the scenario stopped" not in c.message  # StopCheck is the violation itself, not a separate cause
    assert v.conclusion().status == "failed"


def test_violation_raises_stopcheck_and_is_recorded():
    v, _ = verdict()
    with pytest.raises(StopCheck, match="no run to continue with"):
        v.violation("no run to continue with", step="trigger")
    assert v.conclusion().status == "failed"


def test_a_step_violation_carries_its_request_facts_so_a_trigger_can_match():
    """A deviation whose answer cannot tell its defect apart names a trigger; a scenario or effect step's
    violation is matched on the request it sent, as a property case is (the trigger present: excused;
    absent: a failure)."""
    triggered = Deviation.parse(
        {
            "id": "acf-empty-on-fraction",
            "versions": ">=2",
            "scenarios": [{"id": RESULT_ID, "step": "bound"}],
            "checks": ["assertion"],
            "response": {"status": 200, "pointer": {"/total_entries": "^0$"}},
            "trigger": {"body": ["duration_lte"]},
            "reproduce": [{"operation": "patch_pool"}],
            "upstream": "unreported",
            "summary": "a fractional bound is truncated",
        }
    )
    empty = {"task_instances": [], "total_entries": 0}
    v, exp = verdict(triggered)
    v.that(
        False,
        "leaves out the suite's matching items",
        step="bound",
        resp=response(200, empty, method="POST", req_body={"duration_lte": 0.5, "page_limit": 50}),
    )
    assert exp.seen[-1].body_fields == frozenset({"duration_lte", "page_limit"})
    assert v.violations[-1].deviation is triggered
    v.that(
        False,
        "leaves out the suite's matching items",
        step="bound",
        resp=response(200, empty, method="POST", req_body={"page_limit": 50}),
    )
    assert v.violations[-1].deviation is None
