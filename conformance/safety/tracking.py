"""Learn from confirmed responses what the run created or deleted.

Kept apart from the guard: the guard decides before a request leaves, the
tracker records after the server has answered, whatever code sent it.
"""

from __future__ import annotations

import json

from conformance.http.client import SAFE_METHODS
from conformance.http.router import Match
from conformance.model.resources import BY_COLLECTION, BY_PARAM
from conformance.safety.ledger import PARAM_KINDS, Entry, Ledger

# collection template suffix -> (ledger kind, identifying field); users, roles: only a disruptive run creates them
KINDS = {rel: (k.kind, k.field) for rel, k in BY_COLLECTION.items()}


def _json(data: bytes | str | None) -> object:
    try:
        return json.loads(data) if data else None
    except (ValueError, UnicodeDecodeError, TypeError):
        return None


def record(
    ledger: Ledger, router, match: Match | None, method: str, request_body, status: int, response_body: bytes | None
) -> None:
    """Update the ledger from one answered request (no-op for reads and failures)."""
    if match is None or router is None or not 200 <= status < 300 or method in SAFE_METHODS:
        return
    rel = router.relative(match.route.template)
    params = match.path_params
    sent = _json(request_body)
    got = _json(response_body)
    if method == "POST" and rel in KINDS:
        kind, field = KINDS[rel]
        name = (got or {}).get(field) if isinstance(got, dict) else None
        name = name or (sent.get(field) if isinstance(sent, dict) else None)
        if isinstance(name, str):
            ledger.created(Entry(kind, name))
        return
    if method == "PATCH" and rel in KINDS and isinstance(sent, dict):  # 3.x bulk
        kind, field = KINDS[rel]
        for action in sent.get("actions") or []:
            if not isinstance(action, dict):
                continue
            for entity in action.get("entities") or []:
                name = entity.get(field) if isinstance(entity, dict) else entity
                if not isinstance(name, str):
                    continue
                if action.get("action") == "create":
                    ledger.created(Entry(kind, name))
                elif action.get("action") == "delete":
                    ledger.deleted(Entry(kind, name))
        return
    if method == "POST" and rel == "/dags/{dag_id}/dagRuns" and isinstance(got, dict):
        run_id = got.get("dag_run_id") or got.get("run_id")
        if isinstance(run_id, str):
            ledger.created(Entry("dag_run", run_id, params.get("dag_id", "")))
        return
    if method == "POST" and rel == "/backfills" and isinstance(got, dict) and "id" in got:
        ledger.created(Entry("backfill", str(got["id"]), str(got.get("dag_id", ""))))
        return
    for param, kind in PARAM_KINDS.items():
        if param in params and rel.endswith(f"{{{param}}}"):
            old = Entry(kind, params[param])
            if method == "DELETE":
                ledger.deleted(old)
            elif isinstance(got, dict):
                new = got.get(BY_PARAM[param].field)
                if isinstance(new, str) and new != old.key and ledger.contains(kind, old.key):
                    ledger.created(Entry(kind, new))
                    ledger.deleted(old)
            return
    if method == "DELETE" and rel == "/dags/{dag_id}/dagRuns/{dag_run_id}":
        ledger.deleted(Entry("dag_run", params["dag_run_id"], params["dag_id"]))
    elif method == "DELETE" and rel == "/dags/{dag_id}":
        for entry in ledger.live():
            if entry.kind == "dag_run" and entry.dag_id == params["dag_id"]:
                ledger.deleted(entry)
