"""3.x task state store on the tier's own probe run: a key set, patched, deleted and cleared, each read back.

The key is named with the run prefix on the probe run's echo task instance, so
it goes with the run. Each operation's `map_index` is judged with a map index
the task instance does not have (the echo task is not mapped): the request
answers 404 and the key at map index -1 is as it was.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from conformance.model.effects import Effect
from conformance.tiers.effects.lists import FAILED, NOT_DECIDED, PASSED, Outcome
from conformance.tiers.effects.objects import ABSENT_MAP_INDEX
from conformance.tiers.effects.reading import instant

FIRST = {"acf": ["store", 1]}
SECOND = {"acf": ["store", 2]}


class StoreJudge:
    def __init__(self, api, verdict, ti_path: str, prefix: str) -> None:
        self.api, self.verdict = api, verdict
        self.store = f"{ti_path}/state-store"
        self.key = f"{prefix}eff_store"
        self.path = f"{self.store}/{self.key}"

    def read(self) -> dict | None:
        resp = self.api.call("GET", self.path, params={"map_index": -1})
        return resp.json() if resp.status_code == 200 else None

    def ensure(self) -> bool:
        if self.read() is not None:
            return True
        return self.api.call("PUT", self.path, json={"value": FIRST}).status_code in (200, 201, 204)

    def _absent_map_index(self, effect: Effect, method: str, path: str, body: dict | None = None) -> bool:
        """The request names a map index the task instance lacks: 404, and the key reads as before."""
        before = self.read()
        kwargs = {"json": body} if body is not None else {}
        resp = self.api.call(method, path, params={"map_index": ABSENT_MAP_INDEX}, **kwargs)
        ok = self.verdict.that(
            resp.status_code == 404,
            f"{method} {path}?map_index={ABSENT_MAP_INDEX} (a map index the "
            f"task instance does not have) answered {resp.status_code}, not 404",
            step="map_index",
            resp=resp,
        )
        after = self.read()
        return (
            self.verdict.that(
                after == before,
                f"{method} {path}?map_index={ABSENT_MAP_INDEX} changed the key at map index -1: {before} -> {after}",
                step="map_index",
            )
            and ok
        )

    def judge(self, op_id: str, effects: list[Effect]) -> list[Outcome]:
        if not self.ensure():
            return [Outcome(e, NOT_DECIDED, "the tier's task state store key could not be set") for e in effects]
        out = []
        for effect in effects:
            if effect.parameter == "map_index":
                method = {"set_task_state_store": "PUT", "patch_task_state_store": "PATCH"}.get(op_id, "DELETE")
                path = self.store if op_id == "clear_task_state_store" else self.path
                body = {"value": SECOND} if method in ("PUT", "PATCH") else None
                ok = self._absent_map_index(effect, method, path, body)
                out.append(
                    Outcome(effect, PASSED if ok else FAILED, f"map_index={ABSENT_MAP_INDEX} answered 404, kept")
                )
        fields = [e for e in effects if e.location == "body"]
        if op_id == "set_task_state_store" and fields:
            until = (datetime.now(timezone.utc) + timedelta(days=2)).replace(microsecond=0)
            sent: dict[str, object] = {"value": SECOND, "expires_at": until.isoformat()}
            resp = self.api.call("PUT", self.path, json=sent)
            ok = self.verdict.status(resp, [200, 201, 204], f"PUT {self.path} {sent}", step="set")
            got = self.read() or {}
            ok = ok and self.verdict.that(
                got.get("value") == SECOND and instant(got.get("expires_at")) == until,
                f"PUT {self.path}: reads back {got}",
                step="set",
            )
            out += [Outcome(e, PASSED if ok else FAILED, f"value and expires_at read back: {got}") for e in fields]
        elif op_id == "patch_task_state_store" and fields:
            resp = self.api.call("PATCH", self.path, json={"value": SECOND})
            ok = self.verdict.status(resp, 200, f"PATCH {self.path}", step="patch")
            got = self.read() or {}
            ok = ok and self.verdict.that(
                got.get("value") == SECOND, f"PATCH {self.path}: reads back {got}", step="patch"
            )
            out += [Outcome(e, PASSED if ok else FAILED, "value read back") for e in fields]
        if op_id in ("delete_task_state_store", "clear_task_state_store"):
            path = self.path if op_id == "delete_task_state_store" else self.store
            resp = self.api.call("DELETE", path)
            if self.verdict.status(resp, 204, f"DELETE {path}", step="delete"):
                self.verdict.that(self.read() is None, f"DELETE {path}: the key still answers", step="delete")
        return out
