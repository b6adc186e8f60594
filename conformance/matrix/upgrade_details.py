"""The details of an upgrade document: one section per headline item, each row with its evidence.

A row's `evidence` is what a reader runs or reads to check it: the curl a run sent (secrets already
redacted in results.json) or the excerpt of the reference spec. Sections are data, so the text,
Markdown and HTML renderings list the same rows.
"""

from __future__ import annotations


def _row(text: str, evidence: str = "", more: str = "") -> dict:
    return {"text": text, "evidence": evidence, "more": more}


def generation(doc: dict) -> list[dict]:
    spec, err = doc["spec"], doc["errors"]
    (va, vb) = spec["validation"]
    rows = [
        _row(
            f"API generation {spec['api'][0]} at {spec['base_path'][0]} → {spec['api'][1]} at {spec['base_path'][1]}; "
            f"{spec['operation_count'][0]} → {spec['operation_count'][1]} operations",
            f"reference specs {spec['versions'][0]} and {spec['versions'][1]}: servers / paths",
        ),
        _row(
            f"security schemes: {', '.join(spec['security'][0]) or 'none'} → {', '.join(spec['security'][1]) or 'none'}; "
            f"the runs authenticated with {doc['from']['auth'] or '?'} → {doc['to']['auth'] or '?'}",
            "components.securitySchemes of each reference spec; target.auth of each results.json",
        ),
        _row(
            f"invalid input: documented as 400 by {va['400']} and 422 by {va['422']} of {va['operations']} operations → "
            f"400 by {vb['400']} and 422 by {vb['422']} of {vb['operations']}; answered 400/422 "
            f"{err['from']['answered']['400']}/{err['from']['answered']['422']} → "
            f"{err['to']['answered']['400']}/{err['to']['answered']['422']} times in the runs",
            "responses of every operation in each reference spec; operations[*].statuses of each results.json",
        ),
        _row(
            f"error body: keys {', '.join(err['from']['keys'])} as {', '.join(err['from']['content_types'])} → "
            f"keys {', '.join(err['to']['keys'])} as {', '.join(err['to']['content_types'])}",
            "expectations.yaml scenarios.auth.error_body_shape, checked by scenario.auth.error_body_shape in each run",
        ),
    ]
    return rows


def removed(doc: dict) -> list[dict]:
    return [
        _row(f"{r['method']} {r['path']} ({r['operation']}, {r['tag'] or 'no tag'}): no replacement", r["excerpt"])
        for r in doc["spec"]["removed"]
    ]


def renamed(doc: dict) -> list[dict]:
    return [
        _row(
            f"{r['from']['method']} {r['from']['path']} ({r['from']['operation']}) → {r['to']['method']} "
            f"{r['to']['path']} ({r['to']['operation']}); paired by {r['how']}",
            r["to"]["excerpt"],
            r["from"]["excerpt"],
        )
        for r in doc["spec"]["renamed"]
    ]


def _field_text(side: str, f: dict) -> list[str]:
    parts = []
    if f["renamed"]:
        parts.append("renamed " + ", ".join(f"{a} → {b}" for a, b in f["renamed"]))
    if f["removed"]:
        parts.append("removed " + ", ".join(f["removed"]))
    if f["retyped"]:
        parts.append("retyped " + ", ".join(f"{n} {a} → {b}" for n, a, b in f["retyped"]))
    return [f"{side}: {'; '.join(parts)}"] if parts else []


def fields(doc: dict) -> list[dict]:
    rows = []
    for r in doc["spec"]["fields"]:
        name = r["operation"] if r["operation"] == r["to"] else f"{r['operation']} → {r['to']}"
        parts = _field_text("request", r["request"]) + _field_text("response", r["response"])
        if r.get("newly_required"):
            parts.insert(0, "now required: " + ", ".join(r["newly_required"]))
        text = " | ".join(parts)
        rows.append(_row(f"{name} ({r['method']} {r['path']}): {text}", r["excerpt"], r.get("excerpt_from", "")))
    return rows


def behaviour(doc: dict) -> list[dict]:
    rows = [
        _row(
            f"{r['id']}{' (was ' + r['was'] + ')' if r['was'] != r['id'] else ''}: "
            f"{r['from']} → {r['to']}{' (worse)' if r['worse'] else ''}; answers {r['answers_from']} → {r['answers_to']}",
            r["reproduce"],
            r["message"],
        )
        for r in doc["behaviour"]
    ]
    rows += [
        _row(
            f"{r['operation']}{' (was ' + r['was'] + ')' if r['was'] != r['operation'] else ''}: "
            f"new {', '.join(r['new']) or '-'}; no longer {', '.join(r['gone']) or '-'}"
        )
        for r in doc["statuses"]
    ]
    return rows


def deviations(doc: dict) -> list[dict]:
    to, fro = doc["to"]["label"], doc["from"]["label"]
    rows = [
        _row(
            f"met in {to}{' (new)' if r['new'] else ''}: {r['id']} [{r.get('class', '')}] {r.get('summary', '')} "
            f"(upstream: {r.get('upstream') or 'unknown'})",
            r["reproduce"],
        )
        for r in doc["deviations"]["met_in_to"]
    ]
    rows += [
        _row(f"met in {fro}, not in {to}: {r['id']} [{r.get('class', '')}] {r.get('summary', '')}", r["reproduce"])
        for r in doc["deviations"]["gone"]
    ]
    return rows


def clients(doc: dict) -> list[dict]:
    return [
        _row(
            f"apache-airflow-client {r['client']}{' (' + r['relation'] + ')' if r['relation'] else ''}: "
            + (
                f"could not run: {r['error']}"
                if r["error"]
                else f"parsed {r['parsed']}, refused {r['failed']}, refusals explained by known deviations {r['excused']}"
            )
            + (f"; first refusals: {', '.join(r['refused'])}" if r["refused"] else ""),
            f"clients.json of the {doc['to']['label']} run (cassette.json read by the client)",
        )
        for r in doc["clients"]
    ]


def added(doc: dict) -> list[dict]:
    return [
        _row(f"{r['method']} {r['path']} ({r['operation']}, {r['tag'] or 'no tag'})", r["excerpt"])
        for r in doc["spec"]["added"]
    ]


SECTIONS = (
    ("generation", "Generation", "API generation, authentication and errors", generation),
    ("removed", "Removed", "Operations removed", removed),
    ("renamed", "Renamed", "Operations renamed (paired by evidence)", renamed),
    ("fields", "Fields", "Request and response fields removed, renamed or retyped", fields),
    (
        "behaviour",
        "Behaviour",
        "Behaviour the runs observed (verdicts on changed answers; status codes per operation)",
        behaviour,
    ),
    ("deviations", "Deviations", "Known deviations", deviations),
    ("clients", "Clients", "Official clients reading the target's answers", clients),
    ("added", "Added", "Operations added", added),
)


def sections(doc: dict) -> list[dict]:
    """[{id, short, title, rows}] in the order of the headline; a section without rows is left out."""
    out = []
    for key, short, title, build in SECTIONS:
        rows = build(doc)
        if rows:
            out.append({"id": key, "short": short, "title": title, "rows": rows})
    return out
