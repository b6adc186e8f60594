"""Every recorded deviation that applies to a release still occurs there (real Airflow 2.10.5 and 3.3.2).

A known deviation turns a failure into `known_deviation`; an entry whose reproduction no longer
occurs would go on excusing a defect nobody can show. `deviations verify` replays each one
through the guard; here every replayed (deviation, operation) pair must occur, except those marked
`intermittent` (the reason is in the data). A pair that depends on the scheduler's timing gets one
second replay before it counts as absent.
"""

from __future__ import annotations

import json
import os

from tests.harness import cli


def _verify(live, *ids: str) -> list[dict]:
    env = {**os.environ, "AIRFLOW_CONFORMANCE_AUTH": live.auth_spec}  # the secret travels in the environment, not argv
    args = ["deviations", "verify", "--target", live.url, "--auth", "env:AIRFLOW_CONFORMANCE_AUTH", "--json"]
    for dev_id in ids:
        args += ["--id", dev_id]
    proc = cli(*args, timeout=900, env=env)
    assert proc.stdout.strip(), f"verify printed nothing (exit {proc.returncode}): {proc.stderr[-800:]}"
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def test_every_applicable_deviation_occurs(live):
    from conformance.expectations import all_deviations  # noqa: PLC0415

    intermittent = {d.id for d in all_deviations() if d.intermittent}
    everything = _verify(live)
    outcomes = [o for o in everything if not o.get("control")]
    assert len(outcomes) > 50, f"only {len(outcomes)} pairs replayed on {live.version}"
    # a negative control (the request without the trigger) never produces the recorded answer
    controls = [o for o in everything if o.get("control")]
    assert controls, f"no negative control replayed on {live.version}"
    assert [o for o in controls if o["verdict"] == "control produces the answer"] == [], controls
    missing = {(o["id"], o["operation"]) for o in outcomes if o["verdict"] != "occurs" and o["id"] not in intermittent}
    if missing:  # once more, only those: a task that had not run yet, a connection the server dropped
        again = _verify(live, *sorted({dev_id for dev_id, _ in missing}))
        missing = {
            (o["id"], o["operation"])
            for o in again
            if not o.get("control") and (o["id"], o["operation"]) in missing and o["verdict"] != "occurs"
        }
        details = {(o["id"], o["operation"]): o["detail"] for o in again}
        assert not missing, (
            "recorded deviations that do not occur on Airflow "
            + live.version
            + ":\n"
            + "\n".join(f"  {dev_id} {op}: {details.get((dev_id, op), '')[:200]}" for dev_id, op in sorted(missing))
        )
