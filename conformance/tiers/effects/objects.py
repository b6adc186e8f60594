"""The effects of a single-object read's query parameters: `map_index` selects, `fields` projects.

The object is the tier's own probe run's (its DAG, the run, its echo task
instance with map index -1), so what the parameter must select is known: the
task instance answers 200 with its map index, and a map index it does not have
(the echo task is not mapped) answers 404; a read that ignores `map_index`
answers 200 both times. `fields` names two of the object's fields; the answer
must carry exactly those.
"""

from __future__ import annotations

from conformance.model.effects import Effect, EffectClass
from conformance.probes.dags import MARKER
from conformance.tiers.effects.lists import FAILED, ID_FIELDS, NOT_DECIDED, PASSED, Outcome

ABSENT_MAP_INDEX = 97  # a map index the probe run's echo task (not mapped) cannot have
PROJECTED = 2  # how many fields a projection names


def projection(fields: list[str] | set[str] | frozenset[str], preferred: tuple[str, ...] = ID_FIELDS) -> list[str]:
    """Two fields to ask for: identifying ones first (every release has them), then any others, in name order."""
    names = sorted(fields)
    ordered = [f for f in preferred if f in names] + [f for f in names if f not in preferred]
    return ordered[:PROJECTED]


class ObjectJudge:
    """Judges one single-object read's effects on one path (its path parameters filled from the probe run)."""

    def __init__(self, api, verdict, path: str, native: dict | None = None) -> None:
        self.api, self.verdict, self.path = api, verdict, path
        self.native = native or {}  # extra query parameters for a native value (`stringify=false`)

    def judge(self, effect: Effect) -> Outcome:
        if effect.effect_class is EffectClass.SELECTOR:
            return self.selector(effect)
        if effect.effect_class is EffectClass.PROJECTION:
            return self.project(effect)
        if effect.parameter == "stringify":
            return self.stringify(effect)
        return Outcome(effect, NOT_DECIDED, f"no judge for class {effect.effect_class.value} on a single object")

    def selector(self, effect: Effect, list_key: str | None = None) -> Outcome:
        name = effect.parameter
        present = self.api.call("GET", self.path, params={name: -1})
        if present.status_code != 200:  # e.g. an external log URL without an external log handler: 400
            return Outcome(
                effect,
                NOT_DECIDED,
                f"GET {self.path}?{name}=-1 (the probe run's task instance) answered "
                f"{present.status_code}: nothing to select from",
            )
        absent = self.api.call("GET", self.path, params={name: ABSENT_MAP_INDEX})
        if list_key is not None:  # a list: a map index without task instance lists nothing (404 says so too)
            held = (present.json() or {}).get(list_key)
            if not held:
                return Outcome(effect, NOT_DECIDED, f"GET {self.path}?{name}=-1 lists nothing to leave out")
            listed = (absent.json() or {}).get(list_key) if absent.status_code == 200 else None
            ok = self.verdict.that(
                absent.status_code == 404 or listed == [],
                f"GET {self.path}?{name}="
                f"{ABSENT_MAP_INDEX} answered {absent.status_code} with {str(listed)[:100]}: the "
                f"parameter does not select",
                step=name,
                resp=absent,
            )
            return Outcome(effect, PASSED if ok else FAILED, f"{name}={ABSENT_MAP_INDEX}: {absent.status_code}, none")
        ok = self.verdict.that(
            absent.status_code == 404,
            f"GET {self.path}?{name}={ABSENT_MAP_INDEX} (a map index the "
            f"task instance does not have) answered {absent.status_code}, not 404: the parameter "
            f"does not select",
            step=name,
            resp=absent,
        )
        return Outcome(
            effect, PASSED if ok else FAILED, f"{name}=-1 answered 200, {name}={ABSENT_MAP_INDEX} {absent.status_code}"
        )

    def delete_selector(self, effect: Effect) -> Outcome:
        """A DELETE naming a map index the object lacks: 404, and the object (map index -1) still answers 200."""
        name = effect.parameter
        if self.api.call("GET", self.path).status_code != 200:
            return Outcome(effect, NOT_DECIDED, f"GET {self.path} does not answer 200: nothing to keep")
        wrong = self.api.call("DELETE", self.path, params={name: ABSENT_MAP_INDEX})
        ok = self.verdict.that(
            wrong.status_code == 404,
            f"DELETE {self.path}?{name}={ABSENT_MAP_INDEX} (a map index it "
            f"does not have) answered {wrong.status_code}, not 404",
            step=name,
            resp=wrong,
        )
        kept = self.api.call("GET", self.path)
        ok = (
            self.verdict.that(
                kept.status_code == 200,
                f"DELETE {self.path}?{name}={ABSENT_MAP_INDEX} deleted the object: GET answers {kept.status_code}",
                step=name,
                resp=kept,
            )
            and ok
        )
        return Outcome(
            effect, PASSED if ok else FAILED, f"{name}={ABSENT_MAP_INDEX} answered {wrong.status_code}, kept"
        )

    def project(self, effect: Effect) -> Outcome:
        whole = self.api.call("GET", self.path)
        body = whole.json() if whole.status_code == 200 else None
        if not isinstance(body, dict) or len(body) <= PROJECTED:
            return Outcome(
                effect, NOT_DECIDED, f"GET {self.path} answered {whole.status_code} without fields to leave out"
            )
        wanted = projection(set(body))
        got = self.api.call("GET", self.path, params={effect.parameter: wanted})
        if not self.verdict.status(got, 200, f"GET {self.path}?fields={','.join(wanted)}", step=effect.parameter):
            return Outcome(effect, FAILED, f"answered {got.status_code}")
        answer = got.json() if isinstance(got.json(), dict) else {}
        ok = self.verdict.that(
            set(answer) == set(wanted),
            f"GET {self.path}?fields={','.join(wanted)} answered the fields {sorted(answer)}",
            step=effect.parameter,
            resp=got,
        )
        return Outcome(effect, PASSED if ok else FAILED, f"fields={','.join(wanted)}")

    def stringify(self, effect: Effect) -> Outcome:
        """The probe run's XCom (an object): a string with stringify=true, the object with stringify=false."""
        text = self.api.call("GET", self.path, params={"stringify": "true"})
        if text.status_code != 200:
            return Outcome(effect, NOT_DECIDED, f"GET {self.path} answered {text.status_code}")
        native = self.api.call("GET", self.path, params={"stringify": "false", **self.native})
        as_text = (text.json() or {}).get("value")
        as_object = (native.json() or {}).get("value") if native.status_code == 200 else None
        ok = self.verdict.that(
            isinstance(as_text, str) and MARKER in as_text,
            f"GET {self.path}?stringify=true: the value is {as_text!r}, not a string holding the pushed object",
            step="stringify",
            resp=text,
        )
        ok = (
            self.verdict.that(
                isinstance(as_object, dict) and as_object.get("marker") == MARKER,
                f"GET {self.path}?"
                f"stringify=false: the value is {as_object!r} ({native.status_code}), not the pushed "
                f"object",
                step="stringify",
                resp=native,
            )
            and ok
        )
        return Outcome(effect, PASSED if ok else FAILED, "a string, then the object")
