"""Fast layer: one row in `conformance/model/resources.py` is all a new owned resource kind needs.

ARCHITECTURE.md ("Where a new resource kind goes") names the path; this test follows it once with a
made-up kind, `team` (`/teams`, named by `name`, path parameter `team_name`): the row is added to the
model before anything else is imported, in a fresh interpreter, and every table that describes owned
objects (guard, ledger, tracker, cleanup, the tiers' shared tables, the replay) takes it up with no other
edit. The guard then binds a team's writes to the run's own teams, the ledger records one from the
answer to its create, and cleanup knows how to list and delete it.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from conformance.model import resources
from tests.harness import caller_env, python_child

pytestmark = pytest.mark.fast
ROOT = Path(__file__).resolve().parents[2]

FOLLOW_THE_PATH = textwrap.dedent("""
    import conformance.model.resources as r

    # step 1 of ARCHITECTURE.md: the row (the indexes are the model's, as the module builds them)
    TEAM = r.OwnedKind("team", "/teams", "teams", "name", "team_name", "team", lambda name: {"members": []})
    r.OWNED_KINDS = (*r.OWNED_KINDS, TEAM)
    r.SANDBOX_KINDS = tuple(k for k in r.OWNED_KINDS if not k.disruptive_only)
    r.ADMIN_KINDS = tuple(k for k in r.OWNED_KINDS if k.disruptive_only)
    r.BY_KIND, r.BY_PARAM = {k.kind: k for k in r.OWNED_KINDS}, {k.param: k for k in r.OWNED_KINDS}
    r.BY_COLLECTION = {k.collection: k for k in r.OWNED_KINDS}

    from conformance.http.router import Router
    from conformance.replay.deviations import OWNED_PARAMS
    from conformance.safety import cleanup, guard, ledger, tracking
    from conformance.tiers.authorization.probes import HARMLESS_NAMES
    from conformance.tiers.shared.operations import BULK_FIELDS, NAMED_CREATES, NAMED_UPDATES

    # every table that describes owned objects has the team, from the row alone
    assert guard.PREFIXED_PARAMS[:-1][-1] == "team_name" and guard.BODY_KEYED_CREATES["/teams"] == "name"
    assert guard.BULK_KEYS["/teams"] == "name" and ledger.PARAM_KINDS["team_name"] == "team"
    assert tracking.KINDS["/teams"] == ("team", "name") and cleanup.COLLECTIONS["team"] == ("/teams", "teams", "name")
    assert NAMED_CREATES["/teams"] == "name" and NAMED_UPDATES["/teams/{team_name}"] == ("name", "team_name")
    assert BULK_FIELDS["/teams"] == "name" and "team_name" in HARMLESS_NAMES
    assert OWNED_PARAMS["team_name"] == "{prefix}replay_obj_team"
    assert TEAM.body("acf_x_t") == {"name": "acf_x_t", "members": []}

    # the guard binds a team's writes to the run's own teams
    spec = {"openapi": "3.0.3", "servers": [{"url": "/api/v1"}], "paths": {
        "/teams": {"get": {"operationId": "get_teams"}, "post": {"operationId": "post_team"}},
        "/teams/{team_name}": {"get": {"operationId": "get_team"}, "patch": {"operationId": "patch_team"},
                               "delete": {"operationId": "delete_team"}}}}
    router = Router(spec)
    book = ledger.Ledger("acf_x_", path=__import__("pathlib").Path(__import__("tempfile").mkdtemp()) / "l.jsonl")
    g = guard.Guard("sandbox", run_prefix="acf_x_", ledger=book, router=router)
    base = "http://target/api/v1"
    assert g.decide("POST", base + "/teams", '{"name": "acf_x_t"}').allowed
    assert not g.decide("POST", base + "/teams", '{"name": "theirs"}').allowed
    assert g.decide("DELETE", base + "/teams/acf_x_t").allowed and not g.decide("DELETE", base + "/teams/theirs").allowed

    # the ledger records a created team from the answer, and forgets it when it is deleted
    post = router.match("POST", base + "/teams")
    tracking.record(book, router, post, "POST", b'{"name": "acf_x_t"}', 200, b'{"name": "acf_x_t"}')
    assert book.contains("team", "acf_x_t")
    assert not g.decide("PATCH", base + "/teams/acf_x_t", '{"name": "theirs"}').allowed  # no rename out of the run
    assert cleanup._path(ledger.Entry("team", "acf_x_t")) == "/teams/acf_x_t"
    tracking.record(book, router, router.match("DELETE", base + "/teams/acf_x_t"), "DELETE", None, 204, b"")
    assert not book.contains("team", "acf_x_t")
    print("followed")
""")


def test_a_new_owned_kind_is_one_row_in_the_model():
    env = caller_env({"PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])})
    done = python_child(FOLLOW_THE_PATH, timeout=120, env=env, cwd=ROOT)
    assert done.returncode == 0 and done.stdout.strip() == "followed", done.stderr[-3000:]


def test_the_owned_kinds_are_described_once():
    """Every owned kind's name, collection, list field, naming field and parameter are distinct, and the
    objects a sandbox run creates are the variables, pools and connections; users and roles only a disruptive one."""
    kinds = resources.OWNED_KINDS
    for attribute in ("kind", "collection", "param", "short"):
        assert len({getattr(k, attribute) for k in kinds}) == len(kinds), attribute
    assert [k.kind for k in resources.SANDBOX_KINDS] == ["variable", "pool", "connection"]
    assert [k.kind for k in resources.ADMIN_KINDS] == ["user", "role"]
    assert resources.VARIABLE.item == "/variables/{variable_key}"
