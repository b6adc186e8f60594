"""Leave the target as it was: delete what a run created, restore probe DAG pause states.

Used at the end of every run (also after Ctrl-C/SIGTERM), and by the
`cleanup` command, which sweeps leftovers of crashed runs by name prefix.
Every request still passes the guard, so cleanup cannot delete anything
the sandbox rules would not let a run touch.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import quote

import requests

from conformance.http.paging import list_all
from conformance.model.resources import ADMIN_KINDS, SANDBOX_KINDS
from conformance.model.timing import Wait
from conformance.probes import runs
from conformance.safety.guard import RequestRefused
from conformance.safety.ledger import Entry, Ledger

log = logging.getLogger(__name__)
REPARSE_WAIT_S = 45.0  # how long a reparsed probe DAG file may take to show up again

PAGE = 100
# kind -> (collection path, list field, identifying field)
COLLECTIONS = {k.kind: (k.collection, k.list_field, k.field) for k in SANDBOX_KINDS}
# users and roles: only a disruptive run creates them (named with its prefix), and only 2.x's API has them
ADMIN_COLLECTIONS = {k.kind: (k.collection, k.list_field, k.field) for k in ADMIN_KINDS}


def _collections(session) -> dict[str, tuple[str, str, str]]:
    """The collections a sweep lists: the admin ones only where the target's spec has them (no request for a 404)."""
    router = getattr(getattr(session, "guard", None), "router", None)
    templates = {router.relative(r.template) for r in router.routes if r.method == "GET"} if router else set()
    return {**COLLECTIONS, **{k: v for k, v in ADMIN_COLLECTIONS.items() if v[0] in templates}}


def _path(entry: Entry) -> str:
    if entry.kind == "dag_run":
        return f"/dags/{quote(entry.dag_id, safe='')}/dagRuns/{quote(entry.key, safe='')}"
    if entry.kind == "backfill":
        return f"/backfills/{quote(entry.key, safe='')}/cancel"
    collection = (COLLECTIONS.get(entry.kind) or ADMIN_COLLECTIONS[entry.kind])[0]
    return f"{collection}/{quote(entry.key, safe='')}"


def delete_entry(session, entry: Entry) -> str | None:
    """Delete one object; None on success or already gone, else a problem description."""
    try:
        if entry.kind == "backfill":
            resp = session.call("PUT", _path(entry))
            ok = resp.status_code in (200, 404, 409)
        else:
            resp = session.call("DELETE", _path(entry))
            if resp.status_code == 409 and entry.kind == "dag_run":  # Airflow 3 keeps a running run: end it first
                session.call("PATCH", _path(entry), json={"state": "failed"})
                resp = session.call("DELETE", _path(entry))
            ok = resp.status_code in (200, 204, 404)
    except RequestRefused as exc:
        return f"{entry.kind} {entry.key}: refused by the guard ({exc.reason})"
    except requests.RequestException as exc:
        return f"{entry.kind} {entry.key}: {type(exc).__name__}"
    if ok:
        session.guard.ledger.deleted(entry)
        return None
    return f"{entry.kind} {entry.key}: DELETE answered {resp.status_code}"


def bring_back(session, probe_dags: dict, dag_id: str, wait: float = REPARSE_WAIT_S) -> None:
    """A deleted probe DAG returns when its file is parsed again; ask for that and wait (bounded)."""
    token = (probe_dags.get(dag_id) or {}).get("file_token")
    try:
        if session.call("GET", f"/dags/{dag_id}").status_code == 200:
            return
        if token:
            session.call("PUT", f"/parseDagFile/{token}")
        if wait <= 0:  # asked for the file; the DAG's return is left to a later wait
            return
        started = time.monotonic()
        try:
            while time.monotonic() < started + wait:
                if session.call("GET", f"/dags/{dag_id}").status_code == 200:
                    return
                time.sleep(1.0)
        finally:
            session.stats.wait(Wait.REPARSE, time.monotonic() - started)
    except (RequestRefused, requests.RequestException) as exc:
        log.info("could not bring back %s: %s", dag_id, exc)


def restore_pause_states(session, ledger: Ledger, dag_ids) -> list[str]:
    """Put each probe DAG back into the pause state noted at the start of the run."""
    noted = ((dag_id, ledger.pause_state(dag_id)) for dag_id in dag_ids)
    return [p for p in (runs.restore_paused(session, d, o) for d, o in noted if o is not None) if p]


