"""The checks that need Airflow's default auth config (2.0-2.2: `deny_all`), decided in a second run.

The matrix runs each release with the suite's auth config (basic auth), so a
check like `scenario.auth.deny_all_default` is skipped there with
AUTH_DEFAULT_REASON. For such a release the matrix restarts the target with
`--auth-config default`, runs again into `runs/<V>/auth-default/`, and merges
those checks' results into the release's column (here, so `matrix --rebuild`
merges them the same way).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from conformance.run.selection import AUTH_DEFAULT_REASON

DIR = "auth-default"


def pending(results: dict) -> list[dict]:
    """The results of a run that wait for a target with Airflow's default auth config."""
    return [r for r in results.get("results", []) if r.get("status") == "skipped" and r.get("message") == AUTH_DEFAULT_REASON]


def kinds(results: dict) -> str:
    """The --only value of the second run: the tiers of the pending checks."""
    names = {"scenario": "scenarios", "posture": "posture", "property": "properties", "authorization": "authorization"}
    return ",".join(sorted({names[r["kind"]] for r in pending(results)}))


def merge(results: dict, second: dict) -> dict:
    """The release's results with each pending check replaced by its result from the default-auth run.

    The summary counts follow, and a check that failed or errored there makes the release not conformant:
    a merge never turns a failure into a pass.
    """
    merged = copy.deepcopy(results)
    by_id = {r["id"]: r for r in second.get("results", [])}
    summary = merged.setdefault("summary", {})
    waiting = {r["id"] for r in pending(results)}
    replaced = []
    for i, r in enumerate(merged.get("results", [])):
        other = by_id.get(r["id"])
        if r["id"] not in waiting or other is None or pending({"results": [other]}):
            continue
        summary[r["status"]] = summary.get(r["status"], 0) - 1
        summary[other["status"]] = summary.get(other["status"], 0) + 1
        merged["results"][i] = {**other, "message": (other.get("message") or "")
                                + f" (decided on a restart with --auth-config default, run {second.get('run_id')})"}
        replaced.append(r["id"])
        if other["status"] in ("failed", "error") and merged.get("verdict") == "conformant":
            merged["verdict"] = "not conformant"
    merged["auth_default_run"] = {"run_id": second.get("run_id"), "checks": replaced}
    return merged


def load(run_dir: Path) -> dict | None:
    """The default-auth run's results.json under a release's run folder, if there is one."""
    path = run_dir / DIR / "results.json"
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    except ValueError:
        return None
