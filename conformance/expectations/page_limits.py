"""The page limits a target serves with, and the page sizes they imply.

Airflow's `[api] maximum_page_limit` and `[api] fallback_page_limit` decide how
many items a list returns; a deployment may set them. The paging checks must
judge a target against the limits it really runs with: a local target records
the ones the suite configured, a user states them for a remote target
(`--page-limits MAX,FALLBACK`), and otherwise Airflow's documented defaults for
the release apply (`page_limits` in expectations.yaml, keyed by version range).

Expected page sizes are data too: a list of terms, integers or the names
`maximum` / `fallback`, whose minimum is the page size (2.x without `limit`:
the spec's default 100 clamped by the maximum, `[100, maximum]`).
"""

from __future__ import annotations

from dataclasses import dataclass

NAMES = ("maximum", "fallback")


@dataclass(frozen=True)
class PageLimits:
    """`[api] maximum_page_limit` and `[api] fallback_page_limit`, and where the values come from."""

    maximum: int
    fallback: int
    source: str = "Airflow's documented defaults"

    def as_dict(self) -> dict:
        return {"maximum": self.maximum, "fallback": self.fallback, "source": self.source}


def parse(text: str, source: str = "--page-limits") -> PageLimits:
    """`"25,10"` -> PageLimits(25, 10); ValueError with a message a person can act on."""
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ValueError(f"expected MAX,FALLBACK as two positive integers (e.g. 100,100), got {text!r}")
    return PageLimits(int(parts[0]), int(parts[1]), source)


def from_record(data: object, source: str) -> PageLimits | None:
    """PageLimits from a recorded {"maximum", "fallback"} (a local target's state); None when absent or malformed."""
    if not isinstance(data, dict):
        return None
    maximum, fallback = data.get("maximum"), data.get("fallback")
    if isinstance(maximum, int) and isinstance(fallback, int) and maximum > 0 and fallback > 0:
        return PageLimits(maximum, fallback, source)
    return None


def page_size(terms, limits: PageLimits) -> int:
    """The smallest of the terms, names resolved against the limits: `[100, "maximum"]` with maximum 25 -> 25."""
    if not isinstance(terms, (list, tuple)) or not terms:
        raise ValueError(f"a page size is a non-empty list of integers and {'/'.join(NAMES)}, not {terms!r}")
    values = []
    for term in terms:
        if isinstance(term, bool) or not (isinstance(term, int) or term in NAMES):
            raise ValueError(f"unknown page size term {term!r} (integers, {', '.join(NAMES)})")
        values.append(getattr(limits, term) if isinstance(term, str) else term)
    return min(values)
