"""Turn per-version results into compatibility.json / .md / .html."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from conformance import __version__
from conformance.matrix import areas, clients, databases, page
from conformance.matrix import cells as cell_of
from conformance.matrix.collect import Column
from conformance.matrix.compare import adjacent, is_regression
from conformance.matrix.deviation_cells import deviation_cell, deviation_lines, deviation_status
from conformance.model.status import Status

__all__ = ["build", "deviation_cell", "deviation_lines", "deviation_status", "render_html", "render_markdown", "write"]
from conformance.reporting.html import operation_tags, spec_tags
from conformance.reporting.writer import write_texts

SYMBOL = cell_of.LABELS  # every cell has a status: the matrix never leaves one blank or a bare dot


def _sort_key(col: Column):
    return databases.sort_key(col.version)  # "2.10.5 · PostgreSQL" sits right after "2.10.5"


def _spec_diffs(versions: list[str]) -> list[dict]:
    """What changed in the reference spec between each adjacent pair of releases."""
    from conformance.errors import ConformanceError  # noqa: PLC0415
    from conformance.specs import catalog, diff  # noqa: PLC0415

    out: list[dict] = []
    for a, b in zip(versions, versions[1:]):
        try:
            ra, rb = catalog.reference_version_for(a), catalog.reference_version_for(b)
            d = diff.to_dict(diff.diff_specs(catalog.load_spec(ra), catalog.load_spec(rb)))
        except ConformanceError as exc:
            out.append({"from": a, "to": b, "error": str(exc)})
            continue
        out.append(
            {
                "from": a,
                "to": b,
                "added": [o["operation_id"] for o in d.get("operations_added", [])],
                "removed": [o["operation_id"] for o in d.get("operations_removed", [])],
                "renamed": [f"{o['old_id']} → {o['new_id']}" for o in d.get("operations_renamed", [])],
                "changed": [o["operation_id"] for o in d.get("operations_changed", [])],
            }
        )
    return out


def _deviations(columns: list[Column]) -> dict[str, dict]:
    """Per deviation and release: the operations its replay reproduced or not, and those the run excused."""
    out: dict[str, dict] = {}
    for col in columns:
        for replay in col.replays:
            cell = out.setdefault(replay["id"], {}).setdefault(
                col.version, {"occurs": [], "absent": [], "not_replayed": [], "excused": []}
            )
            if replay.get("control"):  # a negative control says nothing about where the defect occurs
                continue
            key = {"occurs": "occurs", "does not occur": "absent", "passes its checks": "absent"}.get(
                replay["verdict"], "not_replayed"
            )
            cell[key].append(replay["operation"])
            if "in_range" in replay:  # an every-entry replay: whether the data's range includes this column
                cell["in_range"] = bool(replay["in_range"])
        for result in col.results.get("results", []):
            for dev in result.get("deviations") or []:
                cell = out.setdefault(dev["id"], {}).setdefault(
                    col.version, {"occurs": [], "absent": [], "not_replayed": [], "excused": []}
                )
                cell["excused"] = sorted(set(cell["excused"]) | set(dev.get("operations") or [result["id"]]))
    return out


def _checks(columns: list[Column]) -> dict[str, dict]:
    """{check id: {title, kind, operations, cells: {release: cell}}} for every check any release reported
    (properties are the operations table), each release's cell classified, and one filled in where a release
    does not report the check. `operations`: every operation the check exercised on some release (its area)."""
    rows: dict[str, dict] = {}
    for col in columns:
        for r in col.results.get("results", []):
            if r["kind"] == "property":
                continue
            row = rows.setdefault(r["id"], {"title": r["title"], "kind": r["kind"], "operations": set(), "cells": {}})
            row["title"] = r["title"]
            row["operations"].update(r.get("operation_ids") or [])
            row["cells"][col.version] = cell_of.result_cell(r)
    for cid, row in rows.items():
        for col in columns:
            row["cells"].setdefault(col.version, cell_of.missing_cell(row["kind"], col, cid))
        row["operations"] = sorted(row["operations"])
    return {cid: rows[cid] for cid in sorted(rows)}


def _areas(columns: list[Column]) -> dict[str, str]:
    """{operationId: API area}: the tags the releases' reference specs give their operations (newest names it)."""
    return areas.operation_areas(operation_tags(c.results) for c in columns if c.results)


