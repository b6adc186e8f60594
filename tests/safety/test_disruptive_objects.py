"""What a disruptive run creates is recorded and deleted (no Airflow needed).

Users and roles (2.x) are learned from the answers like variables and pools, and deleted at the end;
`POST /connections/defaults` (3.x) names nothing, so the authorization tier records exactly the
connection ids that appeared around its requests, and only in the disruptive profile.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from conformance.http.router import Router
from conformance.safety import cleanup, unnamed
from conformance.safety.ledger import Entry, Ledger
from conformance.safety.tracking import record
from conformance.specs.catalog import load_spec
from conformance.tiers.authorization import probes

P = "acf_0000beef_"


def _match(router: Router, method: str, rel: str):
    return router.match(method, "http://airflow.test" + router.api_prefix + rel)


def test_users_and_roles_a_run_creates_are_in_its_ledger_and_cleanup_knows_their_paths(tmp_path):
    router = Router(load_spec("2.10.5"))
    ledger = Ledger("acf_0000beef", tmp_path / "l.jsonl")
    user = {"username": f"{P}authz_user_1", "roles": [{"name": "Public"}]}
    record(ledger, router, _match(router, "POST", "/users"), "POST", json.dumps(user), 200, json.dumps(user).encode())
    record(
        ledger,
        router,
        _match(router, "POST", "/roles"),
        "POST",
        json.dumps({"name": f"{P}r", "actions": []}),
        200,
        b"{}",
    )
    assert {e.ident() for e in ledger.live()} == {("user", "", f"{P}authz_user_1"), ("role", "", f"{P}r")}
    assert cleanup._path(Entry("user", f"{P}authz_user_1")) == f"/users/{P}authz_user_1"
    assert cleanup._path(Entry("role", f"{P}r")) == f"/roles/{P}r"
    record(ledger, router, _match(router, "DELETE", f"/users/{P}authz_user_1"), "DELETE", None, 204, b"")
    assert [e.kind for e in ledger.live()] == ["role"]
    # a sweep lists users and roles only where the spec has them (2.x), never on 3.x
    assert "user" in cleanup._collections(SimpleNamespace(guard=SimpleNamespace(router=router)))
    assert "user" not in cleanup._collections(SimpleNamespace(guard=SimpleNamespace(router=Router(load_spec("3.3.2")))))


class _Connections:
    """A connection collection that grows by Airflow's defaults when `grow` is called."""

    def __init__(self) -> None:
        self.ids = ["team_conn", f"{P}own"]
        self.calls = 0

    def call(self, method: str, path: str, params: dict | None = None, **kwargs: Any):
        assert (method, path) == ("GET", "/connections")
        self.calls += 1
        offset, limit = int(params["offset"]), min(int(params["limit"]), 20)  # a server that clamps pages at 20
        page = [{"connection_id": c} for c in self.ids[offset : offset + limit]]
        return SimpleNamespace(status_code=200, json=lambda: {"connections": page, "total_entries": len(self.ids)})


def _ctx(profile: str, session, tmp_path) -> SimpleNamespace:
    ledger = Ledger("acf_0000beef", tmp_path / f"{profile}.jsonl")
    return SimpleNamespace(guard=SimpleNamespace(profile=profile), session=session, ledger=ledger)


def test_default_connections_created_by_the_request_are_recorded_and_the_others_left_alone(tmp_path):
    session = _Connections()
    ctx = _ctx("disruptive", session, tmp_path)
    defaults = [f"default_{i}" for i in range(45)]
    with unnamed.recorded(ctx, "create_default_connections"):
        session.ids += defaults
    assert sorted(e.key for e in ctx.ledger.live()) == sorted(defaults)  # not team_conn, not the run's own
    assert all(e.kind == "connection" for e in ctx.ledger.live())

    quiet = _Connections()
    sandbox = _ctx("sandbox", quiet, tmp_path)
    with unnamed.recorded(sandbox, "create_default_connections"):  # the guard refuses it there: nothing listed
        pass
    with unnamed.recorded(_ctx("disruptive", quiet, tmp_path), "post_connection"):  # a named create: the tracker's job
        pass
    assert quiet.calls == 0 and sandbox.ledger.live() == []


def test_the_authorization_bodies_create_only_prefixed_objects_and_test_a_connection_without_network():
    assert probes.ADMIN_CREATES["/roles"](P) == {"actions": []}  # the name comes from the spec's minimum: prefixed
    user = probes.ADMIN_CREATES["/users"](P)
    assert user["username"].startswith(f"{P}authz_user_") and user["email"].startswith(user["username"])
    assert user["roles"] == [{"name": "Public"}]
    assert probes.HARMLESS_TEST == {"conn_type": "fs"}


def test_the_probes_a_disruptive_pass_sends_name_only_the_runs_objects():
    for version, ops in (("2.10.5", ("post_user", "post_role", "test_connection")), ("3.3.2", ("test_connection",))):
        spec = load_spec(version)
        ctx = SimpleNamespace(router=Router(spec), spec=spec, prefix=P)
        values = {"dag_id": "conformance_probe", "dag_run_id": f"{P}run", "asset_id": "1"}
        built = {op: probes.build(ctx, op, values) for op in ops}
        for op, probe in built.items():
            name = probe.body.get({"post_role": "name", "post_user": "username"}.get(op, "connection_id"))
            assert name.startswith(P), (version, op, probe.body)
        assert built["test_connection"].body["conn_type"] == "fs" and "host" not in built["test_connection"].body
        if "post_user" in built:  # a refused create is read back: the named user must not exist afterwards
            assert built["post_user"].read_back.absent and built["post_user"].read_back.path.endswith(
                built["post_user"].body["username"]
            )
            assert built["post_role"].body["actions"] == []
