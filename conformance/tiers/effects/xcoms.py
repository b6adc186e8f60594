"""XCom entries on the tier's own probe run: 3.x create, update and delete (by map index).

The entry is written on the probe run's echo task instance under a key named
with the run prefix, so it goes with the run at cleanup at the latest. Each
write is read back: the value created, the value updated, a delete naming a map
index the entry does not have answers 404 and leaves it, the real delete leaves
a 404.
"""

from __future__ import annotations

import json

from conformance.model.effects import Effect
from conformance.tiers.effects.lists import FAILED, NOT_DECIDED, PASSED, Outcome
from conformance.tiers.effects.objects import ABSENT_MAP_INDEX

CREATED = {"acf": ["xcom", 1]}
UPDATED = {"acf": ["xcom", 2]}


def _value(doc: object) -> object:
    """An entry's value as JSON (3.x may answer the stored JSON text)."""
    value = doc.get("value") if isinstance(doc, dict) else None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class XComJudge:
    def __init__(self, api, verdict, ti_path: str, prefix: str) -> None:
        self.api, self.verdict = api, verdict
        self.entries = f"{ti_path}/xcomEntries"
        self.key = f"{prefix}eff_xcom"

    def _read(self, key: str, **params) -> tuple[int, object]:
        resp = self.api.call("GET", f"{self.entries}/{key}", params=params)
        return resp.status_code, resp.json() if resp.status_code == 200 else None

    def _holds(self, step: str, want: object) -> bool:
        status, doc = self._read(self.key, map_index=-1)
        return self.verdict.that(
            status == 200 and _value(doc) == want,
            f"{step}: the entry {self.key} reads back {status} {_value(doc)!r}, not {want!r}",
            step=step,
        )

    def create(self, effects: list[Effect]) -> list[Outcome]:
        body = {"key": self.key, "value": CREATED, "map_index": -1}
        resp = self.api.call("POST", self.entries, json=body)
        if not self.verdict.status(resp, [200, 201], f"POST {self.entries} {body}", step="create"):
            return [Outcome(e, FAILED, f"answered {resp.status_code}") for e in effects]
        ok = self._holds("create", CREATED)
        return [Outcome(e, PASSED if ok else FAILED, f"value {CREATED!r} read back at map index -1") for e in effects]

    def ensure(self) -> bool:
        """The tier's entry exists (created again if a delete judged before took it)."""
        if self._read(self.key, map_index=-1)[0] == 200:
            return True
        resp = self.api.call("POST", self.entries, json={"key": self.key, "value": CREATED, "map_index": -1})
        return resp.status_code in (200, 201)

    def update(self, effects: list[Effect]) -> list[Outcome]:
        if not self.ensure():
            return [Outcome(e, NOT_DECIDED, "the tier's XCom entry could not be created") for e in effects]
        body = {"value": UPDATED, "map_index": -1}
        resp = self.api.call("PATCH", f"{self.entries}/{self.key}", json=body)
        if not self.verdict.status(resp, 200, f"PATCH {self.entries}/{{key}} {body}", step="update"):
            return [Outcome(e, FAILED, f"answered {resp.status_code}") for e in effects]
        ok = self._holds("update", UPDATED)
        return [Outcome(e, PASSED if ok else FAILED, f"value {UPDATED!r} read back") for e in effects]

    def delete(self, effect: Effect) -> Outcome:
        """`map_index` of a delete: a map index the entry lacks answers 404 and keeps it; then the real delete."""
        if not self.ensure():
            return Outcome(effect, NOT_DECIDED, "the tier's XCom entry could not be created")
        path = f"{self.entries}/{self.key}"
        wrong = self.api.call("DELETE", path, params={"map_index": ABSENT_MAP_INDEX})
        ok = self.verdict.that(
            wrong.status_code == 404,
            f"DELETE {path}?map_index={ABSENT_MAP_INDEX} (a map index the "
            f"entry does not have) answered {wrong.status_code}, not 404",
            step="map_index",
            resp=wrong,
        )
        ok = (
            self.verdict.that(
                self._read(self.key, map_index=-1)[0] == 200,
                f"DELETE {path}?map_index={ABSENT_MAP_INDEX} deleted the entry at map index -1",
                step="map_index",
            )
            and ok
        )
        gone = self.api.call("DELETE", path, params={"map_index": -1})
        if self.verdict.status(gone, [200, 204], f"DELETE {path}?map_index=-1", step="delete"):
            ok = (
                self.verdict.that(
                    self._read(self.key, map_index=-1)[0] == 404,
                    f"GET {path} after its DELETE is not 404",
                    step="delete",
                )
                and ok
            )
        return Outcome(effect, PASSED if ok else FAILED, f"map_index={ABSENT_MAP_INDEX} answered {wrong.status_code}")
