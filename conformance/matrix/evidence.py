"""What the matrix's replays say about each deviation's version range (`deviations range`, `deviations lint`).

The rule: a deviation's releases are exactly the releases where its replay occurs. The
matrix replays every entry on every column (`deviations verify --every-entry`) and
records, per deviation and column, the operations where it occurred, did not occur, or
was not replayed (compatibility.json `deviations`). Here each column is decided for an
entry and compared with the entry's current `versions:` (and `backend:`), so a range
that is too narrow or too wide shows, with the range the evidence asks for.

A column decides an entry when the replay ran: `occurs` on some operation, or `does not
occur` on all it tried (not for an intermittent entry: one miss proves nothing). An
entry whose operations the release does not have cannot occur there, but that is not
a disagreement with a range that names the release (the range says nothing wrong about
answers that cannot happen). Columns without a replay of the entry are `no evidence`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from conformance.errors import ConfigError
from conformance.expectations.deviations import Deviation
from conformance.matrix import databases, specifiers

OCCURS, ABSENT, NO_OPERATION, UNDECIDED = "occurs", "does not occur", "operation absent", "no evidence"
DECIDED = (OCCURS, ABSENT)
_NO_OPERATION_MARK = "-"  # replay.verify's operation for "no listed operation exists in this release's spec"


@dataclass(frozen=True)
class Column:
    """One matrix column as evidence for one entry."""

    label: str  # "3.3.2" or "3.3.2 · PostgreSQL"
    release: str
    database: str
    outcome: str  # OCCURS | ABSENT | NO_OPERATION | UNDECIDED
    why: str = ""  # for UNDECIDED: why the column does not decide


@dataclass(frozen=True)
class EntryEvidence:
    """An entry, the columns' outcomes for it, and whether its data range agrees with them."""

    deviation: Deviation
    columns: tuple[Column, ...]

    def in_range(self, col: Column) -> bool:
        """Whether the entry's data (range and backend) names this column."""
        try:
            return self.deviation.applies_to(Version(col.release), col.database)
        except InvalidVersion:
            return False

    def where(self, *outcomes: str) -> list[Column]:
        return [c for c in self.columns if c.outcome in outcomes]

    def too_narrow(self) -> list[Column]:
        """Columns where it occurs although the data leaves them out."""
        return [c for c in self.where(OCCURS) if not self.in_range(c)]

    def too_wide(self) -> list[Column]:
        """Columns the data names where the replay ran and it did not occur."""
        return [c for c in self.where(ABSENT) if self.in_range(c)]

    @property
    def agrees(self) -> bool:
        return not self.too_narrow() and not self.too_wide()

    def occurring_releases(self) -> set[str]:
        """Releases where it occurs, on the entry's backend when it names one."""
        return {
            c.release for c in self.where(OCCURS) if not self.deviation.backend or c.database == self.deviation.backend
        }

    def suggested(self, releases: list[str]) -> str | None:
        """The smallest specifier set selecting, among `releases`, exactly those where it occurs."""
        return specifiers.suggest(self.occurring_releases(), releases)

    def suggested_backend(self) -> str:
        """The backend to name when it occurs on one database only and a release's other database has it absent."""
        occurs = self.where(OCCURS)
        backends = {c.database for c in occurs}
        if self.deviation.backend or len(backends) != 1:
            return ""
        releases = {c.release for c in occurs}
        other = [c for c in self.where(ABSENT) if c.release in releases and c.database not in backends]
        return backends.pop() if other else ""

    def disagreement(self) -> str:
        """`data says >=3.3,<3.4 but it occurs on 3.2.2; does not occur on ...` ("" when it agrees)."""
        parts = []
        if self.too_narrow():
            parts.append("it occurs on " + ", ".join(c.label for c in self.too_narrow()))
        if self.too_wide():
            parts.append("it does not occur on " + ", ".join(c.label for c in self.too_wide()))
        backend = f" (backend {self.deviation.backend})" if self.deviation.backend else ""
        return f"data says {self.deviation.versions}{backend} but " + "; ".join(parts) if parts else ""


def load(matrix_file: Path) -> dict:
    """compatibility.json, or ConfigError saying how to make one."""
    try:
        return json.loads(Path(matrix_file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot read the matrix {matrix_file} ({exc.__class__.__name__}); "
            "`airflow-conformance matrix --rebuild` renders it from reports/runs/"
        ) from exc


def columns_of(doc: dict) -> list[str]:
    """The matrix's column labels, in its order."""
    return [row["version"] for row in doc.get("versions", [])]


def of(dev: Deviation, doc: dict) -> EntryEvidence:
    """The evidence the matrix holds for one entry, a Column per matrix column."""
    cells = (doc.get("deviations") or {}).get(dev.id, {})
    return EntryEvidence(dev, tuple(_column(label, cells.get(label), dev) for label in columns_of(doc)))


def _column(label: str, cell: dict | None, dev: Deviation) -> Column:
    release, database = databases.split_label(label)
    if not cell or not (cell.get("occurs") or cell.get("absent") or cell.get("not_replayed")):
        return Column(label, release, database, UNDECIDED, "no replay of the entry there")
    if cell.get("occurs"):
        return Column(label, release, database, OCCURS)
    if cell.get("absent"):
        if dev.intermittent:
            return Column(label, release, database, UNDECIDED, "intermittent, and not reproduced once")
        return Column(label, release, database, ABSENT)
    if set(cell["not_replayed"]) == {_NO_OPERATION_MARK}:
        return Column(label, release, database, NO_OPERATION)
    return Column(label, release, database, UNDECIDED, "not replayed")


def disagreeing(devs: list[Deviation], doc: dict) -> list[EntryEvidence]:
    """The entries whose data range disagrees with the columns that decided them (lint and `range` exit 1)."""
    return [e for e in (of(d, doc) for d in devs) if not e.agrees]