def deviation_notes(ids) -> dict[str, dict]:
    """{deviation id: its summary, failure class, upstream reference and recorded range} from the data file.

    An id the data no longer holds (a run older than the entry's removal) gets no note, not a guess.
    """
    from conformance.expectations import all_deviations  # noqa: PLC0415

    known = {d.id: d for d in all_deviations()}
    return {
        i: {
            "summary": known[i].summary,
            "class": known[i].failure_class.value,
            "upstream": known[i].upstream,
            "versions": known[i].versions,
        }
        for i in sorted(ids)
        if i in known
    }


def _operations(columns: list[Column]) -> dict[str, dict]:
    """{operationId: {release: cell}}: each release's status of the operation, `not_applicable` outside its spec."""
    names = {op for col in columns for op in col.results.get("operations", {})}
    return {
        op: {col.version: cell_of.operation_cell(col.results.get("operations", {}).get(op), col) for col in columns}
        for op in names
    }


def _version_row(col: Column) -> dict:
    """A release's summary row: its run, its results by matrix status, and its score (passed / decided)."""
    row = col.as_dict()
    if col.results:
        tally = cell_of.counts(col.results.get("results", []))
        row.update(
            counts=tally,
            score=cell_of.score(tally),
            classes=cell_of.class_counts(col.results.get("results", [])),
            suite_s=round(float(col.results.get("duration_s") or 0), 1),
            second_passes=col.results.get("second_passes"),
        )
        effects = col.results.get("effects") or {}
        if effects:  # documented effects of the release's spec: how many are checked, and what its run decided
            row["effects"] = {
                k: effects.get(k) for k in ("documented", "checked", "not_observable", "unchecked", "run")
            }
    return row


def build(columns: list[Column]) -> dict:
    """The compatibility document (compatibility.json)."""
    columns = sorted(columns, key=_sort_key)
    versions = [c.version for c in columns]
    checks = _checks(columns)
    operations = _operations(columns)
    config = next((c.results.get("configuration") for c in columns if c.results.get("configuration")), None) or {}
    deviations = _deviations(columns)
    return {
        "suite_version": __version__,
        "configuration": {k: config.get(k) for k in ("profile", "only", "max_examples", "seed")},
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": [_version_row(c) for c in columns],
        "checks": checks,
        "operations": {k: operations[k] for k in sorted(operations)},
        "areas": _areas(columns),
        "deviations": {k: deviations[k] for k in sorted(deviations)},
        "deviation_notes": deviation_notes(deviations),
        "clients": clients.cells(columns),
        "spec_diffs": _spec_diffs(
            [v for v in versions if _sort_key(Column(v))[0] == 0 and v == databases.split_label(v)[0]]
        ),
        "behaviour_diffs": adjacent(
            [(c.version, c.results) for c in columns if c.results], databases.change_pairs(versions)
        ),
    }


def _symbol(cell: dict) -> str:
    """A check cell in the markdown grid; `†` where a second pass (a restart of the release) decided it."""
    return SYMBOL[cell["status"]] + (f" {cell_of.SECOND_PASS_MARK}" if cell.get("second_pass") else "")


