"""The client check's own logic, without Airflow (the fast layer).

Which client release a server gets, what the cassette keeps and masks, how a
client refusal becomes a result and is matched against a recorded deviation,
and how the matrix shows client x server pairs. The clients' real reading of
real answers (and their failing on broken ones, through the fault proxy) is in
tests/clients/test_clients.py.
"""

from __future__ import annotations

import json

import pytest
import requests

from conformance.clients import runner, versions
from conformance.clients.reading import Reading, Refusal, Tally, observation
from conformance.errors import ConfigError
from conformance.expectations.deviations import CLIENT_CHECK, Deviation, lint
from conformance.http import cassette as cassette_mod
from conformance.http.cassette import Cassette, masked, placeholder
from conformance.http.redact import Redactor
from conformance.local import versions as airflow_versions
from conformance.matrix import build
from conformance.matrix.collect import Column
from conformance.run.clients import results_of

SECRET = "pw-77-never-in-a-cassette"


# -- which client ---------------------------------------------------------------------
@pytest.mark.parametrize("server", airflow_versions.supported())
def test_auto_picks_a_published_client_of_the_same_major_not_newer_than_the_server(server):
    client = versions.matching(server)
    assert client in versions.PUBLISHED
    c, s = versions.Version(client), versions.Version(server)
    assert c.major == s.major and (c.major, c.minor) <= (s.major, s.minor)
    # it is the newest patch of the newest client minor not above the server's minor
    same_or_lower = [
        versions.Version(p)
        for p in versions.PUBLISHED
        if versions.Version(p).major == s.major
        and (versions.Version(p).major, versions.Version(p).minor) <= (s.major, s.minor)
    ]
    assert c == max(same_or_lower)


def test_minors_without_a_client_get_the_nearest_lower_one():
    assert versions.matching("2.4.3") == "2.3.0"
    assert versions.matching("2.11.2") == "2.10.0"
    assert versions.matching("3.0.6") == "3.0.2"
    assert versions.matching("1.10.15") is None


def test_neighbours_are_the_adjacent_minors_of_the_same_major():
    assert versions.neighbours("3.1.8") == ["3.0.2", "3.1.8", "3.2.2"]
    assert versions.neighbours("2.10.5") == ["2.9.1", "2.10.0"]  # no 2.11 client, and never a 3.x one
    assert versions.neighbours("3.0.6") == ["3.0.2", "3.1.8"]


def test_client_flag_values():
    assert versions.parse(None) == ("auto",) and versions.parse("AUTO") == ("auto",)
    assert versions.parse("none") == ()
    assert versions.parse("3.3.2, 3.2.2,3.3.2") == ("3.3.2", "3.2.2")
    with pytest.raises(ConfigError, match="not a client version"):
        versions.parse("latest")
    assert versions.resolve("auto", "3.3.2") == (["3.3.2"], "")
    assert versions.resolve("none", "3.3.2")[0] == []
    with pytest.raises(ConfigError, match="cannot read the API"):
        versions.resolve("2.10.0", "3.3.2")


# -- the cassette ------------------------------------------------------------------------
def _exchange(url: str, status: int, body: object, ctype: str = "application/json", length: str | None = None) -> tuple:
    req = requests.Request("GET", url, headers={"Authorization": f"Basic {SECRET}"}).prepare()
    resp = requests.Response()
    resp.status_code = status
    resp.headers["Content-Type"] = ctype
    if length is not None:
        resp.headers["Content-Length"] = length
    resp.headers["Set-Cookie"] = f"session={SECRET}"
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return req, resp, raw


def _record(
    c: Cassette, op: str, status: int, body: object, ctype: str = "application/json", length: str | None = None
) -> None:
    req, resp, raw = _exchange(f"http://airflow.test/api/v2/{op}", status, body, ctype, length)
    c.record(op, f"/api/v2/{op}", req, resp, raw)


