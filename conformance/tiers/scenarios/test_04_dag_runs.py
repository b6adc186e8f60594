"""DAG runs on the probe DAG: trigger, read back, conflict, change state, delete.

Every run is created by the suite on its own probe DAG and recorded in the
ledger; the module deletes its runs when it ends (see `probe_paused`), and
whatever stays is the run's cleanup's.
"""

from __future__ import annotations

import pytest

from conformance.checks.metadata import scenario
from conformance.context import CheckContext
from conformance.model.reasons import ReasonCode
from conformance.probes.dags import MARKER, PROBE_DAG_ID, PROBE_TASK_ID, XCOM_KEY
from conformance.safety.cleanup import delete_early
from conformance.verdict import skip

SANDBOX = {"tier": "sandbox", "needs": ["probe_dags"]}
CONF = {"acf": "conf round-trip", "n": 3, "nested": {"ok": True}}


def _created_run(flows, verdict, expect, label: str, what: str) -> str:
    """Trigger a run under a new id, checked against the release's documented trigger status.

    The setup of the checks that act on an existing run: its id comes back either way,
    so the check goes on to show what the release does with it.
    """
    run_id = flows.run_id(label)
    verdict.status(flows.trigger(run_id=run_id), expect["first_status"], what)
    return run_id


@pytest.fixture(scope="module", autouse=True)
def probe_paused(ctx: CheckContext, flows):
    """Runs created here stay queued: deleting a run the scheduler is working on can crash a 2.x scheduler.

    They are deleted when the module ends, still paused (and read back, as the run's cleanup does): a later
    tier unpauses the DAG for a run of its own, and a 2.x SequentialExecutor would first run every task of
    these (about 8 s a run on a local 2.10.5, the later tier waiting).
    """
    if PROBE_DAG_ID not in ctx.probe_dags or ctx.options.profile == "readonly":
        yield
        return
    before = {entry.ident() for entry in ctx.ledger.live()}
    flows.set_paused(PROBE_DAG_ID, True)
    yield
    flows.set_paused(PROBE_DAG_ID, True)
    mine = [
        e for e in ctx.ledger.live() if e.kind == "dag_run" and e.dag_id == PROBE_DAG_ID and e.ident() not in before
    ]
    delete_early(ctx.session, ctx.ledger, mine)  # what stays is the run's cleanup's to report


@pytest.fixture(scope="module")
def completed_run(ctx: CheckContext, flows, probe_paused):
    """One run of the probe DAG, triggered with a conf and left to finish (unpaused for the duration)."""
    flows.set_paused(PROBE_DAG_ID, False)
    resp = flows.trigger(conf=CONF)
    body = resp.json() if resp.status_code == 200 else {}
    run_id = body.get("dag_run_id")
    final = flows.wait_for_run(PROBE_DAG_ID, run_id) if run_id else {}
    flows.set_paused(PROBE_DAG_ID, True)  # the original state comes back at the end of the run
    return {"trigger": resp, "body": body, "run_id": run_id, "final": final}


@scenario(
    "dag_runs.trigger_queued",
    "Triggering a DAG answers with the new run (queued from 2.1)",
    "POST /dags/{dag_id}/dagRuns MUST answer the documented status with the new run in its initial state (queued; running before 2.1).",
    operations=["post_dag_run", "trigger_dag_run"],
    **SANDBOX,
)
def test_trigger_queued(completed_run, verdict, expect):
    resp = completed_run["trigger"]
    verdict.status(resp, expect["status"], "trigger the probe DAG")
    state = completed_run["body"].get("state")
    verdict.that(state == expect["initial_state"], f"new run state is {state!r}, expected {expect['initial_state']!r}")
    verdict.schema(resp, "POST dagRuns")


@scenario(
    "dag_runs.default_run_id",
    "A run without a given id is named manual__<date>",
    "A triggered run without dag_run_id MUST get an id starting with manual__.",
    operations=["post_dag_run", "trigger_dag_run"],
    **SANDBOX,
)
def test_default_run_id(completed_run, verdict):
    run_id = completed_run["run_id"] or ""
    verdict.that(run_id.startswith("manual__"), f"run id {run_id!r} does not start with manual__")


