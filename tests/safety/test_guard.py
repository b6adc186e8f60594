"""The guard's decisions, request by request, on the real reference specs of 2.10.5 and 3.3.2.

The end-to-end proof (a seeded real Airflow left untouched) is in tests/system/test_safety.py;
this table pins down each rule so a change to one is visible.
"""

from __future__ import annotations

import json

import pytest

from conformance.http.router import Router
from conformance.probes.dags import ASSETS_DAG_ID, DISPOSABLE_DAG_ID
from conformance.run.context import PROBE_DAG_IDS
from conformance.safety.guard import Guard
from conformance.safety.ledger import Entry, Ledger
from conformance.specs.catalog import load_spec

P = "acf_0000beef_"


def _guard(version: str, profile: str, tmp_path) -> tuple[Guard, str]:
    router = Router(load_spec(version))
    ledger = Ledger("acf_0000beef", tmp_path / "ledger.jsonl")
    guard = Guard(
        profile,
        run_prefix=P,
        ledger=ledger,
        probe_dag_ids=("conformance_probe", "conformance_probe_disposable"),
        disposable_dag_ids=("conformance_probe_disposable",),
        router=router,
    )
    return guard, "http://airflow.test" + router.api_prefix


ALWAYS = [("GET", "/dags", None), ("GET", "/variables/prod", None), ("GET", "/connections/prod", None)]
NEVER_IN_SANDBOX = [
    ("DELETE", "/variables/prod", None),
    ("PATCH", "/variables/prod", {"key": "prod", "value": "x"}),
    ("POST", "/variables", {"key": "prod", "value": "x"}),
    ("DELETE", "/pools/default_pool", None),
    ("PATCH", "/pools/default_pool", {"name": "default_pool", "slots": 1}),
    ("DELETE", "/connections/prod", None),
    ("DELETE", "/dags/example_bash_operator", None),
    ("DELETE", "/dags/conformance_probe", None),
    ("PATCH", "/dags/example_bash_operator", {"is_paused": False}),
    ("POST", "/dags/example_bash_operator/dagRuns", {"logical_date": None, "execution_date": "2024-01-01T00:00:00Z"}),
    ("DELETE", "/dags/conformance_probe/dagRuns/scheduled__2024", None),
    ("PATCH", "/dags", {"is_paused": True}),
    ("PATCH", f"/variables/{P}mine", {"key": "prod", "value": "renamed away"}),
]
SANDBOX_OK = [
    ("POST", "/variables", {"key": f"{P}v", "value": "x"}),
    ("POST", "/pools", {"name": f"{P}p", "slots": 1}),
    ("PATCH", "/dags/conformance_probe", {"is_paused": True}),
    ("POST", "/dags/conformance_probe/dagRuns", {}),
    ("DELETE", f"/dags/conformance_probe/dagRuns/{P}run", None),
    ("DELETE", "/dags/conformance_probe_disposable", None),
    ("DELETE", f"/variables/{P}never_created", None),  # negative probe: cannot exist
]


@pytest.mark.parametrize("version", ["2.10.5", "3.3.2"])
def test_sandbox_table(version, tmp_path):
    guard, base = _guard(version, "sandbox", tmp_path)
    guard.ledger.created(Entry("variable", f"{P}mine"))
    for method, rel, body in ALWAYS + SANDBOX_OK:
        d = guard.decide(method, base + rel, json.dumps(body) if body is not None else None)
        assert d.allowed, (method, rel, d.reason)
    for method, rel, body in NEVER_IN_SANDBOX:
        d = guard.decide(method, base + rel, json.dumps(body) if body is not None else None)
        assert not d.allowed, (method, rel, d.reason)
        assert d.reason


@pytest.mark.parametrize("version", ["2.10.5", "3.3.2"])
def test_readonly_refuses_every_write(version, tmp_path):
    guard, base = _guard(version, "readonly", tmp_path)
    for route in guard.router.routes:
        url = base + guard.router.relative(route.template).replace("{", "").replace("}", "")
        d = guard.decide(route.method, url, json.dumps({"key": f"{P}x"}))
        if route.operation_id == "logout":
            assert not d.allowed, "logout revokes the suite's own token"
        elif route.method in ("GET", "HEAD", "OPTIONS") or route.operation_id in (
            "get_dag_runs_batch",
            "get_task_instances_batch",
            "get_list_dag_runs_batch",
        ):
            assert d.allowed, route
        else:
            assert not d.allowed, route


