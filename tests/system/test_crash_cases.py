"""The crash cases' request predicates (tests/faultproxy/crashes.py), without Airflow.

The live test (test_crash_triggers.py) is only as sound as the proxy's decision of which requests
carry a deviation's trigger; here that decision is compared with the deviation model's own, on
requests as the proxy receives them.
"""

from __future__ import annotations

import json

import pytest

from conformance.expectations.deviations import Deviation
from tests.faultproxy.crashes import CASE_HEADER, Crash, control_for, crashes, triggered, untriggered
from tests.faultproxy.proxy import CaseInsensitiveDict, Request

GENERATED = {CASE_HEADER: "abc123", "Authorization": "Basic eA=="}


def _dev(ident: str, ops: list[str], trigger: dict | None = None, **response) -> Deviation:
    raw = {
        "id": ident,
        "versions": ">=2.10,<3",
        "operations": ops,
        "checks": ["not_a_server_error"],
        "response": {"status": 500, "content_type": "text/html", **response},
        "upstream": "unreported",
        "summary": "s",
        "reproduce": [{"each": True}],
    }
    if trigger:
        raw["trigger"] = trigger
    return Deviation.parse(raw)


def _request(method: str, path: str, query: dict | None = None, body=None, headers: dict | None = None) -> Request:
    data = b"" if body is None else json.dumps(body).encode()
    return Request(
        method,
        path,
        {k: [v] for k, v in (query or {}).items()},
        CaseInsensitiveDict(GENERATED if headers is None else headers),
        data,
    )


def _crash(op: str, *devs: Deviation) -> Crash:
    return next(c for c in crashes(list(devs)) if c.operation == op)


def test_only_bare_5xx_entries_scoped_to_operations_become_cases():
    """A body pattern or a 4xx tells the defect apart already; a scenario step is not an operation's result."""
    devs = [
        _dev("bare", ["get_dag"]),
        _dev("patterned", ["get_dags"], body="Database error"),
        _dev("client-side", ["get_log"], status=400),
        Deviation.parse(
            {
                "id": "step",
                "versions": "",
                "scenarios": [{"id": "scenario.x", "step": "s"}],
                "checks": ["status"],
                "response": {"status": 500},
            }
        ),
    ]
    assert [(c.operation, c.status, c.content_type) for c in crashes(devs)] == [("get_dag", 500, "text/html")]


def test_every_bare_5xx_entry_of_the_data_is_covered():
    """Derived from the data: each operation of each bare-5xx entry has a case holding that entry."""
    cases = crashes()
    assert cases, "the deviation data has no bare-5xx entry: the live test would decide nothing"
    for case in cases:
        assert all(case.operation in d.operations for d in case.entries)


def test_untriggered_answers_only_generated_requests_of_its_operation_without_the_trigger():
    crash = _crash("get_dags", _dev("fields", ["get_dags"], {"query": ["fields"]}))
    fault = untriggered(crash, "2.10.5")
    assert fault.matches(_request("GET", "/api/v1/dags"))
    assert not fault.matches(_request("GET", "/api/v1/dags", {"fields": "a.b"})), "carries the trigger"
    assert not fault.matches(_request("GET", "/api/v1/dags/x")), "another operation (get_dag)"
    assert not fault.matches(_request("GET", "/api/v1/dags", headers={"Authorization": "Basic eA=="})), (
        "the suite's own request, not a generated case"
    )
    assert not fault.matches(_request("GET", "/api/v1/dags", headers={CASE_HEADER: "x"})), "anonymous"
    assert triggered(crash, crash.entries[0], "2.10.5").matches(_request("GET", "/api/v1/dags", {"fields": "a.b"}))


def test_body_facts_are_read_as_the_suite_reads_them():
    """An empty JSON object is an empty body for `body_empty`; body fields and JSON types at pointers count."""
    empty = _crash("patch_dag", _dev("empty", ["patch_dag"], {"body_empty": True}))
    fault = untriggered(empty, "2.10.5")
    assert not fault.matches(_request("PATCH", "/api/v1/dags/x", body={}))
    assert fault.matches(_request("PATCH", "/api/v1/dags/x", body={"is_paused": True}))
    typed = _crash("post_connection", _dev("typed", ["post_connection"], {"body_types": {"/extra": "object"}}))
    fault = untriggered(typed, "2.10.5")
    assert not fault.matches(_request("POST", "/api/v1/connections", body={"extra": {"a": 1}}))
    assert fault.matches(_request("POST", "/api/v1/connections", body={"extra": "{}"}))


def test_an_entry_without_trigger_lacks_nothing_so_every_request_is_answered():
    """The case that exposes a trigger-less entry: any generated request of the operation gets the crash page."""
    crash = _crash("get_dag", _dev("no-trigger", ["get_dag"]))
    assert untriggered(crash, "2.10.5").matches(_request("GET", "/api/v1/dags/x", {"fields": "a"}))


def test_a_trigger_of_one_entry_does_not_shield_the_operation_from_another_entry_without_one():
    """Two entries, one answer: a request is spared only when it carries a trigger, never thanks to a trigger-less entry."""
    crash = _crash("get_dag", _dev("t", ["get_dag"], {"query": ["fields"]}), _dev("none", ["get_dag"]))
    fault = untriggered(crash, "2.10.5")
    assert fault.matches(_request("GET", "/api/v1/dags/x"))
    assert not fault.matches(_request("GET", "/api/v1/dags/x", {"fields": "a"}))
    assert control_for("2.10.5", [crash]) is None, "a control there would be excused by the trigger-less entry"


@pytest.mark.parametrize("trigger", [{"query": ["fields"]}, {"invalid": ["query:type"]}])
def test_the_control_prefers_a_read_and_skips_triggers_the_proxy_cannot_see(trigger):
    read = _crash("get_dags", _dev("read", ["get_dags"], trigger))
    write = _crash("patch_dag", _dev("write", ["patch_dag"], {"body": ["is_paused"]}))
    picked = control_for("2.10.5", [write, read])
    expected = "get_dags" if "query" in trigger else "patch_dag"
    assert picked is not None and picked[0].operation == expected