def render_markdown(doc: dict) -> str:
    versions = [v["version"] for v in doc["versions"]]
    lines = [
        "# Airflow REST API compatibility matrix",
        "",
        f"Generated {doc['generated']} by airflow-api-conformance {doc['suite_version']}. "
        "Each column is a real Airflow release provisioned locally (pip, SQLite) and run through the suite: "
        f"checks {', '.join(doc['configuration'].get('only') or [])}, profile {doc['configuration'].get('profile')}, "
        f"seed {doc['configuration'].get('seed')}. Time is the suite's own run, provisioning excluded.",
        "",
        "Score: passed / decided (passed, failed and known deviations), so what was not decided is never "
        "counted as conformance.",
        "",
        "Failed by class: the failure classes of the failed results (what `run --fail-on` gates on); `unclassified`: "
        "a run written before results carried classes.",
        "",
        "| version | verdict | score | passed | failed | failed by class | known deviations | undecided | n/a | errors | "
        "operations | suite time (s) |",
        "|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for v in doc["versions"]:
        s = v.get("counts") or {}
        ops = sum(
            1
            for cells in doc["operations"].values()
            if cells.get(v["version"], {}).get("status") != cell_of.NOT_APPLICABLE
        )
        verdict = v.get("verdict") or f"error: {v['reason']}"
        lines.append(
            f"| {v['version']} | {verdict} | {cell_of.score_text(v.get('score'))} | {s.get('passed', '')} | "
            f"{s.get(Status.FAILED, '')} | {cell_of.class_text(v.get('classes')) if s else ''} | {s.get(Status.KNOWN_DEVIATION, '')} | {s.get(cell_of.UNDECIDED, '')} | "
            f"{s.get(cell_of.NOT_APPLICABLE, '')} | {s.get('error', '')} | {ops} | {v.get('suite_s', '')} |"
        )
    lines += _effects_rows(doc)
    lines += [
        "",
        "## Checks",
        "",
        cell_of.LEGEND,
        "",
        "| check | " + " | ".join(versions) + " |",
        "|---|" + "---|" * len(versions),
    ]
    for cid, row in doc["checks"].items():
        lines.append(f"| `{cid}` | " + " | ".join(_symbol(row["cells"][v]) for v in versions) + " |")
    lines += [
        "",
        "## Operations",
        "",
        "Each operation of each release's reference spec, by the worst outcome of its "
        "checks (property tier, scenarios, authorization); `n/a`: not in that release's spec.",
        "",
        "| operation | " + " | ".join(versions) + " |",
        "|---|" + "---|" * len(versions),
    ]
    for op, row in doc["operations"].items():
        lines.append(
            f"| `{op}` | " + " | ".join(SYMBOL.get(row[v]["status"], row[v]["status"]) for v in versions) + " |"
        )
    if doc.get("deviations"):
        lines += [
            "",
            "## Known deviations by release",
            "",
            "`occurs n/m`: `deviations verify` reproduced it on n of the m operations it replayed there; "
            "`stale`: recorded for the release but not reproduced; `absent`: replayed outside its recorded range and not "
            "reproduced (`(outside its range)`: reproduced there); `excused k`: the run excused it on k operations.",
            "",
            "| deviation | " + " | ".join(versions) + " |",
            "|---|" + "---|" * len(versions),
        ]
        for dev_id, cells in doc["deviations"].items():
            lines.append(f"| `{dev_id}` | " + " | ".join(deviation_cell(cells.get(v)) for v in versions) + " |")
    lines += _client_rows(doc, versions)
    lines += ["", "## Spec changes between adjacent releases", ""]
    for d in doc["spec_diffs"]:
        if "error" in d:
            lines.append(f"- **{d['from']} → {d['to']}**: {d['error']}")
            continue
        lines.append(
            f"- **{d['from']} → {d['to']}**: {len(d['added'])} added, {len(d['removed'])} removed, "
            f"{len(d['renamed'])} renamed, {len(d['changed'])} changed"
            + (f"; added: {', '.join(d['added'][:8])}{'…' if len(d['added']) > 8 else ''}" if d["added"] else "")
            + (
                f"; removed: {', '.join(d['removed'][:8])}{'…' if len(d['removed']) > 8 else ''}"
                if d["removed"]
                else ""
            )
        )
    lines += _behaviour_lines(doc)
    return "\n".join(lines) + "\n"


def _effects_rows(doc: dict) -> list[str]:
    """Per release: the documented effects of its spec, how many the suite checks, and what its run decided."""
    rows = [v for v in doc["versions"] if v.get("effects")]
    if not rows:
        return []
    lines = [
        "",
        "## Documented effects",
        "",
        "What each release's parameters and body fields are documented to do ([effects](effects.md)): checked by the "
        "suite, not observable (with a reason), unchecked (a gap); then what the release's run read back.",
        "",
        "| version | documented | checked | not observable | unchecked | held | failed | not decided |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for v in rows:
        e, run = v["effects"], v["effects"].get("run") or {}
        lines.append(
            f"| {v['version']} | {e.get('documented')} | {e.get('checked')} | {e.get('not_observable')} | "
            f"{e.get('unchecked')} | {run.get('passed', '')} | {run.get('failed', '')} | {run.get('not_decided', '')} |"
        )
    return lines


def _behaviour_lines(doc: dict) -> list[str]:
    """What the runs showed between adjacent releases; `compare` prints the whole of one pair."""
    if not doc.get("behaviour_diffs"):
        return []
    lines = [
        "",
        "## Behaviour changes between adjacent releases",
        "",
        "From the runs, not the specs: checks whose status changed, status codes an operation answered that it "
        "did not on the release before, known deviations that appeared or went away. The whole of one pair: "
        "`airflow-conformance compare A B --matrix-dir reports`.",
        "",
    ]
    for d in doc["behaviour_diffs"]:
        worse = [c["id"] for c in d["status_changes"] if is_regression(c)]
        lines.append(
            f"- **{d['from']} → {d['to']}**: {len(d['status_changes'])} checks changed status"
            + (f" ({len(worse)} worse: {', '.join(worse[:6])}{'…' if len(worse) > 6 else ''})" if worse else "")
            + f"; {len(d['new_statuses'])} operations answer new status codes"
            + f"; deviations +{len(d['deviations_appeared'])} / -{len(d['deviations_gone'])}"
        )
    return lines


def _client_rows(doc: dict, versions: list[str]) -> list[str]:
    """The client x server section: one row per official client release, its reading of each release's answers."""
    if not doc.get("clients"):
        return []
    lines = [
        "",
        "## Official clients",
        "",
        "Each release's recorded answers (its run's `cassette.json`, no new requests) read by the matching "
        "`apache-airflow-client` and the client minors just before and after it: `✅ parsed/read`, "
        "`❌ refused/read`, `⚠️` refusals explained by known deviations, `n/a` answers of operations the client "
        "does not have, `💥` the client could not run, `·` pair not checked.",
        "",
        "| client | " + " | ".join(versions) + " |",
        "|---|" + "---|" * len(versions),
    ]
    for client, row in doc["clients"].items():
        lines.append(f"| `{client}` | " + " | ".join(clients.cell_text(row.get(v)) for v in versions) + " |")
    refused = [
        (c, v, cell["refused"]) for c, row in doc["clients"].items() for v, cell in row.items() if cell["refused"]
    ]
    if refused:
        lines += [
            "",
            "Refused answers (first fields): "
            + "; ".join(f"client {c} on {v}: {', '.join(fields)}" for c, v, fields in refused),
        ]
    return lines


def render_html(doc: dict, upgrades: frozenset[tuple[str, str]] = frozenset()) -> str:
    """compatibility.html (conformance.matrix.page); `upgrades`: the (FROM, TO) pairs whose upgrade page exists."""
    return page.render(doc, upgrades)


def write(doc: dict, out_dir: Path, upgrades: frozenset[tuple[str, str]] = frozenset()) -> list[Path]:
    """compatibility.json, .md and .html in `out_dir`."""
    files = {
        "compatibility.json": json.dumps(doc, indent=1, ensure_ascii=False) + "\n",
        "compatibility.md": render_markdown(doc),
        "compatibility.html": render_html(doc, upgrades),
    }
    return write_texts(out_dir, files)


def rerender(out_dir: Path) -> list[Path]:
    """compatibility.md and .html again from `out_dir/compatibility.json` alone (`matrix --render-only`).

    For a matrix whose runs are not at hand (a CI artifact, the published folder): the page changes with the
    suite, the evidence in the json does not. The upgrade pages found in `out_dir/upgrade/` are linked.
    """
    from conformance.errors import ConfigError  # noqa: PLC0415

    source = out_dir / "compatibility.json"
    try:
        doc = _completed(json.loads(source.read_text(encoding="utf-8")))
        files = {
            "compatibility.md": render_markdown(doc),
            "compatibility.html": render_html(doc, page.upgrades_beside(out_dir)),
        }
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--render-only needs {source} written by `matrix`: {exc}") from None
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"{source} is not a compatibility.json of this suite ({type(exc).__name__}: {exc})") from None
    return write_texts(out_dir, files)


def _completed(doc: dict) -> dict:
    """A compatibility.json written before it carried areas and deviation notes, with both filled in from the
    reference specs of its releases and the deviation data (what `build` would have written)."""
    if "areas" not in doc:
        doc["areas"] = areas.operation_areas(spec_tags(str(v.get("reference_spec") or "")) for v in doc["versions"])
    if "deviation_notes" not in doc:
        doc["deviation_notes"] = deviation_notes(doc.get("deviations") or {})
    return doc