def test_users_and_roles_only_as_negative_probes(tmp_path):
    guard, base = _guard("2.10.5", "sandbox", tmp_path)
    assert not guard.decide("DELETE", base + "/users/admin").allowed
    assert not guard.decide("DELETE", base + "/roles/Admin").allowed
    assert not guard.decide("PATCH", base + "/users/admin", json.dumps({"username": "admin"})).allowed
    assert not guard.decide("POST", base + "/users", json.dumps({"username": f"{P}u", "roles": []})).allowed
    probe = guard.decide("DELETE", base + f"/users/{P}nobody")
    assert probe.allowed and "negative probe" in probe.reason


def test_a_user_or_role_the_run_created_may_only_be_deleted_and_only_from_its_ledger(tmp_path):
    """A disruptive run's users and roles (prefixed, in its ledger): cleanup deletes them in any profile, nothing else."""
    from conformance.safety.guard import FORBIDDEN_AREA_REASON, WHOLE_COLLECTION_REASON  # noqa: PLC0415

    guard, base = _guard("2.10.5", "sandbox", tmp_path)
    guard.ledger.created(Entry("user", f"{P}authz_user_1"))
    guard.ledger.created(Entry("role", f"{P}replay_name_1"))
    assert guard.decide("DELETE", base + f"/users/{P}authz_user_1").reason == "deletes the user this run created"
    assert guard.decide("DELETE", base + f"/roles/{P}replay_name_1").allowed
    patch = guard.decide("PATCH", base + f"/users/{P}authz_user_1", json.dumps({"username": f"{P}authz_user_1"}))
    assert not patch.allowed and patch.reason == FORBIDDEN_AREA_REASON
    assert not guard.decide("POST", base + "/roles", json.dumps({"name": f"{P}r", "actions": []})).allowed
    guard, base = _guard("2.10.5", "disruptive", tmp_path)
    assert guard.decide("POST", base + "/users", json.dumps({"username": f"{P}u"})).allowed
    guard, base = _guard("3.3.2", "sandbox", tmp_path)
    assert guard.decide("POST", base + "/connections/defaults").reason.endswith(WHOLE_COLLECTION_REASON)
    assert _guard("3.3.2", "disruptive", tmp_path)[0].decide("POST", base + "/connections/defaults").allowed


def test_ledger_grants_runs_without_prefix(tmp_path):
    guard, base = _guard("2.10.5", "sandbox", tmp_path)
    run = "manual__2024-01-01T00:00:00+00:00"
    assert not guard.decide("DELETE", base + f"/dags/conformance_probe/dagRuns/{run}").allowed
    guard.ledger.created(Entry("dag_run", run, "conformance_probe"))
    assert guard.decide("DELETE", base + f"/dags/conformance_probe/dagRuns/{run}").allowed


def test_an_invalid_body_never_reaches_objects_the_run_does_not_own(tmp_path):
    """Safety must not rest on the server validating: a body lacking a required field is still a write."""
    for version, rel in (("3.3.2", "/connections/prod"), ("2.10.5", "/users/admin"), ("2.10.5", "/pools/default_pool")):
        guard, base = _guard(version, "sandbox", tmp_path)
        assert not guard.decide("PATCH", base + rel, json.dumps({"host": "x"})).allowed, rel
    guard, base = _guard("3.3.2", "sandbox", tmp_path)
    assert guard.decide("PATCH", base + f"/connections/{P}never_created", json.dumps({"host": "x"})).allowed


def test_disruptive_allows_everything_and_bulk_needs_prefix(tmp_path):
    guard, base = _guard("3.3.2", "disruptive", tmp_path)
    assert guard.decide("DELETE", base + "/variables/prod").allowed
    guard, base = _guard("3.3.2", "sandbox", tmp_path)
    bulk = {"actions": [{"action": "delete", "entities": [f"{P}a", "prod"]}]}
    assert not guard.decide("PATCH", base + "/variables", json.dumps(bulk)).allowed
    bulk["actions"][0]["entities"] = [f"{P}a"]
    assert guard.decide("PATCH", base + "/variables", json.dumps(bulk)).allowed


