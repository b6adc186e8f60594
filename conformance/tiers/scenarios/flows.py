"""Multi-step interactions with the probe DAGs, shared by several scenarios.

Field names and paths come from the dialect (expectation data), so the same
flow drives `/api/v1` and `/api/v2` without version branches.
"""

from __future__ import annotations

import itertools

import requests

from conformance.probes import runs
from conformance.probes.dags import PROBE_DAG_ID, unique_logical_date


class Flows:
    def __init__(self, api, dialect: dict, prefix: str) -> None:
        self.api = api
        self.dialect = dialect
        self.prefix = prefix
        self._numbers = itertools.count(1)

    def run_id(self, label: str) -> str:
        return f"{self.prefix}{label}_{next(self._numbers)}"

    def trigger_body(
        self, *, logical_date: str | None = None, run_id: str | None = None, conf: dict | None = None, **extra
    ) -> dict:
        body: dict = {
            self.dialect["logical_date_field"]: logical_date if logical_date is not None else unique_logical_date()
        }
        if run_id is not None:
            body["dag_run_id"] = run_id
        if conf is not None:
            body["conf"] = conf
        body.update(extra)
        return body

    def trigger(self, dag_id: str = PROBE_DAG_ID, **kwargs) -> requests.Response:
        return self.api.call("POST", f"/dags/{dag_id}/dagRuns", json=self.trigger_body(**kwargs))

    def set_paused(self, dag_id: str, paused: bool) -> requests.Response:
        return runs.set_paused(self.api, dag_id, paused)

    def wait_for_run(self, dag_id: str, run_id: str) -> dict:
        """The run's last body seen once it is terminal (or the shared wait ran out)."""
        return runs.wait_until_done(self.api, runs.run_path(dag_id, run_id))
