"""State a local target holds before any run: one queued asset event (Airflow 3.x).

Airflow 3.0 answers 404, not an empty list, to GET /assets/{asset_id}/queuedEvents and
GET /dags/{dag_id}/assets/queuedEvents when nothing is queued, so without a queued event
no run sees a 2xx of either operation (the official client's reading of them stays
undecided). A run may not make one: an asset event cannot be deleted over the API, and
the suite removes everything it creates. So `up`, which provisions the suite's own
throw-away target, makes it instead, once per home:

- the asset probe DAG (conformance/probe_dags/probe_assets.py.j2) is scheduled on two
  assets of its own and created paused;
- Airflow queues a DAG only for *unpaused* consumers of an asset, so `up` unpauses it,
  posts one event of the first asset (POST /assets/events) and pauses it again;
- the queue row stays (a paused DAG keeps its queue) and no run starts (the second asset
  never gets an event).

Idempotent: nothing is posted while the DAG already has the event queued, so repeated `up`
on a warm home adds no events. The DAG is not one of the run's probe DAGs, so the guard
lets no sandbox run pause, trigger or clear it (a disruptive run's guard would, but no
write of the suite is aimed at it); should anything consume the event, the next `up`
queues a new one. Failing to seed never fails `up`: the two reads then stay undecided,
as before, and progress says why.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import requests

from conformance.probes.dags import ASSETS_DAG_ID, QUEUED_ASSET, queued_asset_id

SEED_WAIT_S = 90  # a freshly installed DAG file is listed within 5 s and parsed in a fresh process
EVENT_EXTRA = {"airflow-conformance": "queued-event fixture of the local target (posted by `up`)"}


class _Unavailable(Exception):
    """The fixture cannot be made on this target now; the message says why."""


def ensure_queued_asset_event(
    api, dags_folder: Path, progress: Callable[[str], None], wait_s: float = SEED_WAIT_S
) -> bool:
    """Leave the asset probe DAG with its first asset's event queued; True when it is (already or now).

    `api.call(method, path, body=..., params=...)` sends one admin request under the API root.
    """
    if not (Path(dags_folder) / f"{ASSETS_DAG_ID}.py").is_file():
        progress(f"no {ASSETS_DAG_ID}.py in {dags_folder}: no queued asset event (run `down` and `up` to install it)")
        return False
    try:
        asset_id, paused = _wait_for_dag(api, wait_s)
        if _queued(api, asset_id):
            if not paused:  # e.g. a disruptive run's PATCH /dags?dag_id_pattern=conformance_probe matches it too
                # (unpausing consumes nothing: the DAG still waits on its second asset); paused as `up` left it
                _set_paused(api, True)
            progress(f"queued asset event of {QUEUED_ASSET} (asset {asset_id}) for {ASSETS_DAG_ID}: present")
            return True
        _post_event(api, asset_id, paused)
        if not _queued(api, asset_id):
            raise _Unavailable(f"the event of asset {asset_id} was posted but {ASSETS_DAG_ID} has nothing queued")
    except (_Unavailable, requests.RequestException, ValueError) as exc:
        progress(f"no queued asset event for {ASSETS_DAG_ID}: {exc}")
        return False
    progress(f"queued one asset event of {QUEUED_ASSET} (asset {asset_id}) for {ASSETS_DAG_ID}")
    return True


def _wait_for_dag(api, wait_s: float) -> tuple[int, bool]:
    """(id of the first asset, whether the DAG is paused) once both are visible over the API."""
    deadline = time.monotonic() + wait_s
    while True:
        dag = api.call("GET", f"/dags/{ASSETS_DAG_ID}")
        if dag.status_code == 200:
            assets = api.call("GET", "/assets", params={"name_pattern": QUEUED_ASSET, "limit": 10})
            asset_id = queued_asset_id(assets.json().get("assets")) if assets.status_code == 200 else None
            if asset_id is not None:
                return asset_id, bool(dag.json().get("is_paused"))
        if time.monotonic() > deadline:
            raise _Unavailable(f"{ASSETS_DAG_ID} or its asset {QUEUED_ASSET} not visible after {wait_s:.0f} s")
        time.sleep(2)


def _queued(api, asset_id: int) -> bool:
    """Whether the DAG has the asset's event queued (3.0 answers 404 for an empty queue, 3.1+ an empty list)."""
    resp = api.call("GET", f"/dags/{ASSETS_DAG_ID}/assets/queuedEvents")
    if resp.status_code == 404:
        return False
    if resp.status_code != 200:
        raise _Unavailable(f"GET /dags/{ASSETS_DAG_ID}/assets/queuedEvents answered {resp.status_code}")
    return any(isinstance(e, dict) and e.get("asset_id") == asset_id for e in resp.json().get("queued_events") or [])


def _set_paused(api, paused: bool) -> None:
    # with update_mask, as conformance.probes.runs.set_paused: the one form every release takes
    resp = api.call("PATCH", f"/dags/{ASSETS_DAG_ID}", body={"is_paused": paused}, params={"update_mask": "is_paused"})
    if resp.status_code != 200:
        raise _Unavailable(f"PATCH /dags/{ASSETS_DAG_ID} is_paused={paused} answered {resp.status_code}")


def _post_event(api, asset_id: int, paused: bool) -> None:
    """One event of the asset while the DAG is unpaused; the DAG is left paused whatever happens."""
    try:
        if paused:
            _set_paused(api, False)
        resp = api.call("POST", "/assets/events", body={"asset_id": asset_id, "extra": EVENT_EXTRA})
        if resp.status_code not in (200, 201):
            raise _Unavailable(f"POST /assets/events answered {resp.status_code}")
    finally:
        _set_paused(api, True)
