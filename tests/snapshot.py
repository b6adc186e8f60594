"""What a deployment holds, read directly (API as admin, plus the SQLite metadata DB of a local target).

The safety tests compare snapshots taken before and after a run: nothing that
existed may change, and nothing the run created may remain.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import requests

from tests.targets import Target

PREFIX = "acf_"
SEED_PREFIX = "team_"


def _all(s: requests.Session, url: str, key: str) -> list[dict]:
    items, offset = [], 0
    while True:
        body = s.get(url, params={"limit": 100, "offset": offset}, timeout=60).json()
        page = body.get(key, [])
        items += page
        if not page or len(items) >= body.get(
            "total_entries", 0
        ):  # pages may be shorter than asked (maximum_page_limit)
            return items
        offset += len(page)


def _db_rows(home: Path, query: str) -> list[tuple]:
    with sqlite3.connect(home / "airflow.db") as db:
        return sorted(db.execute(query).fetchall(), key=repr)


def snapshot(live: Target, home: Path) -> dict:
    """Everything the safety model protects, keyed by kind."""
    s = live.session()
    base = live.api_root
    dags = _all(s, f"{base}/dags", "dags")
    snap = {
        "variables": _db_rows(home, "select key, val, description from variable"),
        "pools": _db_rows(home, "select pool, slots, description from slot_pool"),
        "connections": _db_rows(home, "select conn_id, conn_type, host, login, password, extra from connection"),
        "dag_runs": _db_rows(home, "select dag_id, run_id, state from dag_run"),
        # the disposable probe DAG is the suite's to delete (it returns when its file is parsed again)
        "paused": sorted((d["dag_id"], d["is_paused"]) for d in dags if d["dag_id"] != "conformance_probe_disposable"),
    }
    if live.api == "v1":
        snap["users"] = _db_rows(home, "select username, email, password, active from ab_user")
        snap["roles"] = _db_rows(home, "select name from ab_role")
        snap["role_permissions"] = _db_rows(home, "select permission_view_id, role_id from ab_permission_view_role")
    return snap


def leftovers(snap: dict) -> list:
    """Objects named with the suite's prefix (anything a run failed to delete)."""
    out = []
    for kind in ("variables", "pools", "connections"):
        out += [(kind, row[0]) for row in snap[kind] if str(row[0]).startswith(PREFIX)]
    out += [("dag_runs", row[1]) for row in snap["dag_runs"] if str(row[1]).startswith(PREFIX)]
    return out


def seed(live: Target) -> None:
    """Objects a real deployment would have: the suite must not touch any of them."""
    s = live.session()
    base = live.api_root
    s.post(f"{base}/variables", json={"key": f"{SEED_PREFIX}var", "value": "precious"}, timeout=30)
    s.post(f"{base}/pools", json={"name": f"{SEED_PREFIX}pool", "slots": 7}, timeout=30)
    s.post(
        f"{base}/connections",
        json={
            "connection_id": f"{SEED_PREFIX}conn",
            "conn_type": "http",
            "host": "db.internal",
            "login": "svc",
            "password": "team-secret-password",
        },
        timeout=30,
    )
    date_field = "execution_date" if live.api == "v1" else "logical_date"
    s.post(
        f"{base}/dags/example_bash_operator/dagRuns",
        json={"dag_run_id": f"{SEED_PREFIX}run", date_field: "2023-03-04T05:06:07+00:00"},
        timeout=30,
    )
    # a non-default pause state on an example DAG
    s.patch(
        f"{base}/dags/example_bash_operator", params={"update_mask": "is_paused"}, json={"is_paused": False}, timeout=30
    )
    s.patch(
        f"{base}/dags/example_bash_operator", params={"update_mask": "is_paused"}, json={"is_paused": True}, timeout=30
    )
    unscheduled = [
        d["dag_id"]
        for d in _all(s, f"{base}/dags", "dags")
        if not d["dag_id"].startswith("conformance")
        and not d.get("schedule_interval")
        and d.get("timetable_summary") in (None, "None")
        and d.get("is_paused")
    ]
    if unscheduled:  # unpaused but never scheduled: a non-default state that stays put
        s.patch(
            f"{base}/dags/{unscheduled[0]}", params={"update_mask": "is_paused"}, json={"is_paused": False}, timeout=30
        )
    if live.api == "v1":
        s.post(f"{base}/roles", json={"name": f"{SEED_PREFIX}role", "actions": []}, timeout=30)
        s.post(
            f"{base}/users",
            json={
                "username": f"{SEED_PREFIX}user",
                "email": "team@example.invalid",
                "first_name": "T",
                "last_name": "U",
                "password": "team-user-password",
                "roles": [{"name": "Viewer"}],
            },
            timeout=30,
        )
