"""Upgrade pages for pairs of matrix columns: one function for any pair, and the set `matrix` publishes.

The compatibility page's FROM → TO picker links to `upgrade/<FROM>-to-<TO>.html` (relative to the report
folder) and shows the command `airflow-conformance upgrade FROM TO` where that file is missing, so the
published set only has to cover the pairs people plan most: each release to the next, every 2.x minor's
release to the newest 3.x, the newest 2.x to each 3.x, and each PostgreSQL column to the next one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from packaging.version import InvalidVersion, Version

from conformance.errors import ConformanceError
from conformance.matrix import compare, upgrade, upgrade_report
from conformance.matrix.databases import run_dir_name

FOLDER = "upgrade"


def matrix_clients(matrix_dir: Path) -> dict:
    """The client table of the published matrix (compatibility.json), {} without one."""
    path = matrix_dir / "compatibility.json"
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("clients") or {}
    except (OSError, ValueError, AttributeError):
        return {}


def from_matrix(ref: str, matrix_dir: Path) -> bool:
    """Whether `ref` names a matrix column (a release, minor or run folder under matrix_dir/runs/), not a path."""
    release = compare.matrix_release(ref, matrix_dir) or ref
    return (matrix_dir / "runs" / release / "results.json").is_file() and not Path(ref).exists()


def document(from_ref: str, to_ref: str, matrix_dir: Path, uses: set[str] | None = None) -> dict:
    """The upgrade document of any pair: releases, minors, run folders of the matrix, or results.json paths.

    The official clients' row comes from the matrix's client table when TO is a matrix column, else from
    TO's own run."""
    a, b = compare.load_side(from_ref, matrix_dir), compare.load_side(to_ref, matrix_dir)
    table = matrix_clients(matrix_dir) if from_matrix(to_ref, matrix_dir) else None
    return upgrade.build(a, b, table, uses)


def render_pair(from_ref: str, to_ref: str, matrix_dir: Path) -> str:
    """The upgrade page (HTML) of two matrix columns."""
    return upgrade_report.render_html(document(from_ref, to_ref, matrix_dir))


def _release(folder: str) -> Version | None:
    try:
        return Version(folder)
    except InvalidVersion:
        return None


def published_pairs(folders: list[str]) -> list[tuple[str, str]]:
    """The (FROM, TO) run folders `matrix` publishes pages for, given the run folders it has."""
    plain = sorted((v, f) for f in folders if (v := _release(f)) is not None)
    # other databases' columns ("2.10.5-postgres"): paired with the next column of the same database
    others = sorted(
        (f for f in folders if _release(f) is None and _release(f.rsplit("-", 1)[0])),
        key=lambda f: Version(f.rsplit("-", 1)[0]),
    )
    pairs = [(a, b) for (_, a), (_, b) in zip(plain, plain[1:])]
    twos = [(v, f) for v, f in plain if v.major == 2]
    threes = [(v, f) for v, f in plain if v.major == 3]
    if twos and threes:
        newest_by_minor = {(v.major, v.minor): f for v, f in twos}  # ascending, so the last of a minor wins
        pairs += [(f, threes[-1][1]) for f in newest_by_minor.values()]
        pairs += [(twos[-1][1], f) for _, f in threes]
    for a, b in zip(others, others[1:]):
        if a.rsplit("-", 1)[1] == b.rsplit("-", 1)[1]:  # the same database: an upgrade on PostgreSQL
            pairs.append((a, b))
    return list(dict.fromkeys(pairs))


def publish(matrix_dir: Path, say: Callable[[str], None] = lambda _m: None) -> list[Path]:
    """Write `upgrade/<FROM>-to-<TO>.html` for every published pair of the runs under matrix_dir/runs/."""
    folders = [p.parent.name for p in sorted((matrix_dir / "runs").glob("*/results.json"))]
    written = []
    for a, b in published_pairs(folders):
        try:
            doc = document(a, b, matrix_dir)
        except ConformanceError as exc:  # one pair that cannot be built leaves the others
            say(f"upgrade {a} -> {b}: {exc}")
            continue
        written += upgrade_report.write(doc, matrix_dir / FOLDER, ("html",))
    return written


def page_name(from_label: str, to_label: str) -> str:
    """`upgrade/<FROM>-to-<TO>.html` for two column labels (what the compatibility page links to)."""
    return f"{FOLDER}/{run_dir_name(from_label)}-to-{run_dir_name(to_label)}.html"
