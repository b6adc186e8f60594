"""The role model data (conformance/expectations/access.yaml) is complete, cited and coherent (the fast layer).

Every operation of a release's reference spec has a recorded requirement with the file and
decorator/dependency it was read from; every built-in role is recorded; the built-in roles form
the ladder Airflow's access-control documentation describes (each role may do what the one below
it may). `tests/expectations/test_access_extract.py` re-reads the releases' source and compares.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.expectations import access
from conformance.expectations.access import ANONYMOUS

SPECS = Path(__file__).resolve().parents[2] / "specs"
RELEASES = [e["release"] for e in access.releases()]
LADDER = {"fab": ("Public", "Viewer", "User", "Op", "Admin"), "simple": ("viewer", "user", "op", "admin")}


def _spec_operations(release: str) -> set[str]:
    spec = json.loads((SPECS / f"{release}.json").read_text(encoding="utf-8"))
    return {
        op["operationId"]
        for item in spec["paths"].values()
        for m, op in item.items()
        if m in ("get", "put", "post", "patch", "delete") and isinstance(op, dict) and "operationId" in op
    }


def test_the_releases_read_are_the_ones_the_suite_runs_locally_in_ci_and_the_oldest():
    assert {"2.0.2", "2.10.5", "3.3.2"} <= set(RELEASES)


@pytest.mark.parametrize("release", RELEASES)
def test_every_operation_of_the_reference_spec_has_a_cited_requirement(release):
    model = access.load(release)
    assert model is not None and model.release == release
    raw = next(e for e in access.releases() if e["release"] == release)
    assert [op for op, o in raw["operations"].items() if "error" in o] == []
    assert set(model.operations) == _spec_operations(release)
    for req in model.operations.values():
        assert req.source.startswith("airflow/") and ".py " in req.source, req
        assert req.public or req.needs or "get_user" in req.source, req
        assert req.group, req


@pytest.mark.parametrize("release", RELEASES)
def test_built_in_roles_form_a_ladder(release):
    model = access.load(release)
    ladder = LADDER[model.model]
    assert set(model.role_names) == set(ladder)
    allowed = {role: {op for op in model.operations if model.expect(role, op).allowed} for role in ladder}
    for lower, upper in zip(ladder, ladder[1:]):
        assert allowed[lower] <= allowed[upper], (lower, upper, sorted(allowed[lower] - allowed[upper]))
        # every step up adds operations, except to the admin where the API has nothing admin-only (2.0; 3.x)
        assert allowed[lower] < allowed[upper] or upper.lower() == "admin", (lower, upper)
    assert allowed[ladder[-1]] == set(model.operations)


@pytest.mark.parametrize("release", RELEASES)
def test_anonymous_may_make_only_public_operations(release):
    model = access.load(release)
    public = {op for op, req in model.operations.items() if req.public}
    assert {op for op in model.operations if model.expect(ANONYMOUS, op).allowed} == public
    assert {"get_health", "get_version"} <= public


# What Airflow's access-control documentation says of the built-in roles, checked against the data read
# from the source: Viewer reads DAGs but never variables or connections; User also edits DAG runs; Op also
# manages variables, pools and connections; the admin alone manages users (2.x) .
DOCUMENTED = [
    ("get_dags", "viewer", True),
    ("get_variables", "viewer", False),
    ("get_connections", "viewer", False),
    ("post_variables", "user", False),
    ("delete_dag_run", "user", True),
    ("delete_dag_run", "viewer", False),
    ("post_variables", "op", True),
    ("post_pool", "op", True),
    ("delete_connection", "op", True),
]


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("op_id, role, allowed", DOCUMENTED)
def test_documented_role_facts_hold(release, op_id, role, allowed):
    model = access.load(release)
    op = {"post_variables": "post_variable"}.get(op_id, op_id) if model.model == "simple" else op_id
    assert model.expect(model.role(role), op).allowed is allowed


def test_only_the_admin_manages_users_on_2x():
    model = access.load("2.10.5")
    for role in ("Op", "User", "Viewer", "Public"):
        assert not model.expect(role, "get_users").allowed
        assert not model.expect(role, "delete_user").allowed
    assert model.expect("Admin", "get_users").allowed


@pytest.mark.parametrize("release", RELEASES)
def test_settings_name_operations_the_release_has(release):
    model = access.load(release)
    for setting in model.settings:
        assert set(setting["operations"]) & set(model.operations), setting
        assert setting["detail"] and setting["source"].startswith("airflow/")


def test_a_version_nobody_read_has_no_role_model():
    assert access.load("2.5.2") is None  # 2.5.3 was read; its facts apply to 2.5.3 only


def test_role_names_are_matched_case_insensitively():
    assert access.load("2.10.5").role("viewer") == "Viewer"
    assert access.load("3.3.2").role("Viewer") == "viewer"
    assert access.load("3.3.2").role("Public") is None
