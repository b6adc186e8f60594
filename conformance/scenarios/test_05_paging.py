"""Paging: limit and offset as documented, and the invariants any pager must keep."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.metadata import scenario

COLLECTION = ("/dags", "dags")  # stable while the suite runs, present on every version
CLAMP_CANDIDATES = (("/dags", "dags"), ("/eventLogs", "event_logs"))


def _page(api, verdict, **params):
    resp = api.call("GET", COLLECTION[0], params=params)
    verdict.status(resp, 200, f"GET {COLLECTION[0]} {params}")
    body = resp.json()
    return body[COLLECTION[1]], body["total_entries"]


def _ids(items):
    return [i["dag_id"] for i in items]


@pytest.fixture(scope="module")
def everything(api):
    """The whole collection, fetched in pages of 50 (works under any maximum_page_limit >= 50)."""
    items, offset = [], 0
    while True:
        body = api.call("GET", COLLECTION[0], params={"limit": 50, "offset": offset}).json()
        items += body[COLLECTION[1]]
        if len(body[COLLECTION[1]]) < 50:
            return items, body["total_entries"]
        offset += 50


@scenario("paging.default_page_size", "Without limit the documented default page size applies",
          "A list without `limit` MUST return min(total, default page size) items.",
          operations=["get_dags"])
def test_default_page_size(api, verdict, expect):
    items, total = _page(api, verdict)
    want = min(total, expect["default_limit"])
    verdict.that(len(items) == want, f"no limit: {len(items)} items for total {total}, expected {want}")


@scenario("paging.limit_above_maximum_clamped", "A limit above the maximum is clamped",
          "A `limit` above maximum_page_limit MUST be clamped to the maximum, never an error, on every collection.",
          operations=["get_dags", "get_event_logs"])
def test_limit_clamped(api, verdict):
    for path, key in CLAMP_CANDIDATES:
        resp = api.call("GET", path, params={"limit": 100000})
        verdict.status(resp, 200, f"GET {path}?limit=100000")
        n, total = len(resp.json()[key]), resp.json()["total_entries"]
        if n < total:
            break
    else:
        pytest.skip(f"no collection holds more items than the page maximum (largest: {total}); clamping is not observable")
    above = api.call("GET", path, params={"limit": n + 1}).json()[key]
    verdict.that(len(above) == n, f"limit={n + 1} returned {len(above)} items; the maximum seen was {n}")
    below = api.call("GET", path, params={"limit": n - 1}).json()[key]
    verdict.that(len(below) == n - 1, f"limit={n - 1} returned {len(below)} items")
    verdict.notes.append(f"maximum page size observed on {path}: {n} (Airflow's default maximum_page_limit is 100)")


@scenario("paging.limit_zero", "limit=0 behaves as the version documents",
          "`limit=0` MUST return the version's documented page (fallback page size on 2.x, empty on 3.x).",
          operations=["get_dags"])
def test_limit_zero(api, verdict, expect):
    items, total = _page(api, verdict, limit=0)
    want = min(total, expect["limit_zero_items"]) if expect["limit_zero_items"] else 0
    verdict.that(len(items) == want, f"limit=0 returned {len(items)} items (total {total}), expected {want}")


@scenario("paging.negative_limit_rejected", "A negative limit is rejected",
          "`limit=-1` MUST be rejected as invalid input.",
          operations=["get_dags"])
def test_negative_limit(api, verdict, expect):
    resp = api.call("GET", COLLECTION[0], params={"limit": -1})
    verdict.status(resp, expect["status"], "GET with limit=-1")


@scenario("paging.offset_past_end", "An offset past the end returns an empty page with the true total",
          "An offset beyond the last item MUST return an empty page and the unchanged total_entries.",
          operations=["get_dags"])
def test_offset_past_end(api, verdict, everything):
    items, total = _page(api, verdict, limit=10, offset=everything[1] + 10)
    verdict.that(items == [], f"offset past the end returned {len(items)} items")
    verdict.that(total == everything[1], f"total_entries {total} past the end, {everything[1]} otherwise")


@scenario("paging.pages_partition_list", "Consecutive pages partition the list",
          "For any limit/offset, pages MUST hold min(limit, rest) items, never repeat an item, "
          "and together equal the full list; total_entries MUST not depend on paging.",
          operations=["get_dags"])
def test_pages_partition(api, verdict, everything, ctx):
    full, total = everything
    full_ids = _ids(full)
    verdict.that(len(full_ids) == total, f"paging through the list gave {len(full_ids)} items, total_entries says {total}")
    verdict.that(len(set(full_ids)) == len(full_ids), "the same DAG appears on two pages")

    @settings(max_examples=min(15, ctx.options.max_examples), deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(limit=st.integers(1, 60), offset=st.integers(0, max(total + 5, 1)))
    def pages(limit, offset):
        items, t = _page(api, verdict, limit=limit, offset=offset)
        verdict.that(t == total, f"total_entries {t} with limit={limit} offset={offset}, {total} without")
        verdict.that(_ids(items) == full_ids[offset:offset + limit],
                     f"limit={limit} offset={offset} returned {_ids(items)[:5]}..., expected {full_ids[offset:offset + limit][:5]}...")

    pages()
