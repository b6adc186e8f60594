"""The paging helper's loop ends whatever the server does (no Airflow: a tiny in-process fake session).

The fake only answers `call("GET", path, params=...)` from a list held in
memory; it models the ways a server can misbehave that used to hang a run or
a cleanup (offset ignored, absurd total_entries), not Airflow itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.http.paging import Listing, list_all


class FakeResponse:
    def __init__(self, status_code: int, body: Any) -> None:
        self.status_code = status_code
        self._body = body

    def json(self) -> Any:
        if isinstance(self._body, Exception):
            raise self._body
        return self._body


class FakeSession:
    """Serves `items` under `key`; `total` and `on_call` let a test bend the answers."""

    def __init__(
        self,
        items: list,
        *,
        key: str = "things",
        ignore_offset: bool = False,
        total: Callable[[int], int] | None = None,
        on_call: Callable[[int], None] | None = None,
        max_limit: int = 100,
    ) -> None:
        self.items, self.key, self.ignore_offset = items, key, ignore_offset
        self.total, self.on_call, self.max_limit = total, on_call, max_limit
        self.calls: list[dict] = []

    def call(self, method: str, path: str, params: dict | None = None, **kwargs: Any) -> FakeResponse:
        assert method == "GET"
        params = dict(params or {})
        self.calls.append(params)
        if self.on_call:
            self.on_call(len(self.calls))
        limit = min(int(params.get("limit", 100)), self.max_limit)
        offset = 0 if self.ignore_offset else int(params.get("offset", 0))
        total = self.total(len(self.calls)) if self.total else len(self.items)
        return FakeResponse(200, {self.key: self.items[offset : offset + limit], "total_entries": total})


def _listing(session: FakeSession, **kwargs: Any) -> Listing:
    return list_all(session, "/things", "things", **kwargs)


def test_normal_paging_reads_every_item_once():
    items = [{"id": i} for i in range(250)]
    session = FakeSession(items)
    listing = _listing(session)
    assert listing.items == items and listing.total == 250 and not listing.problem
    assert listing.pages == 3 and listing.settled
    assert [c["offset"] for c in session.calls] == [0, 100, 200]


def test_exact_multiple_stops_on_total_without_an_extra_request():
    session = FakeSession([{"id": i} for i in range(200)])
    listing = _listing(session)
    assert len(listing.items) == 200 and listing.pages == 2 and not listing.problem


def test_a_clamped_limit_still_reads_everything():
    """A server whose maximum page is below the requested page size: offset follows what came back."""
    items = [{"id": i} for i in range(120)]
    listing = _listing(FakeSession(items, max_limit=50), page_size=100)
    assert listing.items == items and listing.pages == 3 and not listing.problem


def test_total_growing_mid_way_is_followed_and_visible():
    items = [{"id": i} for i in range(150)]
    session = FakeSession(items)
    session.on_call = lambda n: items.extend({"id": 1000 + i} for i in range(60)) if n == 2 else None
    listing = _listing(session)
    assert len(listing.items) == 210 and listing.total == 210 and not listing.problem
    assert listing.totals == [150, 210, 210] and not listing.settled


def test_a_server_ignoring_offset_ends_with_a_problem():
    session = FakeSession([{"id": i} for i in range(250)], ignore_offset=True)
    listing = _listing(session)
    assert listing.problem == "offset ignored: page at offset 100 repeats the page at offset 0"
    assert listing.pages == 2 and len(listing.items) == 100 and listing.response is None


def test_offset_ignored_is_seen_by_id_when_items_change_between_reads():
    """On a live deployment the same DAG differs between reads (last_parsed_time): pages compare by id."""
    reads = iter(range(10**6))

    class Live(FakeSession):
        def call(self, method: str, path: str, params: dict | None = None, **kwargs: Any) -> FakeResponse:
            resp = super().call(method, path, params=params)
            resp._body["things"] = [{**i, "parsed": next(reads)} for i in resp._body["things"]]
            return resp

    session = Live([{"id": i} for i in range(250)], ignore_offset=True)
    assert list_all(session, "/things", "things").problem == ""  # whole items differ: not seen without ids...
    listing = list_all(Live([{"id": i} for i in range(250)], ignore_offset=True), "/things", "things", ident="id")
    assert listing.problem == "offset ignored: page at offset 100 repeats the page at offset 0"


def test_an_absurd_total_stops_at_the_budget():
    """Every page is full and new, total_entries says a billion: the request budget ends it."""
    session = FakeSession([], total=lambda n: 10**9)
    session.items = _Endless()
    listing = _listing(session, max_pages=7)
    assert listing.pages == 7 and len(session.calls) == 7 and len(listing.items) == 700
    assert listing.problem.startswith("GET /things: gave up after 7 pages")


def test_an_absurd_total_with_empty_pages_ends_at_the_first_empty_page():
    session = FakeSession([{"id": i} for i in range(30)], total=lambda n: 10**9)
    listing = _listing(session)
    assert len(listing.items) == 30 and listing.pages == 2 and not listing.problem


def test_empty_collection_is_one_request():
    session = FakeSession([])
    listing = _listing(session)
    assert listing.items == [] and listing.total == 0 and listing.pages == 1 and not listing.problem


def test_stop_predicate_ends_early_without_a_problem():
    session = FakeSession([{"id": i} for i in range(500)])
    listing = _listing(session, stop=lambda page: any(i["id"] == 150 for i in page))
    assert listing.pages == 2 and not listing.problem


def test_an_error_answer_ends_with_the_response_kept():
    class Failing(FakeSession):
        def call(self, method: str, path: str, params: dict | None = None, **kwargs: Any) -> FakeResponse:
            super().call(method, path, params=params)
            return (
                FakeResponse(503, {"detail": "down"})
                if len(self.calls) == 2
                else FakeResponse(200, {"things": [{"id": len(self.calls)}] * 100, "total_entries": 300})
            )

    listing = _listing(Failing([]))
    assert listing.problem == "GET /things offset=100 answered HTTP 503"
    assert listing.response.status_code == 503 and len(listing.items) == 100


def test_a_body_that_is_not_json_ends_with_a_problem():
    class NotJson(FakeSession):
        def call(self, method: str, path: str, params: dict | None = None, **kwargs: Any) -> FakeResponse:
            return FakeResponse(200, ValueError("not json"))

    listing = _listing(NotJson([]))
    assert "not JSON" in listing.problem and listing.pages == 1


class _Endless(list):
    """A list whose every slice is a full page of new items (a server that never runs out)."""

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [{"id": i} for i in range(index.start, index.stop)]
        return {"id": index}


def test_cleanup_reports_a_server_ignoring_offset_as_a_problem():
    """Cleanup's sweep ends on such a server and says so (finish() returns problem strings)."""
    from conformance.safety.cleanup import sweep  # noqa: PLC0415

    class AnyCollection(FakeSession):
        def call(self, method: str, path: str, params: dict | None = None, **kwargs: Any) -> FakeResponse:
            self.key = path.rsplit("/", 1)[-1].replace("dagRuns", "dag_runs")
            return super().call(method, path, params=params)

    session = AnyCollection(
        [
            {"key": f"other_{i}", "name": f"other_{i}", "connection_id": f"other_{i}", "dag_run_id": f"other_{i}"}
            for i in range(250)
        ],
        ignore_offset=True,
    )
    found, problems = sweep(session, "acf_test_", ["conformance_probe"])
    assert found == [] and len(problems) == 4 and len(session.calls) == 8
    assert (
        problems[0]
        == "listing /variables for leftovers: offset ignored: page at offset 100 repeats the page at offset 0"
    )
