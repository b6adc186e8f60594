"""The first screen of an upgrade report: the facts a client meets, most breaking first.

Each item is built from the upgrade document (never from prose kept for one pair) and names the
details section that proves it (`anchor`). Impact order: a client that cannot reach the API at all
(base path, authentication) before one whose calls fail (operations gone, renamed, fields changed,
errors answered another way), before what the runs saw and what the clients read.
"""

from __future__ import annotations

from collections import Counter

from conformance.model.generations import generation

RULE_NAMES = {
    "path": "same method and path",
    "path+terms": "same path once terms are renamed",
    "id+terms": "same operationId once terms are renamed",
}


def headline(doc: dict) -> list[dict]:
    """[{id, title, text, names, anchor, breaking}] in impact order; an item with nothing to say is left out."""
    items = [
        _api(doc),
        _auth(doc),
        _removed(doc),
        _renamed(doc),
        _fields(doc),
        _errors(doc),
        _behaviour(doc),
        _deviations(doc),
        _clients(doc),
        _added(doc),
    ]
    return [i for i in items if i]


def _n(count: int, noun: str) -> str:
    """`1 operation`, `2 operations`."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _item(key: str, title: str, text: str, anchor: str, names: list[str] | None = None, breaking: bool = True) -> dict:
    return {"id": key, "title": title, "text": text, "names": names or [], "anchor": anchor, "breaking": breaking}


def _api(doc: dict) -> dict:
    spec = doc["spec"]
    (api_a, api_b), (base_a, base_b), (n_a, n_b) = spec["api"], spec["base_path"], spec["operation_count"]
    if api_a == api_b and base_a == base_b:
        return _item(
            "api",
            "API generation",
            f"unchanged: {api_b} at {base_b} ({n_a} → {n_b} operations)",
            "generation",
            breaking=False,
        )
    return _item(
        "api",
        "API generation",
        f"{api_a} → {api_b}: every path moves from {base_a} to {base_b} ({n_a} → {n_b} operations)",
        "generation",
    )


def _auth(doc: dict) -> dict:
    (sec_a, sec_b), runs = doc["spec"]["security"], (doc["from"]["auth"], doc["to"]["auth"])
    if sec_a == sec_b and runs[0] == runs[1]:
        return {}
    text = f"security schemes {', '.join(sec_a) or 'none'} → {', '.join(sec_b) or 'none'}"
    if all(runs):
        text += f"; the runs logged in with {runs[0]} → {runs[1]}"
    how = generation(doc["spec"]["api"][1]).auth
    return _item("auth", "Authentication", text + (f". On {doc['spec']['api'][1]}: {how}" if how else ""), "generation")


def _errors(doc: dict) -> dict:
    (va, vb), err = doc["spec"]["validation"], doc["errors"]
    parts = []
    if va["status"] != vb["status"]:
        seen = [" / ".join(f"{s} ×{err[k]['answered'][s]}" for s in ("400", "422")) for k in ("from", "to")]
        parts.append(
            f"invalid input answers {va['status']} → {vb['status']} (documented by {va[va['status']]} of "
            f"{va['operations']} → {vb[vb['status']]} of {vb['operations']} operations; answered in the runs: "
            f"{seen[0]} → {seen[1]})"
        )
    a, b = err["from"], err["to"]
    if (a["keys"], a["content_types"]) != (b["keys"], b["content_types"]):
        parts.append(
            f"error body {{{', '.join(a['keys'])}}} as {', '.join(a['content_types'])} → "
            f"{{{', '.join(b['keys'])}}} as {', '.join(b['content_types'])}"
        )
    return _item("errors", "Error conventions", "; ".join(parts), "generation") if parts else {}


def _by_tag(rows: list[dict], name) -> list[str]:
    groups: dict[str, list[str]] = {}
    for r in rows:
        groups.setdefault(r.get("tag") or "other", []).append(name(r))
    order = [t for t, _ in Counter({t: len(v) for t, v in groups.items()}).most_common()]
    return [f"{t}: {', '.join(groups[t])}" for t in order]


def _removed(doc: dict) -> dict:
    rows = doc["spec"]["removed"]
    if not rows:
        return {}
    return _item(
        "removed",
        "Operations removed",
        f"{_n(len(rows), 'operation')} of {doc['from']['label']} gone, with no replacement paired by path or name",
        "removed",
        _by_tag(rows, lambda r: f"{r['method']} {r['operation']}"),
    )


def _renamed(doc: dict) -> dict:
    rows = doc["spec"]["renamed"]
    if not rows:
        return {}
    rules = Counter(RULE_NAMES.get(r["rule"], r["rule"]) for r in rows)
    terms = ", ".join(f"{old} → {new}" for old, new in doc["spec"]["terms"])
    names = [f"{r['from']['operation']} → {r['to']['operation']}" for r in rows]
    return _item(
        "renamed",
        "Operations renamed",
        f"{_n(len(rows), 'operation')} under a new name or path, paired by "
        + ", ".join(f"{rule} ({n})" for rule, n in rules.items())
        + (f"; renamed terms: {terms}" if terms else ""),
        "renamed",
        names,
    )


def _fields(doc: dict) -> dict:
    rows = doc["spec"]["fields"]
    if not rows:
        return {}
    sides = ("request", "response")
    renamed = Counter(
        f"{_leaf(old)} → {_leaf(new)}"
        for r in rows
        for side in sides
        for old, new in r[side]["renamed"]
        if _leaf(old) != _leaf(new)
    )
    removed = Counter(_leaf(f.split(" ")[0]) for r in rows for side in sides for f in r[side]["removed"])
    retyped = sum(len(r[side]["retyped"]) for r in rows for side in sides)
    required = sum(len(r.get("newly_required") or []) for r in rows)
    text = (
        f"{_n(len(rows), 'operation')} with fields or parameters a client sends or reads removed, renamed, "
        f"retyped or newly required: {sum(removed.values())} removed, {sum(renamed.values())} renamed, "
        f"{retyped} retyped, {required} newly required"
    )
    top = ([f"renamed: {', '.join(f'{name} ×{n}' for name, n in renamed.most_common(4))}"] if renamed else []) + (
        [f"removed most often: {', '.join(f'{name} ×{n}' for name, n in removed.most_common(6))}"] if removed else []
    )
    return _item("fields", "Fields", text, "fields", top)


def _leaf(name: str) -> str:
    """The field's own name without the objects around it or where a parameter goes
    (`dag_runs[].logical_date`, `query:logical_date` -> `logical_date`)."""
    return name.rsplit(".", 1)[-1].rsplit(":", 1)[-1]


def _behaviour(doc: dict) -> dict:
    rows, worse = doc["behaviour"], sum(1 for r in doc["behaviour"] if r["worse"])
    statuses = doc["statuses"]
    text = (
        f"{_n(len(rows), 'check')} changed verdict where the recorded answers changed ({worse} worse); "
        f"{_n(doc['same_answers'], 'verdict change')} on identical answers left out; "
        f"{_n(len(statuses), 'operation')} answering other status codes"
    )
    return _item(
        "behaviour",
        "Behaviour the runs observed",
        text,
        "behaviour",
        [f"{r['id']}: {r['from']} → {r['to']}" for r in rows if r["worse"]][:6],
        breaking=bool(worse),
    )


def _deviations(doc: dict) -> dict:
    met, gone = doc["deviations"]["met_in_to"], doc["deviations"]["gone"]
    if not met and not gone:
        return {}
    new = [r["id"] for r in met if r["new"]]
    text = (
        f"{_n(len(met), 'known upstream deviation')} met in {doc['to']['label']} ({len(new)} new); "
        f"{len(gone)} met in {doc['from']['label']} not met in {doc['to']['label']}"
    )
    return _item("deviations", "Known deviations", text, "deviations", new[:8], breaking=bool(new))


def _clients(doc: dict) -> dict:
    rows = doc["clients"]
    if not rows:
        return {}
    reads = [r["client"] for r in rows if r["reads"]]
    refuse = [
        f"{r['client']} ({r['failed']} refused)" if not r["error"] else f"{r['client']} (could not run)"
        for r in rows
        if not r["reads"]
    ]
    text = f"apache-airflow-client {', '.join(reads) or 'none'} read every recorded answer of {doc['to']['label']}" + (
        f"; {', '.join(refuse)} do not" if refuse else ""
    )
    return _item("clients", "Official clients", text, "clients", breaking=not reads)


def _added(doc: dict) -> dict:
    rows = doc["spec"]["added"]
    if not rows:
        return {}
    tags = Counter(r.get("tag") or "other" for r in rows).most_common(6)
    return _item(
        "added",
        "Operations added",
        f"{_n(len(rows), 'new operation')}: "
        + ", ".join(f"{t} {n}" for t, n in tags)
        + ("…" if len(Counter(r.get("tag") for r in rows)) > 6 else ""),
        "added",
        breaking=False,
    )
