"""`upgrade FROM TO`: what a client of Airflow FROM meets on Airflow TO, headline facts first.

The answer to "can we move from 2.10 to 3.3, and what will break?" comes from data the suite already
has, never from prose written for one pair: the two reference specs (upgrade_spec), the two recorded
runs (their verdicts, the status codes each operation answered, the deviations they met), the deviation
data and the official clients' readings of TO's answers. The document built here is what every
rendering (text, Markdown, JSON, HTML) shows; `headline` orders the facts by how much of a client they
break, each pointing to the details that prove it.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

from conformance import __version__
from conformance.matrix import answers
from conformance.matrix.compare import Side
from conformance.matrix.databases import label_of_dir
from conformance.matrix.upgrade_headline import headline
from conformance.matrix.upgrade_spec import spec_part


def reference(side: Side) -> str:
    """The side's reference spec (a results.json without one: the spec the catalog picks for its release)."""
    if side.reference_spec:
        return side.reference_spec
    from conformance.specs.catalog import reference_version_for  # noqa: PLC0415

    return reference_version_for(side.airflow_version)


def build(a: Side, b: Side, matrix_clients: dict | None = None, uses: set[str] | None = None) -> dict:
    """The upgrade document from run `a` to run `b`; `matrix_clients` is the matrix's client table (by column
    label) when the pair comes from the matrix, `uses` the operations of `a` a client calls (None: all)."""
    spec = spec_part(reference(a), reference(b), uses)
    if uses is not None:
        spec["removed"] = [r for r in spec["removed"] if r["operation"] in uses]
        spec["renamed"] = [r for r in spec["renamed"] if r["from"]["operation"] in uses]
    op_map = {r["from"]["operation"]: r["to"]["operation"] for r in spec["renamed"]}
    changed, same = answers.verdict_changes(a, b, result_pairs(a, b, op_map, uses), validation_renamed(spec))
    doc = {
        "suite_version": __version__,
        "from": describe(a),
        "to": describe(b),
        "uses": sorted(uses) if uses is not None else None,
        "spec": spec,
        "errors": error_conventions(a, b),
        "behaviour": changed,
        "same_answers": len(same),
        "statuses": status_codes(a, b, op_map, uses),
        "deviations": deviations(a, b, _operations_used(uses, op_map)),
        "clients": clients(b, matrix_clients),
    }
    doc["headline"] = headline(doc)
    return doc


def validation_renamed(spec: dict) -> dict[str, str]:
    """{FROM's invalid-input status: TO's} when the two specs document different ones (400 -> 422), else {}."""
    before, after = (v["status"] for v in spec["validation"])
    return {before: after} if before and after and before != after else {}


def describe(side: Side) -> dict:
    return {
        "label": side.label,
        "airflow_version": side.airflow_version,
        "reference_spec": reference(side),
        "verdict": side.verdict,
        "api": side.target.get("api", ""),
        "auth": side.target.get("auth", ""),
    }


def result_pairs(a: Side, b: Side, op_map: dict[str, str], uses: set[str] | None) -> dict[str, str]:
    """Result ids of `a` -> the same check's id in `b`; a per-operation check (`property.post_dag_run`) follows
    its operation's rename (`property.trigger_dag_run`)."""
    out = {}
    for rid, result in a.results.items():
        if uses is not None and not set(result.get("operation_ids") or []) & uses:
            continue
        kind, _, op = rid.partition(".")
        other = rid if rid in b.results else f"{kind}.{op_map[op]}" if op in op_map else ""
        if other in b.results:
            out[rid] = other
    return out


def status_codes(a: Side, b: Side, op_map: dict[str, str], uses: set[str] | None) -> list[dict]:
    """Per operation answered in both runs: the statuses it answered only in `b` (new) and only in `a` (gone),
    refusals (401/403) left out."""
    rows = []
    for op_a, row_a in sorted(a.operations.items()):
        op_b = op_map.get(op_a, op_a)
        seen_a = set(row_a.get("statuses") or {}) - answers.REFUSALS
        seen_b = set((b.operations.get(op_b) or {}).get("statuses") or {}) - answers.REFUSALS
        if (uses is not None and op_a not in uses) or not seen_a or not seen_b or seen_a == seen_b:
            continue
        rows.append({"operation": op_b, "was": op_a, "new": sorted(seen_b - seen_a), "gone": sorted(seen_a - seen_b)})
    return rows