def test_cassette_keeps_only_successful_json_answers():
    c = Cassette(Redactor([SECRET]))
    _record(c, "get_pools", 200, {"pools": []})
    _record(c, "get_pools", 404, {"detail": "nope"})
    _record(c, "get_log", 200, b"plain text log", "text/plain")
    _record(c, "get_health", 200, b"{not json")
    c.record(None, "", *_exchange("http://airflow.test/x", 200, {"a": 1}))
    assert [(e["operation"], e["status"]) for e in c.entries()] == [("get_pools", 200)]
    assert c.dropped["not JSON"] == 1
    req, resp, raw = _exchange("http://airflow.test/api/v2/version", 200, {"version": "3.3.2"})
    del resp.headers["Content-Type"]
    resp.headers["content-type"] = "application/json"  # uvicorn's spelling: kept under the one name readers use
    c.record("get_version", "/api/v2/version", req, resp, raw)
    assert [e["headers"] for e in c.entries() if e["operation"] == "get_version"] == [
        {"Content-Type": "application/json"}
    ]


def test_cassette_keeps_one_answer_without_body_per_operation_and_status():
    c = Cassette(Redactor([SECRET]))
    for _ in range(3):  # 2.x PUT /parseDagFile answers 201 with no body, as its spec declares
        _record(c, "reparse_dag_file", 201, b"", "text/html; charset=utf-8", length="0")
    _record(c, "delete_pool", 204, b"", "")
    _record(c, "delete_pool", 404, b"", "")
    _record(
        c, "wait_dag_run_until_finished", 200, b"", "application/x-ndjson"
    )  # a silent stream, cut off: not "no body"
    kept = {(e["operation"], e["status"]): e for e in c.entries()}
    assert sorted(kept) == [("delete_pool", 204), ("reparse_dag_file", 201)]
    entry = kept[("reparse_dag_file", 201)]
    assert entry["body"] is None and entry["no_body"] is True and SECRET not in json.dumps(entry)
    assert c.seen["reparse_dag_file"] == 3


def test_a_client_reads_an_answer_without_body_as_the_spec_declares_it():
    table = {runner.normalized("PUT", "/parseDagFile/{file_token}"): ("reparse_dag_file", None)}
    entry = {
        "operation": "reparse_dag_file",
        "method": "PUT",
        "path": "/api/v1/parseDagFile/{file_token}",
        "status": 201,
    }
    # no body and no model declared: the client's method returns None, a reading that passes
    assert runner._one({**entry, "body": ""}, 2, None, table, {})["outcome"] == "parsed"
    # a body the client has no model for is not read: nothing decided
    assert runner._one({**entry, "body": "{}"}, 2, None, table, {})["outcome"] == "skipped"


def test_cassette_keeps_the_richest_distinct_answers_per_operation_and_status():
    c = Cassette(Redactor(), per_slot=2)
    for n in (1, 5, 5, 3, 2):
        _record(c, "get_pools", 200, {"pools": [{"name": f"p{i}"} for i in range(n)]})
    kept = [len(e["body"]["pools"]) for e in c.entries()]
    assert kept == [5, 3]  # largest first, the duplicate answer once


def test_cassette_masks_secrets_and_keeps_every_json_type():
    body = {
        "connection_id": "c",
        "password": SECRET,
        "extra": {"token": SECRET, "n": 5},
        "value": None,
        "conf": {"flag": True, "depth": 3.5, "tags": ["a"]},
        "port": 5432,
        "description": f"uses {SECRET}",
        "login": "bob",
    }
    safe = masked(body, Redactor([SECRET]))
    assert SECRET not in json.dumps(safe)
    assert safe["password"] == "***" and safe["extra"] == {"token": "***", "n": 0}
    assert safe["value"] is None and safe["conf"] == {"flag": True, "depth": 0.0, "tags": ["***"]}
    assert safe["port"] == 5432 and safe["login"] == "bob" and safe["description"] == "uses ***"
    # a wrong type stays wrong: masking never turns an int password into the string a client expects
    assert placeholder(12345) == 0 and placeholder([1, "x"]) == [0, "***"]


def test_cassette_file_has_no_secret_and_round_trips(tmp_path):
    redactor = Redactor()
    c = Cassette(redactor)
    _record(c, "get_connection", 200, {"connection_id": "c", "host": f"db-{SECRET}.example", "login": "x"})
    redactor.add(SECRET)  # learnt after the answer was recorded: still masked when written
    path = c.write(tmp_path / "cassette.json", target={"airflow_version": "3.3.2"})
    text = path.read_text()
    assert SECRET not in text and "session=" not in text
    entry = cassette_mod.load(path)[0]
    assert entry["body"]["host"] == "db-***.example" and entry["headers"] == {"Content-Type": "application/json"}
    assert "Authorization: ***" in entry["request"] or "Authorization: Basic ***" in entry["request"]
    assert cassette_mod.read_file(path)["target"] == {"airflow_version": "3.3.2"}


