"""Schema errors of an anyOf/oneOf name each schema's own errors, so one defect can be told from another.

The answer is a real one: 3.3.2's dry-run clear of a run of the probe DAG (tests/answers/). Its
task instances satisfy both schemas of the items' oneOf, which is the defect
`v2-clear-dry-run-oneof-overlap` records; the entry must match that answer, and must not match once
the same answer also breaks the contract in a way the overlap does not explain.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import requests
from packaging.version import Version
from schemathesis.core.transport import Response as SchemathesisResponse

from conformance.checks.schema import ResponseValidator
from conformance.expectations import all_deviations
from conformance.specs.catalog import load_spec
from conformance.tiers.properties.checking import as_requests_response

ROOT = "http://127.0.0.1:9"
ANSWER = json.loads((Path(__file__).resolve().parents[1] / "answers" / "clear_dry_run_3.3.2.json").read_text())
ENTRY = "v2-clear-dry-run-oneof-overlap"


@pytest.fixture(scope="module")
def validator() -> ResponseValidator:
    return ResponseValidator(load_spec("3.3.2"), ROOT, "")


def _answer(body: object) -> requests.Response:
    resp = requests.Response()
    resp.status_code = 200
    resp._content = json.dumps(body).encode()
    resp.headers["Content-Type"] = "application/json"
    resp.request = requests.Request("POST", f"{ROOT}/api/v2/dags/conformance_probe/dagRuns/r/clear", json={}).prepare()
    return resp


def _entry():
    return next(d for d in all_deviations() if d.id == ENTRY)


def _matched(errors: list[str]) -> list[bool]:
    pattern = _entry().response.schema_error
    assert pattern is not None
    return [pattern.search(e) is not None for e in errors]


def test_the_overlap_is_named_on_the_branch_line(validator):
    errors = validator.schema_errors(_answer(ANSWER["body"]))
    assert len(errors) == 1, errors
    lines = errors[0].splitlines()
    assert lines[0].endswith("[anyOf]")
    assert lines[1] == "<body> anyOf/0: task_instances/0 [oneOf] matches more than one of its schemas"
    assert lines[2].startswith("<body> anyOf/1: ") and "[required]" in lines[2]
    assert _matched(errors) == [True]
    assert _entry().applies_to(Version("3.3.2")) and _entry().applies_to(Version("3.2.2"))


def test_two_task_instances_are_the_same_defect(validator):
    body = copy.deepcopy(ANSWER["body"])
    body["task_instances"].append({**body["task_instances"][0], "id": "other", "task_id": "echo2"})
    assert _matched(validator.schema_errors(_answer(body))) == [True]


@pytest.mark.parametrize(
    "break_it",
    [
        lambda b: b.pop("total_entries"),  # a required field of the collection itself
        lambda b: b["task_instances"].append("not an object"),  # an item neither schema admits
    ],
)
def test_a_further_break_of_the_same_schema_is_not_the_defect(validator, break_it):
    body = copy.deepcopy(ANSWER["body"])
    break_it(body)
    errors = validator.schema_errors(_answer(body))
    assert errors and not any(_matched(errors)), errors


def test_a_conforming_answer_has_no_schema_error(validator):
    assert validator.schema_errors(_answer({"task_instances": [], "total_entries": 0})) == []


def test_the_property_tier_reads_schemathesis_answers_the_same_way(validator):
    """schemathesis hands the property tier its own answer object (list-valued, lower-case headers); converted,
    the validator finds the same errors as on the `requests` answer (unconverted it judged nothing)."""
    plain = _answer(ANSWER["body"])
    wrapped = SchemathesisResponse(
        status_code=200,
        headers={"Content-Type": ["application/json"]},
        content=plain.content,
        request=plain.request,
        elapsed=0.01,
        verify=True,
    )
    assert validator.schema_errors(wrapped) == []  # what the tier saw before: nothing, so nothing could be named
    assert validator.schema_errors(as_requests_response(wrapped)) == validator.schema_errors(plain) != []