def _answered(side: Side, status: str) -> int:
    return sum(int((row.get("statuses") or {}).get(status, 0)) for row in side.operations.values())


def error_conventions(a: Side, b: Side) -> dict:
    """Per side: how often it answered 400 and 422, and the error body its release is expected to send (the
    `auth.error_body_shape` expectation: keys and content types)."""
    from conformance.expectations import load  # noqa: PLC0415

    out = {}
    for key, side in (("from", a), ("to", b)):
        shape = load(side.airflow_version).for_scenario("auth.error_body_shape")
        out[key] = {
            "answered": {s: _answered(side, s) for s in ("400", "422")},
            "keys": list(shape.get("keys") or []),
            "content_types": list(shape.get("content_types") or []),
        }
    return out


@lru_cache(maxsize=1)
def _deviation_data() -> dict[str, dict]:
    from conformance.expectations import all_deviations  # noqa: PLC0415

    return {
        d.id: {"summary": d.summary, "upstream": d.upstream, "class": str(d.failure_class)} for d in all_deviations()
    }


def _evidence(side: Side, dev_id: str) -> str:
    """The curl of a result of `side` that the deviation excused (the request that met it)."""
    for result in side.results.values():
        if result.get("reproduce") and any(d.get("id") == dev_id for d in result.get("deviations") or []):
            return str(result["reproduce"])
    return ""


def _operations_used(uses: set[str] | None, op_map: dict[str, str]) -> set[str] | None:
    """The operations a client uses, by their names on both sides (None: all)."""
    return None if uses is None else uses | {op_map[op] for op in uses if op in op_map}


def deviations(a: Side, b: Side, used: set[str] | None = None) -> dict:
    """The known deviations TO's run met (new: FROM's did not) and those FROM's run met that TO's did not;
    with `used`, only those that excused a result on one of those operations."""

    def row(dev_id: str, side: Side) -> dict:
        data = _deviation_data().get(dev_id, {})
        return {"id": dev_id, **data, "reproduce": _evidence(side, dev_id)}

    def wanted(dev_id: str, side: Side) -> bool:
        return used is None or any(
            dev_id == d.get("id") and set(d.get("operations") or []) & used
            for r in side.results.values()
            for d in r.get("deviations") or []
        )

    met = [dict(row(d, b), new=d not in a.deviations) for d in sorted(b.deviations) if wanted(d, b)]
    met.sort(key=lambda r: (not r["new"], r["id"]))
    return {"met_in_to": met, "gone": [row(d, a) for d in sorted(a.deviations - b.deviations) if wanted(d, a)]}


def clients(b: Side, matrix_clients: dict | None) -> list[dict]:
    """Each official client release that read TO's recorded answers: parsed, refused, excused (the matrix's
    client table for TO's column when given, else TO's own readings)."""
    rows = []
    if matrix_clients:
        for client, cells in matrix_clients.items():
            cell = cells.get(b.label) or cells.get(label_of_dir(b.label, b.airflow_version))
            if cell:
                rows.append(
                    {
                        "client": client,
                        "relation": cell.get("relation", ""),
                        "parsed": cell.get("parsed", 0),
                        "failed": cell.get("failed", 0),
                        "excused": cell.get("excused", 0),
                        "error": cell.get("error", ""),
                        "refused": list(cell.get("refused") or [])[:5],
                    }
                )
    else:
        for r in (b.clients or {}).get("readings") or []:
            rows.append(
                {
                    "client": str(r.get("client", "")),
                    "relation": "",
                    "parsed": r.get("parsed", 0),
                    "failed": r.get("failed", 0),
                    "excused": r.get("excused", 0),
                    "error": r.get("error", ""),
                    "refused": [],
                }
            )
    for r in rows:
        r["reads"] = not r["error"] and not r["failed"]
    return sorted(rows, key=lambda r: (not r["reads"], _client_key(r["client"])))


def _client_key(version: str):
    from packaging.version import InvalidVersion, Version  # noqa: PLC0415

    try:
        return (0, Version(version))
    except InvalidVersion:
        return (1, version)


def tag_counts(rows: list[dict]) -> list[tuple[str, int]]:
    """(tag, how many) of operation rows, largest first."""
    return Counter(r.get("tag") or "other" for r in rows).most_common()
