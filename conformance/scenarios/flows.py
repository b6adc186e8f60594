"""Multi-step interactions with the probe DAGs, shared by several scenarios.

Field names and paths come from the dialect (expectation data), so the same
flow drives `/api/v1` and `/api/v2` without version branches.
"""

from __future__ import annotations

import itertools
import time
from datetime import datetime, timedelta, timezone

import requests

from conformance.local.probe_dags import PROBE_DAG_ID, TERMINAL

_counter = itertools.count(1)


def unique_date() -> str:
    """A logical date no other run of this suite uses (microseconds keep runs apart).

    It lies after the probe DAGs' start_date (2021-01-01): a run dated earlier
    gets no task instances and "succeeds" without running anything.
    """
    base = datetime(2022, 1, 1, tzinfo=timezone.utc)
    offset = timedelta(seconds=int(time.time()) % 10_000_000, microseconds=next(_counter))
    return (base + offset).isoformat()


class Flows:
    def __init__(self, api, dialect: dict, prefix: str) -> None:
        self.api = api
        self.dialect = dialect
        self.prefix = prefix

    def run_id(self, label: str) -> str:
        return f"{self.prefix}{label}_{next(_counter)}"

    def trigger_body(self, *, logical_date: str | None = None, run_id: str | None = None, conf: dict | None = None, **extra) -> dict:
        body: dict = {self.dialect["logical_date_field"]: logical_date if logical_date is not None else unique_date()}
        if run_id is not None:
            body["dag_run_id"] = run_id
        if conf is not None:
            body["conf"] = conf
        body.update(extra)
        return body

    def trigger(self, dag_id: str = PROBE_DAG_ID, **kwargs) -> requests.Response:
        return self.api.call("POST", f"/dags/{dag_id}/dagRuns", json=self.trigger_body(**kwargs))

    def set_paused(self, dag_id: str, paused: bool) -> requests.Response:
        return self.api.call("PATCH", f"/dags/{dag_id}", params={"update_mask": "is_paused"}, json={"is_paused": paused})

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 120.0) -> dict:
        """Poll (bounded) until the run is terminal; returns the last run body seen."""
        deadline = time.monotonic() + timeout
        last: dict = {}
        while time.monotonic() < deadline:
            resp = self.api.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
            if resp.status_code == 200:
                last = resp.json()
                if last.get("state") in TERMINAL:
                    return last
            time.sleep(1.0)
        return last
