"""Variables, pools and connections: full CRUD on objects named with the run prefix."""

from __future__ import annotations

from collections.abc import Callable

from conformance.checks.metadata import scenario
from conformance.context import CheckContext
from conformance.http.paging import list_all
from conformance.model.resources import CONNECTION, POOL, VARIABLE, OwnedKind

# name of the collection -> (the owned kind, what its create carries beyond a minimal body, patch body, update_mask)
# Variables are patched without a mask here: the mask has its own scenario (a known 2.x defect).
RESOURCES: dict[str, tuple[OwnedKind, Callable[[str], dict], dict, str | None]] = {
    "variables": (VARIABLE, lambda n: {}, {"value": "acf-changed"}, None),
    "pools": (POOL, lambda n: {"slots": 2}, {"slots": 5}, "slots"),
    "connections": (
        CONNECTION,
        lambda n: {"host": "example.invalid", "login": "acf", "password": "acf-secret-" + n[-8:]},
        {"host": "changed.invalid"},
        "host",
    ),
}
OPS = {
    "variables": ["post_variables", "get_variable", "patch_variable", "get_variables", "delete_variable"],
    "pools": ["post_pool", "get_pool", "patch_pool", "get_pools", "delete_pool"],
    "connections": ["post_connection", "get_connection", "patch_connection", "get_connections", "delete_connection"],
}


def _named(item, id_field: str, name: str) -> bool:
    return isinstance(item, dict) and item.get(id_field) == name


def _crud(api, verdict, expect, prefix: str, collection: str) -> None:
    kind, extra, patch, mask = RESOURCES[collection]
    list_key, id_field, path = kind.list_field, kind.field, kind.collection
    make = lambda n: kind.body(n, **extra(n))  # noqa: E731
    name = f"{prefix}{collection}_crud"
    created = api.call("POST", path, json=make(name))
    verdict.status(created, expect["create_status"], f"POST {path}")
    verdict.schema(created, f"POST {path}")
    got = api.call("GET", f"{path}/{name}")
    verdict.status(got, 200, f"GET {path}/{{id}}")
    verdict.that(got.json().get(id_field) == name, f"GET returns {id_field}={got.json().get(id_field)!r}")
    verdict.schema(got, f"GET {path}/{{id}}")
    params = {"update_mask": mask} if mask else {}
    body = {id_field: name, **make(name), **patch, **expect.get("patch_body_extra", {})}
    patched = api.call("PATCH", f"{path}/{name}", params=params, json=body)
    verdict.status(patched, 200, f"PATCH {path}/{{id}}" + (f"?update_mask={mask}" if mask else ""))
    field, value = next(iter(patch.items()))
    verdict.that(api.call("GET", f"{path}/{name}").json().get(field) == value, f"PATCH did not change {field}")
    listed = api.call("GET", path, params={"limit": 100})
    verdict.status(listed, 200, f"GET {path}")
    listing = list_all(
        api, path, list_key, ident=id_field, stop=lambda page: any(_named(i, id_field, name) for i in page)
    )
    verdict.that(not listing.problem, f"listing GET {path}: {listing.problem}", resp=listing.response)
    verdict.that(any(_named(i, id_field, name) for i in listing.items), f"{name} is not listed by GET {path}")
    dup = api.call("POST", path, json=make(name))
    verdict.status(dup, expect["duplicate_status"], f"POST {path} with an existing {id_field}")
    deleted = api.call("DELETE", f"{path}/{name}")
    verdict.status(deleted, 204, f"DELETE {path}/{{id}}")
    verdict.that(deleted.content == b"", f"204 with a body: {deleted.text[:100]}")
    verdict.status(api.call("GET", f"{path}/{name}"), 404, f"GET the deleted {collection[:-1]}")