def test_cassette_bounds_its_size(tmp_path, monkeypatch):
    monkeypatch.setattr(cassette_mod, "MAX_BODY_BYTES", 2000)
    c = Cassette(Redactor(), max_total=3000)
    _record(c, "get_dags", 200, {"dags": [{"dag_id": f"dag_{i:04d}"} for i in range(500)], "total_entries": 500})
    entry = c.entries()[0]
    assert len(entry["body"]["dags"]) == cassette_mod.LIST_CUT and entry["body"]["total_entries"] == 500
    _record(c, "get_pools", 200, {"pools": [{"name": "x" * 1500}]})
    _record(c, "get_variables", 200, {"variables": [{"key": "y" * 1500}]})
    assert c.total <= 3000 and c.dropped["over the cassette's total bound"] == 1


def test_an_answer_the_cassette_cannot_keep_never_breaks_the_exchange():
    c = Cassette(Redactor())
    deep = b"[" * 5000 + b"]" * 5000  # JSON, nested deeper than the masking can walk
    req, resp, _ = _exchange("http://airflow.test/api/v2/variables", 200, {})
    c.record("get_variables", "/api/v2/variables", req, resp, deep)
    assert c.entries() == [] and sum(c.dropped.values()) == 1


def test_not_a_cassette_is_one_line(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text('{"entries": []}')
    with pytest.raises(ValueError, match="not an airflow-conformance cassette"):
        cassette_mod.load(bad)
    with pytest.raises(ValueError, match="cannot read cassette"):
        cassette_mod.load(tmp_path / "missing.json")


# -- client deviations -------------------------------------------------------------------
CLIENT_DEFECT = {
    "id": "client-example",
    "versions": ">=3.1,<3.4",
    "client": ">=3.0,<3.1",
    "operations": ["get_assets"],
    "checks": [CLIENT_CHECK],
    "response": {"status": 200, "schema_error": "consuming_dags"},
    "reproduce": [{"operation": "get_assets"}],
    "upstream": "unreported",
    "summary": "client 3.0 rejects null",
}


def test_lint_holds_client_defects_to_the_client_check():
    assert lint([CLIENT_DEFECT], {CLIENT_CHECK, "status"}) == []
    wider = {**CLIENT_DEFECT, "checks": [CLIENT_CHECK, "status"]}
    assert any("only the `client_parse` check" in p for p in lint([wider], {CLIENT_CHECK, "status"}))
    assert any("PEP 440" in p for p in lint([{**CLIENT_DEFECT, "client": "three"}], {CLIENT_CHECK}))
    assert any(
        "scenario steps" in p
        for p in lint([{**CLIENT_DEFECT, "scenarios": [{"id": "s", "step": "x"}]}], {CLIENT_CHECK})
    )


def _entry(op: str = "get_assets", body: object = None) -> dict:
    return {
        "operation": op,
        "method": "GET",
        "path": f"/api/v2/{op}",
        "status": 200,
        "headers": {"Content-Type": "application/json"},
        "body": body or {"assets": []},
        "request": "curl x",
    }


def _refusal(op: str = "get_assets", field: str = "AssetResponse /consuming_dags") -> Refusal:
    return Refusal(op, 200, field, None, "Input should be a valid list", "AssetCollectionResponse", "curl -X GET 'u'")


def test_a_client_defect_excuses_only_readings_of_its_client_releases():
    dev = Deviation.parse(CLIENT_DEFECT)
    assert dev.covers(observation(_entry(), _refusal(), "3.0.2"))
    assert not dev.covers(observation(_entry(), _refusal(), "3.1.8"))  # a newer client: a real failure
    assert not dev.covers(observation(_entry(), _refusal(field="AssetResponse /name"), "3.0.2"))  # another field
    assert not dev.covers(observation(_entry("get_asset"), _refusal("get_asset"), "3.0.2"))  # another operation
    server_side = observation(_entry(), _refusal(), "")  # the same answer judged by a server check
    assert not dev.covers(server_side)


def test_a_server_defect_naming_the_client_check_excuses_every_client():
    dev = Deviation.parse({**CLIENT_DEFECT, "client": None, "checks": [CLIENT_CHECK, "response_schema_conformance"]})
    assert dev.covers(observation(_entry(), _refusal(), "3.0.2")) and dev.covers(
        observation(_entry(), _refusal(), "3.3.2")
    )


# -- readings -> results -----------------------------------------------------------------
def _reading(version: str, op: str, tally: Tally) -> Reading:
    return Reading(version, 3, {op: tally})


def test_an_unexplained_refusal_fails_the_operation_with_field_value_and_curl():
    bad = Tally(
        parsed=2,
        failed=1,
        models={"DAGResponse"},
        refusals=[
            Refusal(
                "get_dag",
                200,
                "DAGResponse /dag_id",
                None,
                "Input should be a valid string",
                "DAGResponse",
                "curl -X GET 'http://a/api/v2/dags/x'",
            )
        ],
    )
    good = Tally(parsed=3, models={"DAGResponse"})
    [result] = results_of([_reading("3.3.2", "get_dag", bad), _reading("3.2.2", "get_dag", good)])
    assert result.id == "client.get_dag" and result.kind == "client" and result.status == "failed"
    assert "DAGResponse /dag_id = null" in result.message and "apache-airflow-client 3.3.2" in result.message
    assert result.reproduce == "curl -X GET 'http://a/api/v2/dags/x'"
    rows = {c["name"]: c for c in result.checks}
    assert (
        rows["apache-airflow-client 3.3.2"]["status"] == "failed"
        and rows["apache-airflow-client 3.2.2"]["status"] == "passed"
    )


def test_an_excused_refusal_is_a_known_deviation_and_names_it():
    dev = Deviation.parse(CLIENT_DEFECT)
    refusal = _refusal()
    refusal.deviation = dev
    [result] = results_of([_reading("3.0.2", "get_assets", Tally(parsed=1, excused=1, refusals=[refusal]))])
    assert result.status == "known_deviation" and result.upstream == "unreported"
    assert result.deviations[0]["id"] == "client-example" and result.deviations[0]["checks"] == [CLIENT_CHECK]


def test_nothing_read_is_skipped_and_a_client_that_cannot_run_is_an_error():
    [skipped] = results_of(
        [_reading("3.0.2", "get_new", Tally(skipped=2, skip_reason="this client has no such operation"))]
    )
    assert skipped.status == "skipped" and "no such operation" in skipped.message
    [error] = results_of([Reading("9.9.9", error="apache-airflow-client 9.9.9: installing failed")])
    assert error.id == "client.environment" and error.status == "error" and "--client none" in error.message


# -- the matrix --------------------------------------------------------------------------
def _column(version: str, clients: list) -> Column:
    return Column(version, status="ran", exit_code=0, results={"results": [], "operations": {}}, clients=clients)


def test_matrix_has_client_rows_and_works_without_cassettes():
    reading = {
        "client": "3.2.2",
        "relation": "older",
        "parsed": 10,
        "failed": 1,
        "excused": 0,
        "skipped": 2,
        "error": "",
        "operations": {"get_dag": {"refusals": [{"field": "/x", "deviation": ""}]}},
    }
    doc = build.build(
        [
            _column(
                "3.3.2",
                [reading, {**reading, "client": "3.3.2", "relation": "matching", "failed": 0, "operations": {}}],
            ),
            _column("3.2.2", []),
        ]
    )
    assert doc["clients"]["3.2.2"]["3.3.2"]["refused"] == ["get_dag /x"]
    md = build.render_markdown(doc)
    assert "## Official clients" in md and "| `3.2.2` | · | ❌ 1/11 refused; 2 n/a |" in md
    assert "| `3.3.2` | · | ✅ 10/10; 2 n/a (matching) |" in md
    assert "Official clients" in build.render_html(doc)
    bare = build.build([_column("3.3.2", []), _column("3.2.2", [])])
    assert bare["clients"] == {} and "Official clients" not in build.render_markdown(bare)
