"""Matrix columns of local targets on another metadata database: their labels and run folders.

A SQLite column is named by its release ("2.10.5") as it always was; a PostgreSQL column is
"2.10.5 · PostgreSQL" and its run lives in runs/2.10.5-postgres/, so a PostgreSQL matrix in a
report folder adds columns beside the SQLite ones instead of replacing them.
"""

from __future__ import annotations

from packaging.version import InvalidVersion, Version

LABELS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
_SEP = " · "


def column_label(version: str, database: str = "sqlite") -> str:
    """ "2.10.5" (SQLite, the default) or "2.10.5 · PostgreSQL"."""
    return version if database == "sqlite" else f"{version}{_SEP}{LABELS.get(database, database)}"


def split_label(label: str) -> tuple[str, str]:
    """The (release, database) of a column label; a label without a database is SQLite."""
    version, _, name = label.partition(_SEP)
    database = next((key for key, text in LABELS.items() if text == name), "sqlite") if name else "sqlite"
    return version, database


def run_dir_name(label: str) -> str:
    """runs/<this>/ of a column: "2.10.5", "2.10.5-postgres"; a URL column made safe for a folder name."""
    version, database = split_label(label)
    name = version if database == "sqlite" else f"{version}-{database}"
    return name.replace("/", "_").replace(":", "_")


def label_of_dir(name: str, version: str | None = None) -> str:
    """The column label of a runs/<name>/ folder (the release from its results when known)."""
    for database in LABELS:
        if database != "sqlite" and name.endswith(f"-{database}"):
            return column_label(version or name[: -len(database) - 1], database)
    return version or name


def sort_key(label: str) -> tuple:
    """Releases in version order, each release's SQLite column before its PostgreSQL one; others last."""
    version, database = split_label(label)
    try:
        return (0, Version(version), list(LABELS).index(database) if database in LABELS else 9)
    except InvalidVersion:
        return (1, label)


def change_pairs(labels: list[str]) -> list[tuple[str, str]]:
    """The pairs the matrix's change view compares: each release with the next, and each other-database column
    with its own release's SQLite column ("2.10.5" -> "2.10.5 · PostgreSQL"), never chained between releases.

    An upgrade is from one release to the next on the same database, and the question a PostgreSQL column
    answers is "does the database change anything", so "2.10.5 · PostgreSQL -> 2.11.2" would answer neither.
    """
    releases = [label for label in labels if split_label(label)[1] == "sqlite"]
    pairs = list(zip(releases, releases[1:]))
    pairs += [
        (split_label(label)[0], label)
        for label in labels
        if split_label(label)[1] != "sqlite" and split_label(label)[0] in releases
    ]
    return sorted(pairs, key=lambda pair: (sort_key(pair[0]), sort_key(pair[1])))
