"""The kinds of objects a run owns: how each is named, created, listed and deleted, and its ledger kind.

The one table every layer reads: the guard binds a write to the run's own objects by the
naming path parameter and body field, the ledger and the tracker record creations by the
kind, cleanup lists and deletes by the collection, the tiers create, shape and read them
back. Adding an owned kind is one row here (ARCHITECTURE.md: "Where a new resource kind goes").
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass


def _nothing(name: str) -> dict:
    return {}


@dataclass(frozen=True)
class OwnedKind:
    """One kind of object the run may create (named with its prefix) and must delete again."""

    kind: str  # the ledger kind (`variable`), and what reports call it
    collection: str  # the collection, relative to the API base (`/variables`): create (POST), list (GET), bulk (PATCH)
    list_field: str  # the list answer's field holding the items (`variables`)
    field: str  # the body field naming one object (create, update, bulk entity) and the listed items' id
    param: str  # the path parameter naming one object (`variable_key`)
    short: str  # the tail of the names the suite gives its own (`{prefix}prop_var`, `{prefix}replay_obj_var`)
    # the rest of a minimal create body, from the object's name (the handler's required fields)
    required: Callable[[str], dict] = _nothing
    disruptive_only: bool = False  # users and roles (2.x API only): only a disruptive run creates them
    # other collection-level POSTs whose body names an object of this kind by `field` (connection tests)
    named_posts: tuple[str, ...] = ()

    @property
    def item(self) -> str:
        """One object's path template (`/variables/{variable_key}`): read, update, delete."""
        return f"{self.collection}/{{{self.param}}}"

    def body(self, name: str, **extra: object) -> dict:
        """A create body for an object called `name`: its naming field, what a create needs, and `extra`."""
        return {self.field: name, **self.required(name), **extra}


def _user(name: str) -> dict:
    # Public is the role without permissions (2.10.5 answers 500 to a user without roles); the password is thrown away
    return {
        "email": f"{name}@example.com",
        "first_name": "conformance",
        "last_name": "probe",
        "roles": [{"name": "Public"}],
        "password": secrets.token_urlsafe(16),
    }


VARIABLE = OwnedKind(
    "variable", "/variables", "variables", "key", "variable_key", "var", lambda name: {"value": "acf-value"}
)
POOL = OwnedKind("pool", "/pools", "pools", "name", "pool_name", "pool", lambda name: {"slots": 1})
CONNECTION = OwnedKind(
    "connection",
    "/connections",
    "connections",
    "connection_id",
    "connection_id",
    "conn",
    lambda name: {"conn_type": "http"},
    named_posts=("/connections/test", "/connections/enqueue-test"),
)
USER = OwnedKind("user", "/users", "users", "username", "username", "user", _user, disruptive_only=True)
ROLE = OwnedKind(
    "role", "/roles", "roles", "name", "role_name", "role", lambda name: {"actions": []}, disruptive_only=True
)

OWNED_KINDS: tuple[OwnedKind, ...] = (VARIABLE, POOL, CONNECTION, USER, ROLE)
SANDBOX_KINDS = tuple(k for k in OWNED_KINDS if not k.disruptive_only)  # what a sandbox run creates
ADMIN_KINDS = tuple(k for k in OWNED_KINDS if k.disruptive_only)
BY_KIND = {k.kind: k for k in OWNED_KINDS}
BY_PARAM = {k.param: k for k in OWNED_KINDS}
BY_COLLECTION = {k.collection: k for k in OWNED_KINDS}
