"""Client x server pairs for the matrix, read from each release's cassette without new requests.

For every release the matrix ran, the official client matching it and the
client minors just before and after it (same major) read the run's
`cassette.json`: the "newer client against an older server" question and its
reverse. The matching client's reading is the run's own (results.json); the
neighbours read the same cassette here and are saved as `runs/<V>/clients.json`,
so `matrix --rebuild` shows them again. A run without a cassette (older
results, a failed run) simply has no client cells.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from packaging.version import Version

from conformance.clients import versions
from conformance.clients.reading import read
from conformance.expectations import load as load_expectations
from conformance.http.cassette import load as load_cassette

FILE = "clients.json"


def relation(client: str, server: str) -> str:
    """`matching`, `older` or `newer`: where a client release stands to the server's own client."""
    match = versions.matching(server)
    if client == match:
        return "matching"
    return "older" if Version(client) < Version(match or "0") else "newer"


def read_neighbours(run_dir: Path, results: dict, progress: Callable[[str], None]) -> list[dict]:
    """The readings of this release's cassette by its matching client and the neighbouring minors ([] without one)."""
    server = (results.get("target") or {}).get("airflow_version")
    cassette = run_dir / "cassette.json"
    if not server or not cassette.is_file():
        return []
    try:
        entries = load_cassette(cassette)
    except ValueError as exc:
        progress(f"Airflow {server}: no client rows: {exc}")
        return []
    done = {r["client"]: r for r in ((results.get("clients") or {}).get("readings") or [])}
    expectations = load_expectations(server)
    out = []
    for client in versions.neighbours(server):
        if client not in done:
            progress(f"Airflow {server}: apache-airflow-client {client} reads {len(entries)} recorded answers")
        reading = done.get(client) or read(client, entries, expectations, progress).as_dict()
        out.append({**reading, "relation": relation(client, server)})
    (run_dir / FILE).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return out


def load(run_dir: Path) -> list[dict]:
    path = run_dir / FILE
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
    except ValueError:
        return []


def cells(columns) -> dict[str, dict]:
    """{client release: {server release: cell}} for compatibility.json."""
    out: dict[str, dict] = {}
    for col in columns:
        for r in col.clients:
            refused = sorted(
                {
                    f"{op} {x['field']}".strip()
                    for op, o in (r.get("operations") or {}).items()
                    for x in o.get("refusals") or []
                    if not x.get("deviation")
                }
            )
            out.setdefault(r["client"], {})[col.version] = {
                "relation": r.get("relation", ""),
                "parsed": r.get("parsed", 0),
                "failed": r.get("failed", 0),
                "excused": r.get("excused", 0),
                "skipped": r.get("skipped", 0),
                "error": r.get("error", ""),
                "refused": refused[:5],
            }
    return {k: out[k] for k in sorted(out, key=Version)}


def cell_text(cell: dict | None) -> str:
    """`✅ 412/412` parsed of read, `❌ 3/415 refused`, `⚠️ 410/412 (2 known)`, `; 9 n/a` answers of operations
    the client does not have, `💥` the client could not run, `·` pair not checked."""
    if not cell:
        return "·"
    if cell["error"]:
        return "💥"
    read_ = cell["parsed"] + cell["failed"] + cell["excused"]
    if cell["failed"]:
        text = f"❌ {cell['failed']}/{read_} refused"
    else:
        text = f"{'⚠️' if cell['excused'] else '✅'} {cell['parsed']}/{read_}" + (
            f" ({cell['excused']} known)" if cell["excused"] else ""
        )
    text += f"; {cell['skipped']} n/a" if cell["skipped"] else ""
    return text + (" (matching)" if cell["relation"] == "matching" else "")


def cell_view(cell: dict | None) -> dict:
    """A client cell as the page shows it, in words: a status, a short text, and the refused fields to open.

    `passed` every answer read, `known_deviation` refusals all explained by deviations, `failed` some refused,
    `error` the client could not run, `absent` the pair was not checked.
    """
    if not cell:
        return {"status": "absent", "text": "not checked", "lines": [], "links": []}
    relation = "" if cell["relation"] == "matching" else f"{cell['relation']} client"  # matching: shown beside it
    if cell["error"]:
        return {
            "status": "error",
            "text": "could not run",
            "lines": [line for line in (relation, cell["error"]) if line],
            "links": [],
            "matching": cell["relation"] == "matching",
        }
    read_ = cell["parsed"] + cell["failed"] + cell["excused"]
    status = "failed" if cell["failed"] else "known_deviation" if cell["excused"] else "passed"
    text = f"{cell['failed']}/{read_} refused" if cell["failed"] else f"{cell['parsed']}/{read_} read"
    notes = (
        [relation]
        + ([f"{cell['excused']} refusals explained by known deviations"] if cell["excused"] else [])
        + ([f"{cell['skipped']} answers of operations it does not have"] if cell["skipped"] else [])
    )
    lines = ["; ".join(n for n in notes if n)] if any(notes) else []
    if cell["refused"]:
        lines.append("refused (first fields): " + ", ".join(cell["refused"]))
    return {"status": status, "text": text, "lines": lines, "links": [], "matching": cell["relation"] == "matching"}
