"""The smallest PEP 440 specifier set that selects exactly a given set of releases.

`deviations range` prints it so that fixing a deviation's `versions:` after a sweep is a
copy-paste. The data's ranges are written in the project's style (`>=3.0,<3.4`, `<3`), always with an upper bound:
bounds on a minor or a major rather than on a patch, because the suite supports one
release per minor and a bound on a patch would read as if the next patch were known.
"""

from __future__ import annotations

from packaging.specifiers import SpecifierSet
from packaging.version import Version


def suggest(occurs: set[str] | list[str], releases: list[str]) -> str | None:
    """The fewest clauses that select, among `releases` (and the releases in `occurs`), exactly `occurs`.

    An interval (a lower bound only when a release below must be left out, an upper bound only
    when one above must) with `!=X.Y.*` holes for the releases inside it that must be left out.
    None when `occurs` is empty: no range says "never"; the entry is then stale.
    """
    wanted = sorted({Version(r) for r in occurs})
    if not wanted:
        return None
    universe = sorted({Version(r) for r in releases} | set(wanted))
    left_out = [v for v in universe if v not in wanted]
    low, high = wanted[0], wanted[-1]
    clauses = []
    below = [v for v in left_out if v < low]
    if below:
        clauses.append(">=" + _lower_bound(max(below), low))
    above = [v for v in left_out if v > high]
    # always an upper bound (lint asks for one): the next minor after the newest release where it occurs, so
    # a release nobody has replayed on yet is never excused in advance
    clauses.append("<" + (_upper_bound(high, min(above)) if above else f"{high.major}.{high.minor + 1}"))
    clauses += [f"!={_hole(v, wanted)}" for v in left_out if low < v < high]
    text = ",".join(clauses)
    assert selects(text, universe) == wanted, (text, wanted)  # the suggestion is exact or it is a bug
    return text


def selects(specifier: str, releases) -> list[Version]:
    """The releases a specifier set selects, in version order."""
    spec = SpecifierSet(specifier, prereleases=True)
    return sorted(v for v in (Version(str(r)) for r in releases) if v in spec)


def _lower_bound(excluded: Version, low: Version) -> str:
    """The roundest version above `excluded` and at most `low`: `3.0`, else `3.2`, else the release itself."""
    for text in (f"{low.major}.0", f"{low.major}.{low.minor}", str(low)):
        if excluded < Version(text) <= low:
            return text
    return str(low)


def _upper_bound(high: Version, excluded: Version) -> str:
    """The roundest version above `high` and at most `excluded`: `3` (the next major), else `3.4`, else it."""
    for text in (f"{high.major + 1}", f"{high.major}.{high.minor + 1}", str(excluded)):
        if high < Version(text) <= excluded:
            return text
    return str(excluded)


def _hole(excluded: Version, wanted: list[Version]) -> str:
    """`3.2.*` for a minor none of the wanted releases shares, else the release itself."""
    if any((v.major, v.minor) == (excluded.major, excluded.minor) for v in wanted):
        return str(excluded)
    return f"{excluded.major}.{excluded.minor}.*"
