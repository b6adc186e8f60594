"""A deviation's upstream report from a published matrix: where it occurred and the recorded requests.

The matrix keys its `deviations` section by column label ("3.3.2", "3.3.2 ·
PostgreSQL"), and each column's evidence lives in `runs/<column folder>/` next
to compatibility.json: `deviations.json` (the replays, each with its redacted
`curl` when it was recorded, and the negative controls' replays marked `control`) and `results.json` (a run's
results, whose `reproduce` curl is this deviation's when the result was excused
by it alone). Labels are parsed by conformance.matrix.databases, as the matrix
made them; the text is written by conformance.reporting.upstream_issue.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from conformance.errors import ConfigError, ConformanceError
from conformance.expectations.deviations import Deviation
from conformance.matrix import databases
from conformance.model.status import Status
from conformance.reporting.upstream_issue import Evidence, Recorded, draft
from conformance.specs import catalog
from conformance.specs.documented import Documented, documented

OCCURRED = ("occurs", "excused")  # a replay reproduced it, or the run excused a failure as it


def read_matrix(matrix_file: Path) -> dict | None:
    """The matrix document; None when there is none (a report then falls back to the data's range)."""
    if not matrix_file.is_file():
        return None
    try:
        return json.loads(matrix_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{matrix_file} is not a compatibility.json ({exc.__class__.__name__})") from None


def gather(dev: Deviation, matrix: dict | None, matrix_file: Path) -> Evidence:
    """Where the matrix saw `dev` (column labels, release then database) and a recorded reproduction of it."""
    cells = ((matrix or {}).get("deviations") or {}).get(dev.id) or {}
    seen = sorted(
        (label for label, cell in cells.items() if any(cell.get(k) for k in OCCURRED)), key=databases.sort_key
    )
    if not seen:
        return Evidence(
            _in_range(dev),
            "the releases of the data's range: "
            + (f"{matrix_file.name} never saw it" if matrix is not None else f"no matrix at {matrix_file}"),
        )
    runs = matrix_file.parent / "runs"
    occurs_on = list(dict.fromkeys(op for label in seen for op in cells[label].get("occurs") or []))
    curl, controls = None, []
    for label in _preferred(seen, dev.backend):
        replays = [
            r
            for r in _read_list(runs / databases.run_dir_name(label) / "deviations.json")
            if isinstance(r, dict) and r.get("id") == dev.id
        ]
        controls += _controls(replays, label, runs)
        curl = curl or _replayed_curl(replays, label, runs) or _excused_curl(dev, label, runs)
    return Evidence(tuple(seen), f"observed in {matrix_file.name}", tuple(occurs_on), curl, tuple(controls))


def _in_range(dev: Deviation) -> tuple[str, ...]:
    """The supported releases in the data's range (its database's column labels for a one-database defect)."""
    from conformance.local.versions import supported  # noqa: PLC0415

    versions = [v for v in supported() if Version(v) in SpecifierSet(dev.versions, prereleases=True)]
    return tuple(databases.column_label(v, dev.backend or "sqlite") for v in versions)


def _preferred(labels: list[str], backend: str) -> list[str]:
    """Columns to take the evidence from: newest release first; its SQLite column first unless `backend` says."""
    want = backend or "sqlite"
    ordered = sorted(labels, key=databases.sort_key)
    releases = list(dict.fromkeys(databases.split_label(label)[0] for label in ordered))[::-1]
    return [
        label
        for release in releases
        for label in sorted(
            (lb for lb in ordered if databases.split_label(lb)[0] == release),
            key=lambda lb: databases.split_label(lb)[1] != want,
        )
    ]


def _read_list(path: Path) -> list:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return data if isinstance(data, list) else []


def _relative(path: Path, runs: Path) -> str:
    return str(path.relative_to(runs.parent)) if path.is_relative_to(runs.parent) else str(path)


def _replayed_curl(replays: list[dict], label: str, runs: Path) -> Recorded | None:
    """The curl of a replay that reproduced the deviation (`deviations verify --json` records one per replay)."""
    hit = next((r for r in replays if r.get("verdict") == "occurs" and r.get("curl") and not r.get("control")), None)
    source = _relative(runs / databases.run_dir_name(label) / "deviations.json", runs)
    return (
        Recorded(label, str(hit.get("operation")), str(hit["curl"]), str(hit.get("detail") or ""), source)
        if hit
        else None
    )


def _excused_curl(dev: Deviation, label: str, runs: Path) -> Recorded | None:
    """The curl of a run result excused by this deviation alone (a result with others may show another's)."""
    path = runs / databases.run_dir_name(label) / "results.json"
    for result in _results(str(path)):
        devs = result.get("deviations") or []
        if (
            result.get("status") == Status.KNOWN_DEVIATION
            and result.get("reproduce")
            and [d.get("id") for d in devs] == [dev.id]
        ):
            operation = ((devs[0].get("operations") or result.get("operation_ids") or [result.get("id")]) or [""])[0]
            return Recorded(
                label,
                str(operation),
                str(result["reproduce"]),
                f"excused in the run's `{result.get('id')}`",
                _relative(path, runs),
            )
    return None


@functools.lru_cache(maxsize=32)
def _results(path: str) -> tuple:
    """A run's results (read once: a report of every deviation looks in the same few runs, a megabyte each)."""
    try:
        return tuple(json.loads(Path(path).read_text(encoding="utf-8")).get("results") or [])
    except (OSError, ValueError, AttributeError):
        return ()


def _controls(replays: list[dict], label: str, runs: Path) -> list[Recorded]:
    """The negative control's recorded outcomes: the replays `deviations verify --json` marks `control: true`."""
    source = _relative(runs / databases.run_dir_name(label) / "deviations.json", runs)
    return [
        Recorded(
            label,
            str(r.get("operation")),
            str(r.get("curl") or ""),
            ": ".join(str(r[k]) for k in ("verdict", "detail") if r.get(k)),
            source,
        )
        for r in replays
        if r.get("control")
    ]


def reference(dev: Deviation, evidence: Evidence) -> tuple[str, list[Documented]]:
    """The reference spec version of the release the report shows, and its operations the deviation names."""
    label = evidence.curl.column if evidence.curl else (evidence.releases[-1] if evidence.releases else "")
    version = databases.split_label(label)[0]
    try:
        spec_version = catalog.reference_version_for(version)
        spec = catalog.load_spec(spec_version)
    except ConformanceError:
        return "", []
    first = [evidence.curl.operation] if evidence.curl else []
    named = [str(r["operation"]) for r in dev.reproduce if r.get("operation")]
    ops = list(dict.fromkeys([*first, *named, *dev.operations]))
    return spec_version, [d for d in (documented(spec, op) for op in ops) if d is not None]


def report(dev: Deviation, matrix: dict | None, matrix_file: Path) -> tuple[str, Evidence]:
    """The Markdown report of `dev` and the evidence it was drafted from."""
    evidence = gather(dev, matrix, matrix_file)
    spec_version, docs = reference(dev, evidence)
    return draft(dev, evidence, spec_version, docs), evidence
