"""What a client moving from one Airflow release (or run) to another meets.

The question a platform team brings to an upgrade is "what changes for us",
and a spec diff answers only half of it: the contract on paper. The other half
is what the deployments did when the suite ran against them: checks whose
verdict changed, status codes an operation now answers that it never answered
before, and upstream deviations that appeared or went away. Both halves come
from artifacts the suite already writes (results.json of each run, the
reference specs), so comparing sends no request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import InvalidVersion, Version

from conformance.errors import ConfigError
from conformance.matrix import passes
from conformance.matrix.cells import clip

# worse first among decided statuses; `skipped` decides nothing, so a change from or to it is no regression
RANK = {"failed": 0, "error": 1, "known_deviation": 2, "passed": 3}


def is_regression(change: dict) -> bool:
    """A decided check that ended worse in the second run (passed -> known_deviation, -> failed, ...)."""
    before, after = RANK.get(change["from"]), RANK.get(change["to"])
    return before is not None and after is not None and after < before


@dataclass
class Side:
    """One run as compare reads it: where it came from and what it found."""

    label: str
    airflow_version: str
    reference_spec: str
    verdict: str
    results: dict[str, dict] = field(default_factory=dict)  # result id -> result
    operations: dict[str, dict] = field(default_factory=dict)  # operationId -> row of results.json
    deviations: set[str] = field(default_factory=set)  # known deviations that excused a failure of this run
    target: dict = field(default_factory=dict)  # the run's target: url, airflow_version, api, auth
    clients: dict = field(default_factory=dict)  # the official clients' reading of the run's answers


def load_side(ref: str, matrix_dir: Path) -> Side:
    """A results.json path, a report folder holding one, or a release of the matrix in `matrix_dir/runs/<V>/`
    (a minor, `2.10`, meaning the matrix's release of that minor).

    Where the folder holds second-pass runs (`auth-default/`, `disruptive/`), their cells are merged in, so a
    comparison of two matrix releases says what their matrix columns say.
    """
    path = find_results(ref, matrix_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        # a matrix run folder: the cells its second passes decided, merged as the matrix shows them
        return side_from_data(matrix_release(ref, matrix_dir) or ref, passes.merge_stored(data, path.parent))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{path} is not a results.json of this suite ({type(exc).__name__}: {exc})") from None


def find_results(ref: str, matrix_dir: Path) -> Path:
    """The results.json `ref` names (see load_side); ConfigError (exit 2) naming what was tried."""
    release = matrix_release(ref, matrix_dir) or ref
    candidates = [Path(ref), Path(ref) / "results.json", matrix_dir / "runs" / release / "results.json"]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        raise ConfigError(
            f"'{ref}' is neither a results.json, a report folder with one, "
            f"nor a release or minor with a run under {matrix_dir}/runs/"
        )
    return path


def matrix_release(ref: str, matrix_dir: Path) -> str | None:
    """The matrix's release of the minor `ref` (`2.10` -> `2.10.5`), the newest when several ran; None otherwise.

    Only a bare minor is resolved, and only to a SQLite column (a `-postgres` folder is named in full).
    """
    try:
        minor = Version(ref)
    except InvalidVersion:
        return None
    if len(minor.release) != 2 or not (matrix_dir / "runs").is_dir():
        return None
    found = []
    for folder in (matrix_dir / "runs").iterdir():
        try:
            version = Version(folder.name)
        except InvalidVersion:
            continue
        if version.release[:2] == minor.release and (folder / "results.json").is_file():
            found.append(version)
    return str(max(found)) if found else None


def side_from_data(label: str, data: dict) -> Side:
    """A run from the content of its results.json (KeyError/TypeError when it is not one)."""
    target = data["target"]
    results = {r["id"]: r for r in data["results"]}
    excused = {
        d["id"] for r in results.values() for d in r.get("deviations") or [] if isinstance(d, dict) and d.get("id")
    }
    return Side(
        label=label,
        airflow_version=str(target.get("airflow_version", "?")),
        reference_spec=str(data.get("reference_spec", "")),
        verdict=str(data.get("verdict", "")),
        results=results,
        operations=data.get("operations") or {},
        deviations=excused,
        target=dict(target),
        clients=data.get("clients") or {},
    )


def compare(a: Side, b: Side) -> dict:
    """The whole comparison as one JSON-serialisable document (what every rendering shows)."""
    return {
        "from": _describe(a),
        "to": _describe(b),
        "spec": spec_changes(a.reference_spec, b.reference_spec),
        "status_changes": status_changes(a, b),
        "checks_added": sorted(set(b.results) - set(a.results)),
        "checks_removed": sorted(set(a.results) - set(b.results)),
        "new_statuses": status_codes(a, b),
        "gone_statuses": status_codes(b, a),
        "deviations_appeared": sorted(b.deviations - a.deviations),
        "deviations_gone": sorted(a.deviations - b.deviations),
    }


def _describe(side: Side) -> dict:
    return {
        "label": side.label,
        "airflow_version": side.airflow_version,
        "reference_spec": side.reference_spec,
        "verdict": side.verdict,
    }


def spec_changes(spec_a: str, spec_b: str) -> dict:
    """Operations added, removed, renamed and changed between the two reference specs (empty when they are one)."""
    if not spec_a or not spec_b or spec_a == spec_b:
        return {"added": [], "removed": [], "renamed": [], "changed": {}}
    from conformance.specs import catalog, diff  # noqa: PLC0415

    d = diff.diff_specs(catalog.load_spec(spec_a), catalog.load_spec(spec_b))
    return {
        "added": [f"{o.method} {o.path} ({o.operation_id})" for o in d.operations_added],
        "removed": [f"{o.method} {o.path} ({o.operation_id})" for o in d.operations_removed],
        "renamed": [f"{r.old_id} -> {r.new_id}" for r in d.operations_renamed],
        # the detail rows of each changed operation, without its headline (the key says which)
        "changed": {c.operation_id: [row.strip() for row in diff.operation_rows(c)[1:]] for c in d.operations_changed},
    }


def status_changes(a: Side, b: Side) -> list[dict]:
    """Checks present in both runs whose status differs, regressions first."""
    rows = []
    for rid in sorted(set(a.results) & set(b.results)):
        before, after = a.results[rid]["status"], b.results[rid]["status"]
        if before != after:
            rows.append(
                {
                    "id": rid,
                    "title": b.results[rid].get("title", ""),
                    "from": before,
                    "to": after,
                    "message": clip(b.results[rid].get("message") or ""),
                }
            )
    return sorted(rows, key=lambda r: (not is_regression(r), r["id"]))


def status_codes(a: Side, b: Side) -> list[dict]:
    """Per operation of both runs: the HTTP statuses it answered in `b` and never in `a`.

    Only operations whose answers both runs recorded count; an older results.json
    without `statuses` says nothing here rather than "everything is new".
    """
    rows = []
    for op in sorted(set(a.operations) & set(b.operations)):
        seen_a, seen_b = a.operations[op].get("statuses"), b.operations[op].get("statuses")
        if not seen_a or not seen_b:
            continue
        new = sorted(set(seen_b) - set(seen_a))
        if new:
            rows.append({"operation": op, "statuses": new})
    return rows


def recorded_statuses(a: Side, b: Side) -> bool:
    """Whether both runs recorded per-operation statuses (results.json from this suite version on)."""
    return any(r.get("statuses") for r in a.operations.values()) and any(
        r.get("statuses") for r in b.operations.values()
    )


def adjacent(columns: list[tuple[str, dict]], pairs: list[tuple[str, str]] | None = None) -> list[dict]:
    """Behaviour changes between each pair of columns that both ran: the matrix's upgrade view.

    `pairs` names the (from, to) labels to compare; without it, each column with the next. The spec
    half is already the matrix's `spec_diffs`; this is what the runs showed.
    """
    by_label = dict(columns)
    wanted = pairs if pairs is not None else [(a, b) for (a, _), (b, _) in zip(columns, columns[1:])]
    out = []
    for va, vb in wanted:
        da, db = by_label.get(va) or {}, by_label.get(vb) or {}
        if not da.get("results") or not db.get("results"):
            continue
        doc = compare(side_from_data(va, da), side_from_data(vb, db))
        out.append(
            {
                "from": va,
                "to": vb,
                "status_changes": doc["status_changes"],
                "new_statuses": doc["new_statuses"],
                "deviations_appeared": doc["deviations_appeared"],
                "deviations_gone": doc["deviations_gone"],
            }
        )
    return out
