"""What makes a deviation trustworthy: the lint rules, the judge of a replayed answer, the permitted answers.

Everything here reads the real reference specs under specs/ and the real data file,
so a rule is shown on the operations it protects, not on made-up documents.
"""

from __future__ import annotations

import copy

import pytest

from conformance.checks.documented import is_documented, media_types, operation
from conformance.checks.permitted import acceptance_permitted, permitted, refusal_permitted
from conformance.checks.registry import check_names
from conformance.expectations import raw_deviations
from conformance.expectations.deviations import Deviation, lint
from conformance.expectations.judge import violates
from conformance.expectations.trust import problems
from conformance.local.versions import supported
from conformance.replay.deviations import (
    ABSENT,
    CONTROL_CLEAN,
    CONTROL_FAILS,
    NOT_REPLAYED,
    OCCURS,
    PERMITTED,
    Replay,
    _as_control,
    controls,
)
from conformance.specs.catalog import load_spec, reference_version_for

pytestmark = pytest.mark.fast


def spec_for(version: str) -> dict:
    return load_spec(reference_version_for(version))


V3 = spec_for("3.3.2")
V2 = spec_for("2.10.5")
BULK = {
    "id": "acf-bulk-500",
    "versions": ">=3.3,<3.4",
    "operations": ["bulk_pools"],
    "checks": ["not_a_server_error", "status_code_conformance"],
    "response": {"status": 500, "content_type": "application/json"},
    "trigger": {"body_types": {"/actions/*/entities/*": "object"}},
    "reproduce": [{"operation": "bulk_pools", "body": {"actions": []}}],
    "control": [{"operation": "bulk_pools", "body": {"actions": []}}],
    "upstream": "unreported",
    "summary": "s",
}


def _with(**changes) -> dict:
    entry = copy.deepcopy(BULK)
    entry.update(changes)
    return entry


def test_the_data_file_passes_every_rule_against_the_real_specs():
    entries = raw_deviations()
    assert lint(entries, check_names(), spec_for, supported()) == []


def test_a_precise_5xx_entry_passes():
    assert problems(BULK, ["3.3.2"], spec_for) == []


@pytest.mark.parametrize(
    ("entry", "needle"),
    [
        pytest.param(_with(trigger={}), "needs a `trigger`", id="5xx-without-trigger"),
        pytest.param(_with(control=[]), "needs a `control`", id="5xx-without-control"),
        pytest.param(
            _with(response={"status": 422, "body": "Value error, "}, checks=["positive_data_acceptance"]),
            "generic error text",
            id="pydantic-value-error",
        ),
        pytest.param(
            _with(response={"status": 500, "body": '"reason": ?"Database error"'}),
            "generic error text",
            id="database-error",
        ),
        pytest.param(
            _with(response={"status": 200, "schema_error": "anyOf"}, checks=["response_schema_conformance"]),
            "root error of an anyOf",
            id="anyof-root",
        ),
        pytest.param(
            _with(
                response={"status": [200, 201], "content_type": "application/json"}, checks=["negative_data_rejection"]
            ),
            "switches negative_data_rejection off",
            id="wholesale",
        ),
        pytest.param(_with(versions=">=3.3"), "no upper bound", id="open-range"),
        pytest.param(
            _with(response={"status": 422, "body": "x"}, checks=["status_code_conformance"]),
            "status_code_conformance cannot fail on bulk_pools",
            id="documented-status",
        ),
        pytest.param(
            _with(response={"status": 422, "body": "x"}, checks=["positive_data_acceptance"]),
            "positive_data_acceptance cannot fail on bulk_pools",
            id="documented-refusal",
        ),
    ],
)
def test_each_rule_rejects_what_excuses_more_than_one_defect(entry, needle):
    found = problems(entry, ["3.3.2"], spec_for)
    assert any(needle in p for p in found), found


def test_documented_statuses_follow_the_spec():
    pools = operation(V3, "bulk_pools")
    assert is_documented(pools, 422) and not is_documented(pools, 500) and not is_documented(pools, 400)
    assert media_types(V3, pools, 200) == ("application/json",)
    assert media_types(V3, pools, 500) is None
    assert operation(V3, "no_such_operation") == {}


def test_the_judge_fails_a_crash_and_passes_a_documented_refusal():
    pools = operation(V3, "bulk_pools")
    assert violates("not_a_server_error", V3, pools, 500, "application/json", b"{}") is True
    assert violates("status_code_conformance", V3, pools, 500, "application/json", b"{}") is True
    assert violates("status_code_conformance", V3, pools, 422, "application/json", b"{}") is False
    assert violates("positive_data_acceptance", V3, pools, 422, "application/json", b"{}") is False
    assert violates("positive_data_acceptance", V3, pools, 400, "application/json", b"{}") is True
    assert violates("content_type_conformance", V3, pools, 200, "text/html", b"<p>") is True
    assert violates("content_type_conformance", V3, pools, 200, "", b"") is False  # no content, no type needed
    assert violates("chain_status", V3, pools, 422, "application/json", b"{}") is None  # judged by its chain


def test_an_ignored_undeclared_query_parameter_is_permitted_other_invalid_input_is_not():
    dags = operation(V3, "get_dags")
    assert acceptance_permitted(dags, {"query:additionalProperties"})
    assert not acceptance_permitted(dags, {"query:additionalProperties", "query:type"})
    assert not acceptance_permitted(dags, set())
    assert (
        violates("negative_data_rejection", V3, dags, 200, "application/json", b"{}", mutations=["unknown_query"])
        is False
    )
    assert (
        violates("negative_data_rejection", V3, dags, 200, "application/json", b"{}", mutations=["query_type"]) is True
    )
    assert permitted("negative_data_rejection", dags, 200, {"query:additionalProperties"})
    assert not permitted("negative_data_rejection", dags, 422, {"query:additionalProperties"})


def test_an_unmatched_accept_header_is_permitted_only_where_accept_is_the_enum_header():
    with_accept = [op for op in (operation(V3, o) for o in ("get_log", "get_dag_source")) if op]
    assert with_accept and all(acceptance_permitted(op, {"header:enum"}) for op in with_accept)
    assert not acceptance_permitted(operation(V3, "get_dags"), {"header:enum"})


def test_a_documented_4xx_refusing_valid_input_is_permitted_an_undocumented_one_is_not():
    assert refusal_permitted(operation(V2, "patch_pool"), 400)  # 2.10.5 documents 400 there
    assert not refusal_permitted(operation(V2, "get_dags"), 405)
    assert not refusal_permitted(operation(V2, "patch_pool"), 500)


def test_a_control_is_clean_unless_it_reproduces_the_answer_and_a_permitted_answer_is_no_deviation():
    dev = Deviation.parse(BULK)
    assert controls(dev, {"bulk_pools"}) == [("bulk_pools", BULK["control"][0])]
    assert controls(dev, {"get_pools"}) == []  # a release without the operation has no control to replay
    mapped = {v: _as_control(Replay(dev, "bulk_pools", v)) for v in (OCCURS, ABSENT, PERMITTED, NOT_REPLAYED)}
    assert {v: r.verdict for v, r in mapped.items()} == {
        OCCURS: CONTROL_FAILS,
        ABSENT: CONTROL_CLEAN,
        PERMITTED: CONTROL_CLEAN,
        NOT_REPLAYED: NOT_REPLAYED,
    }
    assert all(r.control for r in mapped.values()) and mapped[OCCURS].bad and not mapped[ABSENT].bad
    assert Replay(dev, "bulk_pools", PERMITTED).bad and not Replay(dev, "bulk_pools", OCCURS).bad
