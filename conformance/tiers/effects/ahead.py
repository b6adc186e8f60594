"""Two runs of the probe DAG dated in the future, so a 2.x DAG-run list holds runs of the tier's own that stay put.

A fresh deployment may hold no run but the probe run, and one run cannot show a
filter, an order or a page. 3.x has the clears' siblings for that (not started
before tomorrow); 2.x's siblings are run by the scheduler, their states moving
while the list is read. A 2.x scheduler leaves a run whose logical date is in
the future alone (`DagRun.next_dagruns_to_examine` keeps `execution_date <= now`
unless `allow_trigger_in_future` is set), so two runs a day ahead stay as made:
beside the finished probe run they give three of the tier's own runs, two
states, and distinct dates. Deleted by `delete`, before the tier ends.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone

from conformance.probes.dags import PROBE_DAG_ID
from conformance.probes.runs import run_path

AHEAD = timedelta(days=1)
GAP = timedelta(seconds=1)


class AheadRuns:
    """The two future-dated runs; `why` says why they could not be made."""

    def __init__(self, api, ctx) -> None:
        self.api, self.ctx = api, ctx
        self.run_ids: list[str] = []
        self.why = ""

    def make(self) -> bool:
        if self.run_ids or self.why:
            return bool(self.run_ids)
        # a random second between one and two days ahead: two suites at once do not meet on one date
        start = datetime.now(timezone.utc) + AHEAD + timedelta(seconds=secrets.randbelow(86_400))
        for n in (1, 2):
            run_id = f"{self.ctx.prefix}eff_ahead_{n}"
            body = {"execution_date": (start + n * GAP).isoformat(), "dag_run_id": run_id, "conf": {"acf": "ahead"}}
            resp = self.api.call("POST", f"/dags/{PROBE_DAG_ID}/dagRuns", json=body)
            if resp.status_code not in (200, 201):
                self.why = f"triggering a future-dated run of the probe DAG answered {resp.status_code}"
                return False
            self.run_ids.append(run_id)
        return True

    def delete(self) -> None:
        for run_id in self.run_ids:
            self.api.call("DELETE", run_path(PROBE_DAG_ID, run_id))
        self.run_ids = []