@scenario(
    "variables.crud",
    "Variables: create, read, patch, list, conflict, delete",
    "A variable MUST be creatable, readable, patchable, listed, answer a duplicate as the version documents (2.x overwrites, 3.x 409) and be deletable (204, then 404).",
    operations=OPS["variables"],
    tier="sandbox",
)
def test_variables(api, verdict, expect, ctx: CheckContext):
    _crud(api, verdict, expect, ctx.prefix, "variables")


@scenario(
    "pools.crud",
    "Pools: create, read, patch, list, conflict, delete",
    "A pool MUST be creatable, readable, patchable with update_mask, listed, refused when duplicated (409) and deletable (204, then 404).",
    operations=OPS["pools"],
    tier="sandbox",
)
def test_pools(api, verdict, expect, ctx: CheckContext):
    _crud(api, verdict, expect, ctx.prefix, "pools")


@scenario(
    "connections.crud",
    "Connections: create, read, patch, list, conflict, delete",
    "A connection MUST be creatable, readable, patchable with update_mask, listed, refused when duplicated (409) and deletable (204, then 404).",
    operations=OPS["connections"],
    tier="sandbox",
)
def test_connections(api, verdict, expect, ctx: CheckContext):
    _crud(api, verdict, expect, ctx.prefix, "connections")


@scenario(
    "variables.patch_update_mask",
    "A variable's value can be patched through update_mask",
    "PATCH /variables/{key}?update_mask=value MUST answer 200 and change only the value.",
    operations=["patch_variable"],
    tier="sandbox",
)
def test_variable_mask(api, verdict, ctx: CheckContext):
    name = f"{ctx.prefix}variable_mask"
    verdict.status(api.call("POST", "/variables", json={"key": name, "value": "before"}), [200, 201], "POST /variables")
    resp = api.call(
        "PATCH", f"/variables/{name}", params={"update_mask": "value"}, json={"key": name, "value": "after"}
    )
    if verdict.status(resp, 200, "PATCH /variables/{key}?update_mask=value", step="patch"):
        verdict.that(
            api.call("GET", f"/variables/{name}").json().get("value") == "after",
            "the value did not change",
            step="read_back",
        )
    api.call("DELETE", f"/variables/{name}")


@scenario(
    "pools.partial_patch",
    "A pool's slots can be patched alone",
    "PATCH /pools/{name}?update_mask=slots with only `slots` in the body MUST answer 200 (the patch body's fields are optional).",
    operations=["patch_pool"],
    tier="sandbox",
)
def test_pool_partial_patch(api, verdict, ctx: CheckContext):
    name = f"{ctx.prefix}pool_partial"
    verdict.status(api.call("POST", "/pools", json={"name": name, "slots": 1}), [200, 201], "POST /pools")
    resp = api.call("PATCH", f"/pools/{name}", params={"update_mask": "slots"}, json={"slots": 3})
    if verdict.status(resp, 200, "PATCH /pools/{name}?update_mask=slots with body {slots}", step="patch"):
        verdict.that(
            api.call("GET", f"/pools/{name}").json().get("slots") == 3, "slots did not change", step="read_back"
        )
    api.call("DELETE", f"/pools/{name}")


@scenario(
    "connections.password_write_only",
    "A connection's password is never returned",
    "GET of a connection and of the connection list MUST NOT return the password that was set.",
    operations=["post_connection", "get_connection", "get_connections"],
    tier="sandbox",
)
def test_password_hidden(api, verdict, ctx: CheckContext):
    name = f"{ctx.prefix}password_probe"
    secret = f"acf-secret-{ctx.options.run_id}"
    ctx.redactor.add(secret)
    created = api.call("POST", "/connections", json={"connection_id": name, "conn_type": "http", "password": secret})
    verdict.status(created, [200, 201], "POST /connections")
    for resp, what in (
        (created, "POST response"),
        (api.call("GET", f"/connections/{name}"), "GET /connections/{id}"),
        (api.call("GET", "/connections", params={"limit": 100}), "GET /connections"),
    ):
        verdict.that(secret not in resp.text, f"{what} returns the connection password")
    api.call("DELETE", f"/connections/{name}")
