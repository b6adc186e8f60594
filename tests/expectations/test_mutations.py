"""The requests `mutate:` reproductions build, from the bundled reference specs (no Airflow needed).

A framework-wide deviation is only as good as its reproduction on each operation:
these pin that the minimal request is valid in the ways the servers insist on, and
that each mutation breaks exactly the part it names, or says it has nothing to break.
"""

from __future__ import annotations

import pytest

from conformance.expectations.deviations import lint
from conformance.expectations.mutations import NothingToMutate, base_request, mutate
from conformance.http.router import Router
from conformance.specs.catalog import load_spec

PREFIX = "acf_test_"


@pytest.fixture(scope="module")
def v1():
    spec = load_spec("2.10.5")
    return spec, Router(spec)


@pytest.fixture(scope="module")
def v2():
    spec = load_spec("3.3.2")
    return spec, Router(spec)


def test_minimal_create_names_its_object_with_the_run_prefix_and_carries_what_the_server_needs(v1):
    spec, router = v1
    req = base_request(spec, router.by_id["post_pool"], PREFIX)
    assert req["body"]["name"].startswith(PREFIX)
    assert req["body"]["slots"] == 1  # required by 2.x although the spec does not say so


def test_two_minimal_creates_name_two_objects(v1):
    spec, router = v1
    first = base_request(spec, router.by_id["post_variables"], PREFIX)["body"]["key"]
    second = base_request(spec, router.by_id["post_variables"], PREFIX)["body"]["key"]
    assert first != second


def test_spec_minimal_is_the_spec_alone(v1):
    spec, router = v1
    body = mutate("spec_minimal", spec, router.by_id["post_variables"], PREFIX)["body"]
    assert "value" not in body and body["key"].startswith(PREFIX)


def test_enum_mutation_breaks_the_enum_parameter(v1):
    spec, router = v1
    req = mutate("enum", spec, router.by_id["post_set_task_instances_state"], PREFIX)
    assert req["body"]["new_state"] == "acf" and req["body"]["dry_run"] is True


def test_unknown_query_keeps_the_valid_body(v2):
    spec, router = v2
    req = mutate("unknown_query", spec, router.by_id["post_pool"], PREFIX)
    assert req["query"]["acf_unknown_parameter"] == "1"
    assert req["body"]["name"].startswith(PREFIX) and req["body"]["slots"] == 1


def test_number_for_datetime_uses_a_date_time_query_parameter(v2):
    spec, router = v2
    req = mutate("number_for_datetime", spec, router.by_id["get_event_logs"], PREFIX)
    assert "5" in req["query"].values()


def test_a_mutation_with_nothing_to_break_says_so(v1):
    spec, router = v1
    with pytest.raises(NothingToMutate):
        mutate("query_type", spec, router.by_id["delete_connection"], PREFIX)


def test_first_applicable_kind_of_a_list_is_used(v1):
    spec, router = v1
    req = mutate(["query_type", "invalid_json"], spec, router.by_id["post_variables"], PREFIX)
    assert req["data"] == "{" and "body" not in req


def test_lint_rejects_an_unknown_mutation_kind():
    entry = {
        "id": "x-test",
        "versions": "<3",
        "operations": ["get_dags"],
        "checks": ["status_code_conformance"],
        "response": {"status": 400, "body": "x"},
        "reproduce": [{"each": True, "mutate": "no_such_kind"}],
        "upstream": "unreported",
        "summary": "s",
    }
    problems = lint([entry], ["status_code_conformance"])
    assert any("no_such_kind" in p for p in problems)
