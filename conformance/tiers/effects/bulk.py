"""3.x bulk bodies (`PATCH /variables`, `/pools`, `/connections`): each action and its `action_on_*`, read back.

Every entity is named with the run prefix (the guard refuses any other), two of
them made by the bulk create itself, so the whole sequence stays on the tier's
own objects: create (fail on existence), create again with `skip` (the object
keeps its value), with `overwrite` (it takes the new one), with `fail` (an
error for it, the object unchanged), update (the fields read back), update of a
name that does not exist with `skip` (nothing created), delete by name (each
answers 404 afterwards). Deletes name their entities as strings: 3.3.2 answers
500 to pool objects in a delete (airflow-facts).
"""

from __future__ import annotations

from conformance.model.effects import Effect
from conformance.specs.effects import WRITE_ONLY_FIELDS
from conformance.tiers.effects.lists import FAILED, PASSED, Outcome
from conformance.tiers.effects.writes import KINDS, Kind, same

BY_COLLECTION = {kind.collection: kind for kind in KINDS}


class BulkJudge:
    """One collection's bulk operation: the sequence of actions above, each read back."""

    def __init__(self, api, verdict, prefix: str, kind: Kind) -> None:
        self.api, self.verdict, self.kind = api, verdict, kind
        self.names = [f"{prefix}eff_bulk_{kind.collection[:4]}_{n}" for n in (1, 2)]
        self.missing = f"{prefix}eff_bulk_{kind.collection[:4]}_never"

    def _send(self, step: str, actions: list[dict]) -> dict | None:
        path = f"/{self.kind.collection}"
        resp = self.api.call("PATCH", path, json={"actions": actions})
        if not self.verdict.status(resp, 200, f"PATCH {path} {[a['action'] for a in actions]}", step=step):
            return None
        body = resp.json()
        return body if isinstance(body, dict) else {}

    def _read(self, name: str) -> dict | None:
        resp = self.api.call("GET", f"/{self.kind.collection}/{name}")
        return resp.json() if resp.status_code == 200 else None

    def _holds(self, step: str, name: str, sent: dict) -> bool:
        got = self._read(name)
        if got is None:
            return self.verdict.that(
                False, f"bulk {step}: {self.kind.collection}/{name} is not there to read", step=step
            )
        wrong = {k: (v, got.get(k)) for k, v in sent.items() if k not in WRITE_ONLY_FIELDS and not same(v, got.get(k))}
        return self.verdict.that(not wrong, f"bulk {step}: {name} reads back {wrong} (sent, read)", step=step)

    def _errors(self, answer: dict | None, action: str) -> list:
        part = (answer or {}).get(action) or {}
        return part.get("errors") or [] if isinstance(part, dict) else []

    def _clean(self, step: str, answer: dict | None, action: str) -> bool:
        """Answered 200 (recorded otherwise) and the action reports no error."""
        errors = self._errors(answer, action)
        return answer is not None and self.verdict.that(
            not errors, f"bulk {step} reported errors: {str(errors)[:200]}", step=step
        )

    def judge(self, effect: Effect) -> Outcome:
        kind, (one, two) = self.kind, self.names
        first = {name: kind.body(name, n) for n, name in enumerate(self.names)}
        other = {name: kind.body(name, n + 5) for n, name in enumerate(self.names)}  # every field but the name differs
        checks: list[bool] = []
        answer = self._send(
            "create", [{"action": "create", "action_on_existence": "fail", "entities": list(first.values())}]
        )
        if answer is None:
            return Outcome(effect, FAILED, "the bulk create was not answered 200")
        listed = set((answer.get("create") or {}).get("success") or [])
        checks.append(
            self.verdict.that(
                listed >= set(self.names),
                f"bulk create answered success for {sorted(listed)}, not both of {self.names}",
                step="create",
            )
        )
        checks += [self._holds("create", name, body) for name, body in first.items()]
        answer = self._send("skip", [{"action": "create", "action_on_existence": "skip", "entities": [other[one]]}])
        checks += [answer is not None, self._holds("create with action_on_existence=skip", one, first[one])]
        answer = self._send("fail", [{"action": "create", "action_on_existence": "fail", "entities": [other[one]]}])
        checks += [
            self.verdict.that(
                answer is not None and bool(self._errors(answer, "create")),
                f"bulk create of the existing {one} with action_on_existence=fail reported no error: {answer}",
                step="fail",
            ),
            self._holds("create with action_on_existence=fail", one, first[one]),
        ]
        answer = self._send(
            "overwrite", [{"action": "create", "action_on_existence": "overwrite", "entities": [other[one]]}]
        )
        checks += [answer is not None, self._holds("create with action_on_existence=overwrite", one, other[one])]
        answer = self._send(
            "update", [{"action": "update", "action_on_non_existence": "fail", "entities": [other[two]]}]
        )
        checks += [self._clean("update", answer, "update"), self._holds("update", two, other[two])]
        answer = self._send(
            "update skip",
            [{"action": "update", "action_on_non_existence": "skip", "entities": [kind.body(self.missing, 1)]}],
        )
        checks += [
            self._clean("update skip", answer, "update"),
            self.verdict.that(
                self._read(self.missing) is None,
                f"bulk update of {self.missing} (absent) with action_on_non_existence=skip created it",
                step="update skip",
            ),
        ]
        answer = self._send("delete", [{"action": "delete", "action_on_non_existence": "fail", "entities": self.names}])
        checks.append(self._clean("delete", answer, "delete"))
        for name in self.names:
            gone = self.api.call("GET", f"/{kind.collection}/{name}")
            checks.append(
                self.verdict.that(
                    gone.status_code == 404,
                    f"bulk delete: GET {kind.collection}/{name} answered {gone.status_code} afterwards, not 404",
                    step="delete",
                    resp=gone,
                )
            )
        answer = self._send(
            "delete skip", [{"action": "delete", "action_on_non_existence": "skip", "entities": [self.missing]}]
        )
        checks.append(self._clean("delete skip", answer, "delete"))
        held = all(checks)
        return Outcome(
            effect,
            PASSED if held else FAILED,
            "create (fail, skip, overwrite), update (fail, skip), delete (fail, skip) read back"
            if held
            else "a bulk action did not hold when read back",
        )
