"""The suite's own objects for the effects tier, and the effects of writes on them, read back.

Three objects per kind, created in the order b, c, a: their creation order (the
order a list without `order_by` comes in) differs from their names' order, so
an ignored `order_by` shows, and their other fields differ, so a filter that
keeps everything shows. A write's effect is read back: each body field of a
create or a patch is what a GET returns afterwards (write-only ones excepted),
and a masked patch changes the masked field and no other.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.model.effects import Effect, EffectClass, Observation
from conformance.tiers.effects.lists import FAILED, NOT_DECIDED, PASSED, Outcome

SUFFIXES = ("b", "c", "a")


@dataclass(frozen=True)
class Kind:
    """How one kind of owned object is written and read (by the field names of the reference specs)."""

    collection: str
    id_field: str
    create: str  # operationId of the create
    patch: str  # operationId of the patch
    body: Callable[[str, int], dict]  # a create body for object n
    changed: Callable[[str], dict]  # a patch body that changes every field but the name
    masked: tuple[str, str]  # (field the mask names, another field the patch body also changes)


def _variable(name: str, n: int) -> dict:
    return {"key": name, "value": f"acf-value-{n}", "description": f"acf description {n}"}


def _pool(name: str, n: int) -> dict:
    return {"name": name, "slots": n + 2, "description": f"acf description {n}", "include_deferred": n % 2 == 0}


def _connection(name: str, n: int) -> dict:
    return {
        "connection_id": name,
        "conn_type": "http",
        "description": f"acf description {n}",
        "host": f"h{n}.example.invalid",
        "login": f"acf-login-{n}",
        "port": 8000 + n,
        "schema": f"s{n}",
        "extra": json.dumps({"acf": n}),
        "password": f"acf-secret-{n}",
    }


KINDS = (
    Kind(
        "variables",
        "key",
        "post_variables",
        "patch_variable",
        _variable,
        lambda name: {"key": name, "value": "acf-value-changed", "description": "acf description changed"},
        ("value", "description"),
    ),
    Kind(
        "pools",
        "name",
        "post_pool",
        "patch_pool",
        _pool,
        lambda name: {
            "name": name,
            "pool": name,
            "slots": 9,
            "description": "acf description changed",
            "include_deferred": True,
        },
        ("slots", "description"),
    ),
    Kind(
        "connections",
        "connection_id",
        "post_connection",
        "patch_connection",
        _connection,
        lambda name: {
            "connection_id": name,
            "conn_type": "ftp",
            "description": "acf description changed",
            "host": "changed.example.invalid",
            "login": "acf-login-changed",
            "port": 9999,
            "schema": "changed",
            "extra": '{"acf": "changed"}',
            "password": "acf-secret-changed",
        },
        ("host", "login"),
    ),
)
BY_OPERATION = {op: kind for kind in KINDS for op in (kind.create, kind.patch)}
CREATE_ALIASES = {"post_variable": "post_variables"}  # 3.x names the variable create in the singular
BY_OPERATION.update({alias: BY_OPERATION[op] for alias, op in CREATE_ALIASES.items()})
# a body field read back under another name (3.x patch bodies name a pool `pool`)
READ_AS = {"pool": "name"}


def same(sent: Any, got: Any) -> bool:
    """A field read back equals what was written (JSON text compared as JSON, numbers as numbers)."""
    if isinstance(sent, str) and isinstance(got, str) and sent.startswith("{"):
        try:
            return json.loads(sent) == json.loads(got)
        except ValueError:
            return sent == got
    return sent == got


class Writer:
    """Creates the tier's objects and judges the write effects of their creates and patches."""

    def __init__(self, api, prefix: str) -> None:
        self.api, self.prefix = api, prefix
        self.created: dict[str, list[str]] = {}
        self.outcomes: dict[str, list[Outcome]] = {}  # operationId -> outcomes of its body fields and mask
        self.refused: dict[str, Any] = {}  # create operationId -> the answer of a create that did not succeed

    def name(self, kind: Kind, suffix: str) -> str:
        return f"{self.prefix}eff_{kind.collection[:4]}_{suffix}"

    def create_all(self, table: dict[str, list[Effect]]) -> None:
        """Create every object (b, c, a), reading each back against the create's body fields."""
        for kind in KINDS:
            for n, suffix in enumerate(SUFFIXES):
                name = self.name(kind, suffix)
                body = kind.body(name, n)
                resp = self.api.call("POST", f"/{kind.collection}", json=body)
                if resp.status_code not in (200, 201):
                    self.refused.setdefault(kind.create, resp)
                    continue
                self.created.setdefault(kind.collection, []).append(name)
                if n == 0:  # one object's fields are enough to see each field's effect
                    op_id = next(
                        (a for a, op in CREATE_ALIASES.items() if op == kind.create and a in table), kind.create
                    )
                    self._read_back(kind, name, body, table.get(op_id, []), kind.create)

    def _read_back(self, kind: Kind, name: str, sent: dict, effects: list[Effect], op_id: str) -> None:
        got = self.api.call("GET", f"/{kind.collection}/{name}")
        body = got.json() if got.status_code == 200 else None
        outs = self.outcomes.setdefault(op_id, [])
        for effect in effects:
            if effect.location != "body" or effect.observation is not Observation.CHECKED:
                continue
            field = effect.parameter
            if field not in sent:
                outs.append(Outcome(effect, NOT_DECIDED, "not in the suite's body for this kind"))
            elif not isinstance(body, dict):
                outs.append(Outcome(effect, NOT_DECIDED, f"the read-back answered {got.status_code}"))
            else:
                read = body.get(READ_AS.get(field, field))
                status = PASSED if same(sent[field], read) else FAILED
                outs.append(Outcome(effect, status, f"wrote {sent[field]!r}, read {read!r}", recorded=False))

    def judge_patch(self, verdict, kind: Kind, effects: list[Effect], required: tuple[str, ...] = ()) -> list[Outcome]:
        """A masked patch (only the masked field changes), then a full patch (every field reads back)."""
        names = self.created.get(kind.collection) or []
        if len(names) < 2:
            return [Outcome(e, NOT_DECIDED, "the suite could not create its objects") for e in effects]
        outcomes = []
        mask_effects = [
            e for e in effects if e.effect_class is EffectClass.MASK and e.observation is Observation.CHECKED
        ]
        for effect in mask_effects:
            outcomes.append(self._masked(verdict, kind, names[1], effect, required))
        body = {k: v for k, v in kind.changed(names[0]).items() if k in {e.parameter for e in effects}}
        resp = self.api.call("PATCH", f"/{kind.collection}/{names[0]}", json=body)
        if verdict.status(resp, 200, f"PATCH /{kind.collection}/{{id}} with every field", step="patch"):
            self._read_back(kind, names[0], body, effects, kind.patch)
            outcomes.extend(self.outcomes.pop(kind.patch, []))
        else:
            outcomes.extend(
                Outcome(e, FAILED, f"PATCH answered {resp.status_code}")
                for e in effects
                if e.location == "body" and e.observation is Observation.CHECKED
            )
        return outcomes

    def _masked(self, verdict, kind: Kind, name: str, effect: Effect, required: tuple[str, ...]) -> Outcome:
        """The body changes the masked field and another; the body's other required fields keep their values."""
        field, other = kind.masked
        before = self.api.call("GET", f"/{kind.collection}/{name}")
        if before.status_code != 200:
            return Outcome(effect, NOT_DECIDED, f"reading the object answered {before.status_code}")
        changed = kind.changed(name)
        body = {k: v for k, v in changed.items() if k in (kind.id_field, field, other)}
        current = before.json()
        body.update({r: current[READ_AS.get(r, r)] for r in required if r not in body and READ_AS.get(r, r) in current})
        resp = self.api.call("PATCH", f"/{kind.collection}/{name}", params={"update_mask": field}, json=body)
        if not verdict.status(resp, 200, f"PATCH /{kind.collection}/{{id}}?update_mask={field}", step="mask"):
            return Outcome(effect, FAILED, f"answered {resp.status_code}")
        after = self.api.call("GET", f"/{kind.collection}/{name}").json()
        ok_masked = verdict.that(
            same(changed[field], after.get(field)),
            f"update_mask={field}: {field} reads {after.get(field)!r}, not {changed[field]!r}",
            step="mask",
        )
        ok_other = verdict.that(
            after.get(other) == before.json().get(other),
            f"update_mask={field} also changed {other} to {after.get(other)!r}",
            step="mask",
        )
        return Outcome(effect, PASSED if ok_masked and ok_other else FAILED, f"mask {field}, body also {other}")

    def delete_all(self) -> list[str]:
        """Delete what the tier created; what could not be deleted (the run's cleanup sweeps it from the ledger)."""
        left = []
        for collection, names in self.created.items():
            for name in names:
                if self.api.call("DELETE", f"/{collection}/{name}").status_code not in (200, 204, 404):
                    left.append(f"{collection}/{name}")
        self.created.clear()
        return left