def test_logout_only_with_credentials_the_run_can_lose(tmp_path):
    """3.x revokes the JWT a logout carries; the run's own token must never be sent there."""
    guard, base = _guard("3.3.2", "sandbox", tmp_path)
    own = guard.decide("GET", base + "/auth/logout")
    assert not own.allowed and "revoke" in own.reason
    assert guard.decide("GET", base + "/auth/logout", revocable=True).allowed


def test_vacant_server_ids_are_negative_probes_others_refused(tmp_path):
    guard, base = _guard("3.3.2", "sandbox", tmp_path)
    guard.learn_vacant("asset_id", 2147480000)
    guard.learn_vacant("backfill_id", 2147480000)
    for method, rel in (
        ("POST", "/assets/2147480000/materialize"),
        ("DELETE", "/assets/2147480000/queuedEvents"),
        ("PUT", "/backfills/2147480000/pause"),
        ("PUT", "/backfills/2147480000/cancel"),
    ):
        d = guard.decide(method, base + rel)
        assert d.allowed and d.reason.startswith("negative probe"), (rel, d.reason)
    for method, rel in (
        ("POST", "/assets/1/materialize"),
        ("DELETE", "/assets/7/queuedEvents"),
        ("PUT", "/backfills/1/pause"),
        ("PUT", "/backfills/2147480001/cancel"),
    ):
        assert not guard.decide(method, base + rel).allowed, rel


def test_writes_that_cannot_change_anything_whatever_the_server_does(tmp_path):
    """A bulk body without actions, an event for an asset proven vacant: negative probes; anything else is refused."""
    guard, base = _guard("3.3.2", "sandbox", tmp_path)
    assert guard.decide("PATCH", base + "/pools", json.dumps({})).allowed
    assert guard.decide("PATCH", base + "/pools", json.dumps({"actions": []})).allowed
    assert not guard.decide("PATCH", base + "/pools", json.dumps({"actions": "x"})).allowed
    assert not guard.decide("PATCH", base + "/pools", json.dumps([])).allowed
    assert not guard.decide("POST", base + "/assets/events", json.dumps({"asset_id": 2147480000})).allowed
    guard.learn_vacant("asset_id", 2147480000)
    assert guard.decide("POST", base + "/assets/events", json.dumps({"asset_id": 2147480000})).allowed
    assert not guard.decide("POST", base + "/assets/events", json.dumps({"asset_id": 1})).allowed


@pytest.mark.parametrize("version", ["3.0.6", "3.3.2"])
def test_no_sandbox_run_touches_the_queued_event_up_left(version, tmp_path):
    """The asset probe DAG is not one of the run's probe DAGs: its queue, its pause state, its runs and its
    asset are out of reach, so the one queued event `up` posted outlives every sandbox run."""
    router = Router(load_spec(version))
    guard = Guard(
        "sandbox",
        run_prefix=P,
        ledger=Ledger("acf_0000beef", tmp_path / "ledger.jsonl"),
        probe_dag_ids=PROBE_DAG_IDS,
        disposable_dag_ids=(DISPOSABLE_DAG_ID,),
        router=router,
    )
    base = "http://airflow.test" + router.api_prefix
    dag, asset = ASSETS_DAG_ID, 19
    for method, rel, body in (
        ("DELETE", f"/dags/{dag}/assets/queuedEvents", None),
        ("DELETE", f"/dags/{dag}/assets/{asset}/queuedEvents", None),
        ("DELETE", f"/assets/{asset}/queuedEvents", None),
        ("PATCH", f"/dags/{dag}", {"is_paused": False}),
        ("POST", f"/dags/{dag}/dagRuns", {"logical_date": None}),
        ("POST", "/assets/events", {"asset_id": asset}),
        ("DELETE", f"/dags/{dag}", None),
    ):
        d = guard.decide(method, base + rel, json.dumps(body) if body is not None else None)
        assert not d.allowed, (method, rel, d.reason)
    assert guard.decide("GET", base + f"/dags/{dag}/assets/queuedEvents").allowed
    # the probe DAG's own queue may be cleared: it is not the fixture's
    assert guard.decide("DELETE", base + f"/dags/{PROBE_DAG_IDS[0]}/assets/queuedEvents").allowed
