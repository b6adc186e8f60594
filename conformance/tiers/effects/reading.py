"""How the effects tier reads a list and compares what it holds.

Values are compared as the server's database compares them: numbers as
numbers, timestamps as instants, strings byte by byte only where the target's
database is known to do so (SQLite). On another or an unknown database a
string comparison is judged only between values every collation orders alike
(lowercase letters and digits), so a PostgreSQL locale can never fail a check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import requests

from conformance.specs.effects import SCALAR_ITEM

COLLATION_SAFE = re.compile(r"^[a-z0-9]*$")
FRACTION_TIE_S = 0.001  # the resolution of SQLite's date arithmetic, which orders computed durations


@dataclass
class Page:
    """One answer of a list operation: its items (None when it is not a list answer) and total."""

    resp: requests.Response
    items: list[dict] | None
    total: int | None


def read(api, path: str, key: str, params: dict, *, by_body: bool = False) -> Page:
    """A list read: GET with `params` as the query, or (`by_body`) a POST list operation with them as its JSON body."""
    resp = api.call("POST", path, json=params) if by_body else api.call("GET", path, params=params)
    items = total = None
    if resp.status_code == 200:
        try:
            body = resp.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get(key), list):
            items = [i if isinstance(i, dict) else {SCALAR_ITEM: i} for i in body[key]]
            total = body.get("total_entries") if isinstance(body.get("total_entries"), int) else None
    return Page(resp, items, total)


def instant(value: Any) -> datetime | None:
    """An ISO timestamp as an aware datetime (naive ones read as UTC, as Airflow stores them)."""
    if not isinstance(value, str) or len(value) < 10 or value[4:5] != "-":
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def sort_key(value: Any, byte_order: bool) -> tuple | None:
    """A key that orders values as the database does, or None where the order is the database's own business."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return (0, value)
    when = instant(value)
    if when is not None:
        return (1, when)
    if isinstance(value, str) and (byte_order or COLLATION_SAFE.match(value)):
        return (2, value.encode())
    return None


def out_of_order(values: list[Any], descending: bool, byte_order: bool) -> tuple[Any, Any] | None:
    """The first pair of comparable neighbours in the wrong order (values without a safe key are passed over).

    Fractional numbers closer than FRACTION_TIE_S are ties: a value the server computes in the database (a DAG
    run's `duration` in 3.x) is ordered by the database's own arithmetic, and SQLite's date functions keep
    milliseconds only, so runs 0.2 ms apart can come back in either order while the answer shows microseconds.
    """
    keyed = [(v, k) for v in values if (k := sort_key(v, byte_order)) is not None]
    for (a, ka), (b, kb) in zip(keyed, keyed[1:]):
        if ka[0] != kb[0]:
            continue
        if ka[0] == 0 and (isinstance(a, float) or isinstance(b, float)) and abs(a - b) < FRACTION_TIE_S:
            continue
        if (ka > kb) if not descending else (ka < kb):
            return a, b
    return None


def scalars(value: Any) -> list[Any]:
    """A field's value as the list of scalars a filter compares (tags are objects with a name)."""
    if isinstance(value, list):
        return [v.get("name") if isinstance(v, dict) else v for v in value]
    if isinstance(value, dict):
        return [value.get("name")] if "name" in value else []
    return [value]


def as_query(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