@scenario(
    "dag_runs.conf_round_trip",
    "The trigger conf reads back unchanged",
    "The conf given at trigger time MUST be returned unchanged by the run.",
    operations=["post_dag_run", "trigger_dag_run", "get_dag_run"],
    **SANDBOX,
)
def test_conf_round_trip(api, completed_run, verdict):
    verdict.that(completed_run["run_id"] is not None, "the trigger did not create a run")
    resp = api.call("GET", f"/dags/{PROBE_DAG_ID}/dagRuns/{completed_run['run_id']}")
    verdict.status(resp, 200, "GET the run")
    verdict.that(resp.json().get("conf") == CONF, f"conf reads back as {resp.json().get('conf')!r}")
    verdict.schema(resp, "GET dagRun")


@scenario(
    "dag_runs.reaches_success",
    "A triggered run of the probe DAG succeeds",
    "A triggered run of an unpaused DAG MUST be executed and reach state success.",
    operations=["get_dag_run"],
    needs=["probe_dags", "scheduler"],
    tier="sandbox",
)
def test_reaches_success(completed_run, verdict):
    state = completed_run["final"].get("state")
    verdict.that(state == "success", f"the probe run ended in state {state!r} (waited up to 120 s)")


@scenario(
    "task_instances.xcom_readable",
    "The probe task's XCom is readable",
    "An XCom pushed by a task MUST be readable through the xcomEntries endpoint.",
    operations=["get_xcom_entry", "get_xcom_entries"],
    needs=["probe_dags", "scheduler"],
    tier="sandbox",
)
def test_xcom(api, completed_run, verdict):
    if completed_run["final"].get("state") != "success":
        skip("the probe run did not succeed", ReasonCode.PROBE_RUN)
    base = f"/dags/{PROBE_DAG_ID}/dagRuns/{completed_run['run_id']}/taskInstances/{PROBE_TASK_ID}/xcomEntries"
    listing = api.call("GET", base)
    verdict.status(listing, 200, "list XCom entries")
    keys = [e.get("key") for e in listing.json().get("xcom_entries", [])]
    verdict.that(XCOM_KEY in keys, f"XCom key {XCOM_KEY!r} not listed: {keys}")
    entry = api.call("GET", f"{base}/{XCOM_KEY}")
    verdict.status(entry, 200, "GET the XCom entry")
    verdict.that(MARKER in entry.text, "the XCom value does not carry the probe marker")
    verdict.schema(entry, "GET xcomEntry")


@scenario(
    "task_instances.log_readable",
    "The probe task's log is readable",
    "The log of a finished task try MUST be readable and contain what the task logged.",
    operations=["get_log"],
    needs=["probe_dags", "scheduler"],
    tier="sandbox",
)
def test_log(api, completed_run, verdict, dialect):
    if completed_run["final"].get("state") != "success":
        skip("the probe run did not succeed", ReasonCode.PROBE_RUN)
    path = f"/dags/{PROBE_DAG_ID}/dagRuns/{completed_run['run_id']}/taskInstances/{PROBE_TASK_ID}/logs/1"
    resp = api.call("GET", path, params={"full_content": "true"}, headers={"Accept": dialect["log_accept"]})
    verdict.status(resp, 200, "GET the task log")
    verdict.that(MARKER in resp.text, f"the task log does not contain {MARKER}")


@scenario(
    "task_instances.list_for_run",
    "Task instances of a run are listed",
    "GET .../taskInstances MUST list the run's task instances with the documented schema.",
    operations=["get_task_instances"],
    **SANDBOX,
)
def test_task_instances(api, completed_run, verdict):
    verdict.that(completed_run["run_id"] is not None, "the trigger did not create a run")
    resp = api.call("GET", f"/dags/{PROBE_DAG_ID}/dagRuns/{completed_run['run_id']}/taskInstances")
    verdict.status(resp, 200, "list task instances")
    ids = [t.get("task_id") for t in resp.json().get("task_instances", [])]
    verdict.that(PROBE_TASK_ID in ids, f"task {PROBE_TASK_ID} not listed: {ids}")
    verdict.schema(resp, "GET taskInstances")


@scenario(
    "dag_runs.state_is_read_only",
    "state cannot be set when triggering",
    "A trigger body containing `state` MUST be rejected (read-only field) and create no run.",
    operations=["post_dag_run", "trigger_dag_run"],
    **SANDBOX,
)
def test_state_read_only(flows, verdict, expect):
    run_id = flows.run_id("readonly_state")
    resp = flows.trigger(run_id=run_id, state="success")
    verdict.status(resp, expect["status"], "trigger with state=success")
    if expect.get("detail"):
        verdict.that(expect["detail"] in resp.text, f"error does not say {expect['detail']!r}: {resp.text[:200]}")
    gone = flows.api.call("GET", f"/dags/{PROBE_DAG_ID}/dagRuns/{run_id}")
    verdict.status(gone, 404, "the rejected run must not exist")


