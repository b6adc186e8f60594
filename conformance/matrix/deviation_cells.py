"""A deviation's cell in the matrix: what its replay and the run said about it on one release.

The markdown grid, the page and `deviations range` read a cell the same way, so the
words (`occurs n/m`, `stale`, `absent`) mean one thing wherever they appear.
"""

from __future__ import annotations


def deviation_short(cell: dict) -> str:
    """The head of a cell: `occurs 3/3`, `stale 0/2`, `absent 0/2` (replayed outside its range), `not replayed`."""
    tried = len(cell["occurs"]) + len(cell["absent"])
    stale = "absent" if cell.get("in_range") is False else "stale"
    return (
        f"occurs {len(cell['occurs'])}/{tried}"
        if cell["occurs"]
        else (f"{stale} 0/{tried}" if tried else "not replayed")
    )


def _outside(cell: dict) -> bool:
    """Reproduced on a release its recorded range leaves out: the range is too narrow."""
    return cell.get("in_range") is False and bool(cell["occurs"])


def deviation_notes(cell: dict) -> list[str]:
    """What a cell adds to its head: reproduced outside the recorded range, excused by the run on k operations."""
    return (["outside its range"] if _outside(cell) else []) + (
        [f"excused {len(cell['excused'])}"] if cell["excused"] else []
    )


def deviation_cell(cell: dict | None) -> str:
    """`occurs 3/3` (reproduced), `stale 0/2` (recorded but not reproduced), `·` (not for this release)."""
    if not cell:
        return "·"
    text = deviation_short(cell) + (" (outside its range)" if _outside(cell) else "")
    return text + (f", excused {len(cell['excused'])}" if cell["excused"] else "")


def deviation_status(cell: dict) -> str:
    """`known_deviation` where the replay reproduced it, `stale` where it was tried and never occurred."""
    if cell["occurs"] or cell["excused"]:
        return "known_deviation"
    return "stale" if cell["absent"] and cell.get("in_range") is not False else "skipped"


def deviation_lines(cell: dict) -> list[str]:
    """What a deviation cell opens to: the operations per outcome."""
    names = (
        ("occurs", "occurs on"),
        ("absent", "does not occur on"),
        ("not_replayed", "not replayed on"),
        ("excused", "excused by the run on"),
    )
    return [f"{text}: {', '.join(cell[key])}" for key, text in names if cell.get(key)]
