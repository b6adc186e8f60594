"""Paging: limit and offset as documented, and the invariants any pager must keep.

A live deployment changes while it is read: the dag-processor keeps parsing
(34 -> 55 DAGs in the first minute of a fresh 2.10.5). Checks that compare
several reads therefore bracket them with a reference read of total_entries
and only compare strictly when the list did not change in between, retrying
a few times otherwise. A server that breaks paging still fails: while the
reference total holds still, a different total on a page, a repeated item or
a wrong page is a violation, and listing the whole collection never trusts
the server to end (conformance.http.paging).
"""

from __future__ import annotations

import time

from hypothesis import Phase, given
from hypothesis import strategies as st

from conformance.checks.metadata import scenario
from conformance.context import CheckContext
from conformance.expectations.page_limits import PageLimits, page_size
from conformance.generation import generation_settings
from conformance.http.paging import Listing, list_all
from conformance.model.reasons import ReasonCode
from conformance.verdict import StopCheck, Verdict, skip

COLLECTION = ("/dags", "dags")  # stable while the suite runs, present on every version
CLAMP_CANDIDATES = (("/dags", "dags", "get_dags"), ("/eventLogs", "event_logs", "get_event_logs"))
PAGE = 50  # the full listing's page size (works under any maximum_page_limit: offset advances by what came back)
ATTEMPTS = 5  # reads of a changing list before giving up on a strict comparison
SETTLE_S = 1.0  # pause before attempt n+1 is n * SETTLE_S (1 + 2 + 3 + 4 = 10 s at most)


def _page(api, verdict: Verdict, **params) -> tuple[list, int]:
    """One page of the collection and its total_entries; an unusable answer stops the scenario."""
    what = f"GET {COLLECTION[0]} {params}"
    resp = api.call("GET", COLLECTION[0], params=params)
    if not verdict.status(resp, 200, what):
        raise StopCheck(what)
    body = verdict.json(resp, what)
    items = body.get(COLLECTION[1]) if isinstance(body, dict) else None
    total = body.get("total_entries") if isinstance(body, dict) else None
    if not isinstance(items, list) or not isinstance(total, int):
        verdict.violation(f"{what}: no `{COLLECTION[1]}` list with an integer total_entries", resp=resp)
    return items, total


def _limits_text(ctx: CheckContext) -> str:
    """The page limits judged by and where they come from (a deployment with others needs --page-limits)."""
    limits = _limits(ctx)
    return f"maximum_page_limit {limits.maximum}, fallback_page_limit {limits.fallback}: {limits.source}"


def _ids(items) -> list:
    return [i.get("dag_id") if isinstance(i, dict) else i for i in items]


def _reference_total(api, verdict) -> int:
    """total_entries of the smallest read, taken before and after a comparison to see whether the list moved."""
    return _page(api, verdict, limit=1)[1]


def _pause(attempt: int) -> None:
    time.sleep(SETTLE_S * (attempt + 1))


def _quiet_listing(api, verdict) -> Listing | None:
    """The whole list, read while its total did not move (retried otherwise).

    Returns None when the listing itself broke the contract (recorded) or the
    list never held still (the caller skips what it cannot judge).
    """
    for attempt in range(ATTEMPTS):
        before = _reference_total(api, verdict)
        listing = list_all(api, *COLLECTION, ident="dag_id", page_size=PAGE)
        if listing.problem:
            verdict.that(False, f"paging through GET {COLLECTION[0]}: {listing.problem}", resp=listing.response)
            return None
        if _reference_total(api, verdict) == before:
            if verdict.that(
                set(listing.totals) == {before},
                f"total_entries depends on paging: {listing.totals} "
                f"on pages of {PAGE}, {before} with limit=1 before and after",
            ):
                return listing
            return None
        _pause(attempt)
    return None


def _limits(ctx: CheckContext) -> PageLimits:
    """The page limits the run judges by (the run context always has them; `page_limits_of`)."""
    assert ctx.page_limits is not None, "the run context has no page limits"
    return ctx.page_limits


@scenario(
    "paging.default_page_size",
    "Without limit the documented default page size applies",
    "A list without `limit` MUST return min(total, default page size) items.",
    operations=["get_dags"],
)
def test_default_page_size(api, verdict, expect, ctx: CheckContext):
    items, total = _page(api, verdict)
    size = page_size(expect["page_size"], _limits(ctx))
    if total <= size:
        skip(
            f"GET {COLLECTION[0]} holds {total} items, not more than the default page of {size} "
            f"({_limits_text(ctx)}); the default page size is not observable",
            ReasonCode.NO_DATA,
        )
    verdict.that(
        len(items) == size, f"no limit: {len(items)} items for total {total}, expected {size} ({_limits_text(ctx)})"
    )


