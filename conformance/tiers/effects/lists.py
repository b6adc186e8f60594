"""The effects of a list operation's query parameters, read back: filters, order_by, limit and offset.

Every value sent comes from the target's own data (a state some item has, a
pivot between two items' dates), so the request is valid by construction and a
filter that keeps everything, or an order that is not applied, shows. An effect
is decided only when the data can tell: a filter every item passes, or an
order over fewer than two comparable values, is `not decided`, never a pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from conformance.model.effects import Effect, EffectClass
from conformance.specs.effects import BARE_BOUNDS, BODY_PAGE, ListShape, like_regex
from conformance.tiers.effects.reading import Page, as_query, instant, out_of_order, read, scalars, sort_key

BASE_LIMIT = 50
ID_FIELDS = (
    "dag_id",
    "dag_run_id",
    "run_id",
    "task_id",
    "map_index",
    "try_number",
    "key",
    "name",
    "connection_id",
    "pool",
    "event_log_id",
    "id",
    "asset_id",
    "dataset_id",
    "timestamp",
    "when",
    "uri",
    "filename",
)
ORDER_FIELDS_AT_MOST = 4
RETRIES = 3

PASSED, FAILED, NOT_DECIDED = "passed", "failed", "not_decided"


@dataclass
class Outcome:
    """What reading one effect back showed."""

    effect: Effect
    status: str
    detail: str = ""
    recorded: bool = True  # a failure is already a violation of the check's verdict (False: the caller records it)

    def as_dict(self) -> dict:
        """A `checks` entry of results.json: an effect not decided is `skipped` there, with the reason as detail."""
        status = "skipped" if self.status == NOT_DECIDED else self.status
        return {
            "name": f"{self.effect.location}:{self.effect.parameter}",
            "status": status,
            "effect_class": self.effect.effect_class.value,
            "detail": self.detail[:300],
        }


def identity(item: dict) -> tuple:
    return tuple((f, str(item.get(f))) for f in ID_FIELDS if f in item)


class ListJudge:
    """Judges one list operation's effects on one path (its path parameters filled)."""

    def __init__(
        self,
        api,
        verdict,
        path: str,
        shape: ListShape,
        *,
        byte_order: bool,
        owned: Callable[[dict], bool],
        query: dict | None = None,
        paged: bool = True,
        arrays: frozenset[str] | None = None,
    ):
        self.api, self.verdict, self.path, self.shape = api, verdict, path, shape
        self.byte_order, self.owned = byte_order, owned
        self.query = query or {}  # the operation's required query parameters, sent with every read
        self.paged = paged  # the operation takes `limit` (2.x refuses a query parameter its operation lacks)
        self.arrays = arrays  # a POST list operation (its filters are its JSON body): the fields that take a list
        self.base: Page | None = None

    @property
    def by_body(self) -> bool:
        return self.arrays is not None

    def _params(self, params: dict) -> dict:
        out = {**self.query, **params}
        if not self.paged:
            out.pop("limit", None)
        if not self.by_body:
            return {k: as_query(v) if isinstance(v, bool) else v for k, v in out.items()}
        names = {v: k for k, v in BODY_PAGE.items()}
        return {
            names.get(k, k): [v] if k in (self.arrays or ()) and not isinstance(v, list) else v for k, v in out.items()
        }

    def _read(self, params: dict) -> Page:
        return read(self.api, self.path, self.shape.key, self._params(params), by_body=self.by_body)

    def what(self, params: dict) -> str:
        return f"POST {self.path} {self._params(params)}" if self.by_body else f"GET {self.path} {params}"

    # -- reading ----------------------------------------------------------------
    def page(self, step: str, **params) -> Page | None:
        """A read that must answer 200 with the list (the request is valid by construction)."""
        page = self._read(params)
        what = self.what(params)
        if not self.verdict.status(page.resp, 200, what, step=step):
            return None
        if page.items is None:
            self.verdict.that(False, f"{what}: no `{self.shape.key}` list in the answer", step=step, resp=page.resp)
            return None
        return page

    def load_base(self) -> bool:
        self.base = self.page("base", limit=BASE_LIMIT)
        return self.base is not None

    # -- paging -----------------------------------------------------------------
    def limit(self, effect: Effect) -> Outcome:
        assert self.base is not None
        if (self.base.total or len(self.base.items or ())) < 2:
            return Outcome(effect, NOT_DECIDED, "fewer than two items: a limit of one cannot show")
        got = self.page("limit", limit=1)
        if got is None:
            return Outcome(effect, FAILED, "limit=1 was not answered with a list")
        ok = self.verdict.that(
            len(got.items or ()) == 1,
            f"GET {self.path}?limit=1 answered {len(got.items or ())} items",
            step="limit",
            resp=got.resp,
        )
        return Outcome(effect, PASSED if ok else FAILED)

    def offset(self, effect: Effect) -> Outcome:
        for _ in range(RETRIES):
            first = self.page("offset", limit=3)
            shifted = self.page("offset", limit=2, offset=1)
            again = self.page("offset", limit=3)
            if first is None or shifted is None or again is None:
                return Outcome(effect, FAILED, "a paging read was not answered with a list")
            ids = [identity(i) for i in first.items or ()]
            if len(ids) < 3:
                return Outcome(effect, NOT_DECIDED, "fewer than three items: an offset of one cannot show")
            if ids != [identity(i) for i in again.items or ()]:
                continue  # the list moved between the reads: read again
            ok = self.verdict.that(
                [identity(i) for i in shifted.items or ()] == ids[1:3],
                f"GET {self.path}?offset=1&limit=2 is not items 2-3 of the list",
                step="offset",
                resp=shifted.resp,
            )
            return Outcome(effect, PASSED if ok else FAILED)
        return Outcome(effect, NOT_DECIDED, "the list changed between every attempt")

    # -- order ------------------------------------------------------------------
    def order_fields(self) -> list[str]:
        """Item fields whose values the base page can order (at least two distinct comparable ones)."""
        assert self.base is not None
        fields = []
        for name in sorted(self.shape.fields):
            keys = {sort_key(i.get(name), self.byte_order) for i in (self.base.items or ())} - {None}
            if len(keys) >= 2:
                fields.append(name)
        preferred = [f for f in ID_FIELDS if f in fields]
        return (preferred + [f for f in fields if f not in preferred])[:ORDER_FIELDS_AT_MOST]

    def order(self, effect: Effect) -> Outcome:
        judged, refused = [], []
        for name in self.order_fields():
            asc = self._read({"order_by": name, "limit": BASE_LIMIT})
            if asc.resp.status_code in (400, 422):  # a field this release does not order by
                refused.append(name)
                continue
            desc = self.page("order_by", order_by=f"-{name}", limit=BASE_LIMIT)
            if (
                not self.verdict.status(asc.resp, 200, f"GET {self.path}?order_by={name}", step="order_by")
                or desc is None
                or asc.items is None
            ):
                return Outcome(effect, FAILED, f"order_by={name} was not answered with a list")
            for page, descending in ((asc, False), (desc, True)):
                wrong = out_of_order([i.get(name) for i in page.items or ()], descending, self.byte_order)
                sign = "-" if descending else ""
                if not self.verdict.that(
                    wrong is None,
                    f"GET {self.path}?order_by={sign}{name}: {wrong} out of order",
                    step="order_by",
                    resp=page.resp,
                ):
                    return Outcome(effect, FAILED, f"order_by={sign}{name}")
            judged.append(name)
        if not judged:
            why = (
                f"every field tried was refused ({', '.join(refused)})"
                if refused
                else "no field with two comparable values"
            )
            return Outcome(effect, NOT_DECIDED, why)
        return Outcome(
            effect, PASSED, "ordered by " + ", ".join(judged) + (f"; refused: {', '.join(refused)}" if refused else "")
        )

    # -- bounds on a field the answer does not carry ----------------------------------------------
    def hidden_bound(self, effect: Effect, mine: Callable[[dict], bool], below: str) -> Outcome:
        """`updated_at_*`: the tier's own items are kept by a bound below their `below` field (an object is updated
        when it starts, or later) and left out by one in 2100; an upper bound the reverse."""
        assert self.base is not None
        own = [i for i in self.base.items or () if mine(i)]
        starts = [t for i in own if (t := instant(i.get(below))) is not None]
        if not own or not starts:
            return Outcome(effect, NOT_DECIDED, f"none of the tier's own items with a {below} on the first page")
        low = (min(starts) - timedelta(seconds=1)).isoformat()
        high = "2100-01-01T00:00:00+00:00"
        upper = BARE_BOUNDS.get(effect.parameter, effect.parameter).endswith(("_lte", "_lt"))
        keep, drop = (high, low) if upper else (low, high)
        ids = {identity(i) for i in own}
        kept = self.page(effect.parameter, **{effect.parameter: keep, "limit": BASE_LIMIT})
        dropped = self.page(effect.parameter, **{effect.parameter: drop, "limit": BASE_LIMIT})
        if kept is None or dropped is None:
            return Outcome(effect, FAILED, f"{effect.parameter} was not answered with a list")
        complete = kept.total is not None and kept.total <= len(kept.items or ())
        missing = ids - {identity(i) for i in kept.items or ()}
        ok = self.verdict.that(
            not (complete and missing),
            f"{self.what({effect.parameter: keep})} leaves out the tier's own {sorted(missing)[:2]}",
            step=effect.parameter,
            resp=kept.resp,
        )
        stray = ids & {identity(i) for i in dropped.items or ()}
        ok = (
            self.verdict.that(
                not stray,
                f"{self.what({effect.parameter: drop})} keeps the tier's own {sorted(stray)[:2]}",
                step=effect.parameter,
                resp=dropped.resp,
            )
            and ok
        )
        return Outcome(effect, PASSED if ok else FAILED, f"{effect.parameter}: kept at {keep}, left out at {drop}")

    # -- projection -------------------------------------------------------------
    def project(self, effect: Effect, wanted: list[str]) -> Outcome:
        """`fields`: every item of the answer carries exactly the named fields."""
        assert self.base is not None
        if not self.base.items:
            return Outcome(effect, NOT_DECIDED, "no item to see the projection on")
        got = self.page(effect.parameter, **{effect.parameter: wanted, "limit": BASE_LIMIT})
        if got is None:
            return Outcome(effect, FAILED, f"fields={','.join(wanted)} was not answered with a list")
        wrong = [sorted(i) for i in got.items or () if set(i) != set(wanted)]
        ok = self.verdict.that(
            bool(got.items) and not wrong,
            f"{self.what({effect.parameter: wanted})}: items carry {wrong[0] if wrong else 'nothing'}",
            step=effect.parameter,
            resp=got.resp,
        )
        return Outcome(effect, PASSED if ok else FAILED, f"fields={','.join(wanted)}")

    # -- filters ----------------------------------------------------------------
    def filter(self, effect: Effect) -> Outcome:
        assert self.base is not None and effect.field is not None
        choice = self._filter_value(effect)
        if choice is None:
            return Outcome(effect, NOT_DECIDED, f"no value of `{effect.field}` in the data tells items apart")
        value, test = choice
        got = self.page(
            effect.parameter, **{effect.parameter: value if self.by_body else as_query(value), "limit": BASE_LIMIT}
        )
        if got is None:
            return Outcome(effect, FAILED, f"{effect.parameter}={as_query(value)} was not answered with a list")
        wrong = [i for i in got.items or () if test(i.get(effect.field)) is False]
        shown = as_query(value)
        asked = self.what({effect.parameter: value})
        if not self.verdict.that(
            not wrong,
            f"{asked}: {len(wrong)} item(s) do not match, e.g. {effect.field}={wrong[0].get(effect.field)!r}"
            if wrong
            else "",
            step=effect.parameter,
            resp=got.resp,
        ):
            return Outcome(effect, FAILED, f"{effect.parameter}={shown} kept non-matching items")
        missing = self._owned_missing(got, test, effect)
        if not self.verdict.that(
            not missing, f"{asked} leaves out the suite's matching {missing}", step=effect.parameter, resp=got.resp
        ):
            return Outcome(effect, FAILED, f"{effect.parameter}={shown} left out matching items")
        return Outcome(effect, PASSED, f"{effect.parameter}={shown}")

    def _owned_missing(self, got: Page, test, effect: Effect) -> list:
        """The suite's own matching items of the base page that a complete filtered answer lacks.

        The base page was read before the filtered one, and on a live target an item's value moves (a task
        instance queued then running): an item counts as left out only if the list read again afterwards still
        shows it with the value it had, so the filtered read fell between two reads that both match.
        """
        assert self.base is not None
        if got.total is None or got.total > len(got.items or ()):
            return []
        present = {identity(i) for i in got.items or ()}
        missing = [
            i
            for i in self.base.items or ()
            if self.owned(i) and test(i.get(effect.field)) is True and identity(i) not in present
        ]
        if not missing:
            return []
        after = self.page(effect.parameter, limit=BASE_LIMIT)
        if after is None:  # the read again failed (and says so): the items stay missing
            return [identity(i) for i in missing]
        now = {identity(i): i.get(effect.field) for i in after.items or ()}
        return [identity(i) for i in missing if identity(i) in now and now[identity(i)] == i.get(effect.field)]

    def _filter_value(self, effect: Effect) -> tuple[Any, Callable[[Any], bool | None]] | None:
        """A value from the data and the predicate the filter documents, chosen so some base item fails it."""
        assert self.base is not None
        items = self.base.items or ()
        values = [
            v
            for i in sorted(items, key=lambda i: not self.owned(i))
            for v in scalars(i.get(effect.field))
            if v is not None
        ]
        if effect.effect_class is EffectClass.RANGE:
            values = midpoints(values)
        for value in dict.fromkeys(map(_hashable, values)):
            if effect.effect_class is EffectClass.PREFIX and isinstance(value, str):
                value = value[: max(1, len(value) // 2)]  # a prefix filter is asked for a prefix, not the whole value
            test = _predicate(effect, value)
            if test is None:
                continue
            verdicts = [test(i.get(effect.field)) for i in items]  # True, False, or None (an unset value: unknown)
            if False in verdicts and True in verdicts:
                return value, test
        return None


def midpoints(values: list[Any]) -> list[Any]:
    """Bounds halfway between neighbouring distinct values: a bound equal to a stored value would make the answer
    depend on how the database rounds it (SQLite computes a run's duration as a float of its own)."""
    keyed = sorted({k: v for v in values if (k := sort_key(v, byte_order=False)) is not None and k[0] < 2}.items())
    out: list[Any] = []
    for (ka, a), (kb, b) in zip(keyed, keyed[1:]):
        if ka[0] != kb[0]:
            continue
        if ka[0] == 0:
            out.append((a + b) / 2)
        else:
            out.append((ka[1] + (kb[1] - ka[1]) / 2).isoformat())
    return out


def _hashable(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool)) else str(value)


def _predicate(effect: Effect, value: Any) -> Callable[[Any], bool | None] | None:
    cls = effect.effect_class
    if cls is EffectClass.EQUALS:
        return lambda v: as_query(value) in [as_query(s) for s in scalars(v)]
    if cls is EffectClass.EXCLUDES:
        return lambda v: None if v is None else as_query(value) not in [as_query(s) for s in scalars(v)]
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return None
    if cls in (EffectClass.PATTERN, EffectClass.PREFIX):
        rx = like_regex(str(value), prefix=cls is EffectClass.PREFIX)
        return lambda v: any(rx.match(as_query(s)) for s in scalars(v) if s is not None)
    if cls is EffectClass.RANGE:
        return _range_test(effect.parameter, value)
    return None


def _range_test(parameter: str, pivot: Any) -> Callable[[Any], bool | None] | None:
    key = sort_key(pivot, byte_order=False)
    if key is None or key[0] == 2:
        return None
    ops = {
        "_gte": lambda a, b: a >= b,
        "_gt": lambda a, b: a > b,
        "_lte": lambda a, b: a <= b,
        "_lt": lambda a, b: a < b,
    }
    parameter = BARE_BOUNDS.get(parameter, parameter)  # `before`, `after`: a strict bound
    compare = next(fn for suffix, fn in ops.items() if parameter.endswith(suffix))

    def test(v: Any) -> bool | None:
        if v is None:  # unknown: the spec does not say how a bound treats an unset value (3.x reads a null date as now)
            return None
        k = sort_key(v, byte_order=False)
        return k is not None and k[0] == key[0] and compare(k, key)

    return test
