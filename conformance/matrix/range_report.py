"""The words of `deviations range`: per entry, where its replay occurs, where not, the data's range and the verdict.

api-undocumented-400-order-by
  occurs on 3.0.6…3.3.2 · PostgreSQL (6 columns); not on 2.x (13 columns: operation absent)
  data: >=3.3,<3.4
  DISAGREES: data says >=3.3,<3.4 but it occurs on 3.0.6, 3.1.8, 3.2.2
  suggested: >=3.0
"""

from __future__ import annotations

from collections import Counter

from conformance.matrix import databases
from conformance.matrix.evidence import ABSENT, NO_OPERATION, OCCURS, UNDECIDED, Column, EntryEvidence


def span(labels: list[str], order: list[str]) -> str:
    """`2.x` (every column of a major), `3.0.6…3.3.2` (consecutive columns), else the labels listed."""
    if not labels:
        return "-"
    majors = {databases.split_label(label)[0].split(".")[0] for label in labels}
    if len(majors) == 1:
        major = majors.pop()
        if set(labels) == {c for c in order if databases.split_label(c)[0].split(".")[0] == major}:
            return f"{major}.x"
    at = sorted(order.index(label) for label in labels)
    runs: list[list[int]] = []
    for i in at:  # consecutive columns as one run: `2.0.2…2.4.3`; a run of one or two is listed
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return ", ".join(f"{order[r[0]]}…{order[r[-1]]}" if len(r) > 2 else ", ".join(order[i] for i in r) for r in runs)


def _count(cols: list[Column], order: list[str], reasons: bool) -> str:
    text = f"{span([c.label for c in cols], order)} ({len(cols)} column{'s' if len(cols) != 1 else ''}"
    if reasons:
        tally = Counter(c.outcome if c.outcome != UNDECIDED else c.why for c in cols)
        text += ": " + ", ".join(why if n == len(cols) else f"{n} {why}" for why, n in tally.items())
    return text + ")"


def lines(entry: EntryEvidence, order: list[str], releases: list[str]) -> list[str]:
    """The block printed for one entry (its id, the evidence, the data's range, the verdict, the suggestion)."""
    occurs, nots = entry.where(OCCURS), entry.where(ABSENT, NO_OPERATION)
    unknown = entry.where(UNDECIDED)
    seen = f"occurs on {_count(occurs, order, False)}" if occurs else "occurs on no column"
    seen += f"; not on {_count(nots, order, True)}" if nots else ""
    dev = entry.deviation
    out = [dev.id, f"  {seen}", f"  data: {dev.versions}" + (f" (backend {dev.backend})" if dev.backend else "")]
    out.append(f"  DISAGREES: {entry.disagreement()}" if not entry.agrees else "  agrees")
    if unknown:
        out.append(f"  no evidence on: {_count(unknown, order, True)}")
    suggestion = entry.suggested(releases)
    backend = entry.suggested_backend()
    out.append(
        f"  suggested: {suggestion}" + (f" with backend: {backend}" if backend else "")
        if suggestion
        else "  suggested: none (it occurs on no release: stale)"
    )
    return out
