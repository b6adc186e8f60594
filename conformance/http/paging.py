"""Listing every page of a collection, bounded whatever the server does.

Every place that walks a whole collection (scenarios, cleanup) uses `list_all`
so that no loop trusts the server to end it: a server that ignores `offset`
(every page is the first page), claims an absurd `total_entries`, or keeps
answering full pages would otherwise hang a run or a cleanup. The loop stops

- when a page is empty, or `offset` has reached the latest `total_entries`;
- when a page repeats the previous page's items (the server ignores `offset`);
- when the request budget (`max_pages`) is spent;
- when an answer is not a 200 JSON page.

Abnormal ends are not raised: the result carries a `problem` string, so a
scenario can state it as a contract violation and cleanup can report it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

MAX_PAGES = 100  # request budget of one listing: 10,000 items at the usual page size of 100


class Session(Protocol):
    """What the helper needs of a session: `call(method, path, params=...)` (ApiSession has it)."""

    def call(self, method: str, rel: str, **kwargs: Any) -> Any: ...


@dataclass
class Listing:
    """What paging through a collection gave.

    `totals` holds the `total_entries` of each page in order, so a caller can
    tell a collection that changed while it was read (totals differ) from one
    that was read in a stable state. `response` is set only when the listing
    ended on an answer that was not a 200 JSON page (to be judged by status).
    """

    items: list = field(default_factory=list)
    total: int | None = None  # the last total_entries seen
    pages: int = 0  # requests sent
    problem: str = ""  # why the listing ended abnormally ("" when it ended normally)
    totals: list[int] = field(default_factory=list)
    response: Any = None

    @property
    def settled(self) -> bool:
        """Every page reported the same total_entries (nothing was added or removed while paging)."""
        return len(set(self.totals)) <= 1


def _total(body: dict) -> int | None:
    value = body.get("total_entries")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _page_of(resp: Any, path: str, key: str, offset: int) -> tuple[list, int | None, str]:
    """The items and total of one answer, or a problem (and no items) when it is not a usable page."""
    if resp.status_code != 200:
        return [], None, f"GET {path} offset={offset} answered HTTP {resp.status_code}"
    try:
        body = resp.json()
    except ValueError:
        return [], None, f"GET {path} offset={offset} answered a body that is not JSON"
    page = body.get(key) if isinstance(body, dict) else None
    if not isinstance(page, list):
        return [], None, f"GET {path} offset={offset} answered without a `{key}` list"
    return page, _total(body), ""


def _identities(page: list, ident: str | None) -> list:
    """What makes a page "the same page": the items' ids when known, else the items themselves.

    Ids matter on a live deployment: a DAG's `last_parsed_time` changes between
    two reads, so whole items of the same page differ while their ids do not.
    """
    if ident is None:
        return page
    return [item.get(ident) if isinstance(item, dict) else item for item in page]


def list_all(
    session: Session,
    path: str,
    key: str,
    *,
    ident: str | None = None,
    page_size: int = 100,
    params: dict | None = None,
    max_pages: int = MAX_PAGES,
    stop: Callable[[list], bool] | None = None,
) -> Listing:
    """Every item of `path` (items under `key`, identified by field `ident`), page by page, bounded.

    See the module docstring for when it stops. `offset` advances by the number
    of items received, so a server that clamps `limit` below `page_size` is
    still read completely. `stop(page)` returning True ends the listing early
    without a problem (e.g. the item sought is found).
    """
    out = Listing()
    offset, previous, previous_offset = 0, None, 0
    while True:
        if out.pages >= max_pages:
            out.problem = (
                f"GET {path}: gave up after {out.pages} pages ({len(out.items)} items, total_entries says {out.total})"
            )
            return out
        resp = session.call("GET", path, params={**(params or {}), "limit": page_size, "offset": offset})
        out.pages += 1
        page, total, problem = _page_of(resp, path, key, offset)
        if problem:
            out.problem, out.response = problem, resp
            return out
        if total is not None:
            out.total = total
            out.totals.append(total)
        if page and _identities(page, ident) == previous:
            out.problem = f"offset ignored: page at offset {offset} repeats the page at offset {previous_offset}"
            return out
        out.items += page
        if not page or (stop is not None and stop(page)):
            return out
        if out.total is None and len(page) < page_size:
            return out  # no total to go by: a short page is the last one
        previous, previous_offset, offset = _identities(page, ident), offset, offset + len(page)
        if out.total is not None and offset >= out.total:
            return out