@scenario(
    "paging.limit_above_maximum_clamped",
    "A limit above the maximum is clamped",
    "A `limit` above maximum_page_limit MUST be clamped to the maximum, never an error, on every collection.",
    operations=["get_dags", "get_event_logs"],
    optional=["get_event_logs"],
)
def test_limit_clamped(api, verdict, ctx: CheckContext, expect):
    maximum = page_size(expect["page_size"], _limits(ctx))
    largest = 0
    for path, key, op_id in CLAMP_CANDIDATES:
        if ctx.primary_lacks(op_id):  # a collection the run's identity may not read tells nothing about paging
            continue
        resp = api.call("GET", path, params={"limit": 100000})
        if not verdict.status(resp, 200, f"GET {path}?limit=100000"):
            return
        n, total = len(resp.json()[key]), resp.json()["total_entries"]
        verdict.that(
            n == min(total, maximum),
            f"GET {path}?limit=100000 returned {n} of {total} items, expected "
            f"{min(total, maximum)} ({_limits_text(ctx)})",
        )
        largest = max(largest, total)
        if total > maximum:
            break
    else:
        skip(
            f"no collection holds more items than the page maximum {maximum} (largest: {largest}; "
            f"{_limits_text(ctx)}); clamping is not observable",
            ReasonCode.NO_DATA,
        )
    above = api.call("GET", path, params={"limit": maximum + 1}).json()[key]
    verdict.that(len(above) == maximum, f"limit={maximum + 1} returned {len(above)} items; the maximum is {maximum}")
    if maximum > 1:  # limit=0 would be the fallback page, another check
        below = api.call("GET", path, params={"limit": maximum - 1}).json()[key]
        verdict.that(len(below) == maximum - 1, f"limit={maximum - 1} returned {len(below)} items")
    verdict.notes.append(f"clamped to {maximum} on {path} ({_limits_text(ctx)})")


@scenario(
    "paging.limit_zero",
    "limit=0 behaves as the version documents",
    "`limit=0` MUST return the version's documented page (fallback page size on 2.x, empty on 3.x).",
    operations=["get_dags"],
)
def test_limit_zero(api, verdict, expect, ctx: CheckContext):
    items, total = _page(api, verdict, limit=0)
    want = min(total, page_size(expect["page_size"], _limits(ctx)))
    verdict.that(
        len(items) == want,
        f"limit=0 returned {len(items)} items (total {total}), expected {want} ({_limits_text(ctx)})",
    )


@scenario(
    "paging.negative_limit_rejected",
    "A negative limit is rejected",
    "`limit=-1` MUST be rejected as invalid input.",
    operations=["get_dags"],
)
def test_negative_limit(api, verdict, expect):
    resp = api.call("GET", COLLECTION[0], params={"limit": -1})
    verdict.status(resp, expect["status"], "GET with limit=-1")


@scenario(
    "paging.offset_past_end",
    "An offset past the end returns an empty page with the true total",
    "An offset beyond the last item MUST return an empty page and the unchanged total_entries.",
    operations=["get_dags"],
)
def test_offset_past_end(api, verdict):
    for attempt in range(ATTEMPTS):
        before = _reference_total(api, verdict)
        items, total = _page(api, verdict, limit=10, offset=before + 10)
        after = _reference_total(api, verdict)
        if before == after:
            verdict.that(items == [], f"offset past the end returned {len(items)} items")
            verdict.that(total == before, f"total_entries {total} past the end, {before} otherwise")
            return
        _pause(attempt)
    # the list kept changing: judge only what holds whatever was added or removed between the reads
    low, high = sorted((before, after))
    verdict.that(items == [] or high > before + 10, f"offset past the end returned {len(items)} items")
    verdict.that(low <= total <= high, f"total_entries {total} past the end, between {low} and {high} otherwise")
    verdict.notes.append(f"GET {COLLECTION[0]} changed on every one of {ATTEMPTS} attempts; judged within bounds")


def _judge_page(api, verdict, state: dict, limit: int, offset: int) -> None:
    """Compare one page with the quiet full listing, re-listing (bounded) when the list moved since."""
    for attempt in range(ATTEMPTS):
        full = state["listing"]
        items, t = _page(api, verdict, limit=limit, offset=offset)
        if _reference_total(api, verdict) == full.total:
            served = min(limit, state["maximum"])  # a limit above maximum_page_limit is clamped (its own check)
            want = _ids(full.items)[offset : offset + served]
            verdict.that(t == full.total, f"total_entries {t} with limit={limit} offset={offset}, {full.total} without")
            verdict.that(
                _ids(items) == want,
                f"limit={limit} offset={offset} returned {_ids(items)[:5]}..., expected {want[:5]}...",
            )
            return
        if attempt + 1 == ATTEMPTS:
            break
        _pause(attempt)
        fresh = _quiet_listing(api, verdict)
        if fresh is None:
            break
        state["listing"] = fresh
    state["unjudged"] += 1


@scenario(
    "paging.pages_partition_list",
    "Consecutive pages partition the list",
    "For any limit/offset, pages MUST hold min(limit, rest) items, never repeat an item, "
    "and together equal the full list; total_entries MUST not depend on paging.",
    operations=["get_dags"],
)
def test_pages_partition(api, verdict, ctx: CheckContext):
    listing = _quiet_listing(api, verdict)
    if listing is None:
        if verdict.violations:
            return
        skip(
            f"GET {COLLECTION[0]} changed during each of {ATTEMPTS} listings; pages cannot be compared",
            ReasonCode.UNSTABLE,
        )
    full_ids = _ids(listing.items)
    verdict.that(
        len(full_ids) == listing.total,
        f"paging through the list gave {len(full_ids)} items, total_entries says {listing.total}",
    )
    verdict.that(len(set(full_ids)) == len(full_ids), "the same DAG appears on two pages")
    state = {"listing": listing, "unjudged": 0, "maximum": _limits(ctx).maximum}

    # hypothesis derives the seed from the test itself (derandomize) and keeps its default phases
    @generation_settings(min(15, ctx.options.max_examples), derandomize=True, phases=tuple(Phase))
    @given(limit=st.integers(1, 60), offset=st.integers(0, max((listing.total or 0) + 5, 1)))
    def pages(limit, offset):
        _judge_page(api, verdict, state, limit, offset)

    pages()
    if state["unjudged"]:
        verdict.notes.append(f"{state['unjudged']} page(s) not compared: GET {COLLECTION[0]} kept changing")