@scenario(
    "dag_runs.duplicate_logical_date_conflict",
    "A second run for the same logical date is a conflict",
    "Triggering a DAG twice with the same execution/logical date MUST answer 409.",
    operations=["post_dag_run", "trigger_dag_run"],
    **SANDBOX,
)
def test_duplicate_date(flows, verdict, expect):
    from conformance.probes.dags import unique_logical_date  # noqa: PLC0415

    date = unique_logical_date()
    first = flows.trigger(logical_date=date, run_id=flows.run_id("dup_date_a"))
    verdict.status(first, expect["first_status"], "first trigger")
    second = flows.trigger(logical_date=date, run_id=flows.run_id("dup_date_b"))
    verdict.status(second, 409, "second trigger with the same logical date", step="second_trigger")


@scenario(
    "dag_runs.duplicate_run_id_conflict",
    "A second run with the same dag_run_id is a conflict",
    "Triggering a DAG twice with the same dag_run_id MUST answer 409.",
    operations=["post_dag_run", "trigger_dag_run"],
    **SANDBOX,
)
def test_duplicate_run_id(flows, verdict, expect):
    run_id = _created_run(flows, verdict, expect, "dup_id", "first trigger")
    second = flows.trigger(run_id=run_id)
    verdict.status(second, 409, "second trigger with the same dag_run_id")


@scenario(
    "dag_runs.delete_then_not_found",
    "Deleting a run answers 204, then 404",
    "DELETE of a run MUST answer 204 with an empty body; GET and a second DELETE MUST then answer 404.",
    operations=["delete_dag_run", "get_dag_run"],
    **SANDBOX,
)
def test_delete_run(flows, verdict, expect):
    run_id = _created_run(flows, verdict, expect, "delete", "trigger")
    path = f"/dags/{PROBE_DAG_ID}/dagRuns/{run_id}"
    resp = flows.api.call("DELETE", path)
    verdict.status(resp, 204, "DELETE the run")
    verdict.that(resp.content == b"", f"204 with a body: {resp.text[:100]}")
    verdict.status(flows.api.call("GET", path), 404, "GET the deleted run")
    verdict.status(flows.api.call("DELETE", path), 404, "DELETE the deleted run again")


@scenario(
    "dag_runs.patch_state",
    "A run's state can be set to a final state",
    "PATCH of a run with state failed/success MUST answer 200 and the run MUST read back in that state.",
    operations=["update_dag_run_state", "patch_dag_run"],
    since="2.2",
    **SANDBOX,
)
def test_patch_state(flows, verdict):
    run_id = flows.run_id("patch_state")
    verdict.status(flows.trigger(run_id=run_id), 200, "trigger")
    path = f"/dags/{PROBE_DAG_ID}/dagRuns/{run_id}"
    resp = flows.api.call("PATCH", path, json={"state": "failed"})
    verdict.status(resp, 200, "PATCH state=failed")
    verdict.that(resp.json().get("state") == "failed", f"state reads {resp.json().get('state')!r}")
    verdict.that(flows.api.call("GET", path).json().get("state") == "failed", "GET does not show state failed")


@scenario(
    "dag_runs.patch_invalid_state_rejected",
    "An invalid target state is rejected",
    "PATCH of a run with a state outside the documented enum MUST be rejected.",
    operations=["update_dag_run_state", "patch_dag_run"],
    since="2.2",
    **SANDBOX,
)
def test_patch_invalid_state(flows, verdict, expect):
    run_id = flows.run_id("bad_state")
    verdict.status(flows.trigger(run_id=run_id), 200, "trigger")
    resp = flows.api.call("PATCH", f"/dags/{PROBE_DAG_ID}/dagRuns/{run_id}", json={"state": "running"})
    verdict.status(resp, expect["status"], "PATCH state=running")


@scenario(
    "dag_runs.conf_must_be_object",
    "conf must be a JSON object",
    "A trigger whose conf is not a JSON object MUST be rejected.",
    operations=["post_dag_run", "trigger_dag_run"],
    **SANDBOX,
)
def test_conf_object(flows, verdict, expect):
    run_id = flows.run_id("conf_list")
    resp = flows.api.call("POST", f"/dags/{PROBE_DAG_ID}/dagRuns", json=flows.trigger_body(run_id=run_id, conf=[1, 2]))
    verdict.status(resp, expect["status"], "trigger with conf=[1, 2]")