def _pause_probe_dags(session, ledger: Ledger, dag_ids) -> None:
    """Pause the probe DAGs before deleting their runs; the original state is restored afterwards.

    Deleting a run the scheduler is working on can crash a 2.x scheduler
    (StaleDataError on dag_run), so runs are only deleted while nothing schedules them.
    """
    for dag_id in dag_ids:
        if ledger.pause_state(dag_id) is None:
            continue
        try:
            runs.set_paused(session, dag_id, True)
        except (RequestRefused, requests.RequestException):
            pass


def delete_early(session, ledger: Ledger, entries: list[Entry]) -> list[str]:
    """Delete some of the run's objects before its end, read back as at the end.

    What a DELETE did not remove stays in the ledger, so the run's cleanup tries again and reports it.
    """
    deleted = [entry for entry in entries if delete_entry(session, entry) is None]
    return still_there(session, ledger, deleted)


def finish(session, ledger: Ledger, probe_dag_ids, prefix: str | None = None) -> list[str]:
    """Delete everything in the ledger (and, with `prefix`, anything else named with it), restore pause states.

    Returns what could not be done; the ledger file stays on disk in that case
    so `cleanup` can finish the job later.
    """
    _pause_probe_dags(session, ledger, probe_dag_ids)  # deleting runs of an active DAG races its scheduler
    problems: list[str] = []
    deleted: list[Entry] = []
    for entry in ledger.live():
        problem = delete_entry(session, entry)
        if problem:
            problems.append(problem)
        else:
            deleted.append(entry)
    if prefix:
        swept, more = sweep(session, prefix, probe_dag_ids)
        problems += more
        deleted += [e for e in swept if e not in deleted]
    problems += still_there(session, ledger, deleted)
    problems += restore_pause_states(session, ledger, probe_dag_ids)
    if not problems:
        ledger.discard_file()
    return problems


def still_there(session, ledger: Ledger, entries: list[Entry]) -> list[str]:
    """Read every deleted object back: one the target still serves is a problem, and back in the ledger.

    A DELETE answered 204 proves nothing about the target (a broken server may
    answer it and keep the object); a GET that no longer finds it does. What is
    still there stays in the ledger file, so `airflow-conformance cleanup` can
    try again later.
    """
    problems = []
    for entry in entries:
        if entry.kind == "backfill":  # cancelled, not deleted: a cancelled backfill is still listed by design
            continue
        try:
            status = session.call("GET", _path(entry)).status_code
        except (RequestRefused, requests.RequestException) as exc:
            problems.append(
                f"{entry.kind} {entry.key}: could not be read back after its deletion ({type(exc).__name__})"
            )
            continue
        if status == 200:
            ledger.created(entry)
            problems.append(
                f"{entry.kind} {entry.key}: still on the target after its DELETE was answered "
                "(read back with GET: 200); `airflow-conformance cleanup` can try again"
            )
    return problems


def _list_all(session, path: str, field: str, ident: str, problems: list[str]) -> list:
    """Every item of a collection; a paging fault (offset ignored, budget spent) is added to `problems`.

    An answer that is not a 200 page ends the listing quietly, as before: a
    collection the credentials cannot list holds nothing this run could have made.
    """
    listing = list_all(session, path, field, ident=ident, page_size=PAGE)
    if listing.problem and listing.response is None:
        problems.append(f"listing {path} for leftovers: {listing.problem}")
    return listing.items


def sweep(session, prefix: str, probe_dag_ids) -> tuple[list[Entry], list[str]]:
    """Find objects named with `prefix` (variables, pools, connections, users, roles, probe DAG runs) and delete them."""
    found: list[Entry] = []
    problems: list[str] = []
    for kind, (path, field, ident) in _collections(session).items():
        for item in _list_all(session, path, field, ident, problems):
            name = item.get(ident) if isinstance(item, dict) else None
            if isinstance(name, str) and name.startswith(prefix):
                found.append(Entry(kind, name))
    for dag_id in probe_dag_ids:
        for run in _list_all(session, f"/dags/{dag_id}/dagRuns", "dag_runs", "dag_run_id", problems):
            run_id = run.get("dag_run_id") if isinstance(run, dict) else None
            if isinstance(run_id, str) and run_id.startswith(prefix):
                found.append(Entry("dag_run", run_id, dag_id))
    for entry in found:
        problem = delete_entry(session, entry)
        if problem:
            problems.append(problem)
    return found, problems
