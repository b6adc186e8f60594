"""The flags of clears and state changes, seen through dry runs on the tier's own runs of the probe DAG.

A dry run answers the task instances a clear or a state change would touch and
changes none, so each flag's effect is the difference it makes to that answer.
The tier's probe run has two siblings, triggered here with logical dates one
second before and after its own (nobody else's run falls in that window: the
dates are random to the microsecond over half a year), so `include_past`,
`include_future`, `start_date` and `end_date` each have a run they must add and
one they must leave out; `only_failed` and `only_running` must leave out the
probe run's task instances that are neither; `task_ids` and `dag_run_id` must
leave out every other task and run.

Safety: the flags that reach beyond the tier's own runs (`include_past` and
`include_future` select by date over the whole probe DAG) are sent only after a
dry run bounded to the probe run was seen to change nothing, so a server that
ignores `dry_run` is caught on the tier's own run before anything wider is asked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from conformance.model.effects import Effect, Observation
from conformance.probes.dags import PROBE_DAG_ID, PROBE_TASK_ID
from conformance.probes.runs import run_path, set_paused
from conformance.specs.effects import FLAG_OPERATIONS
from conformance.tiers.effects.lists import FAILED, NOT_DECIDED, PASSED, Outcome
from conformance.tiers.effects.reading import instant

SIBLING_GAP = timedelta(seconds=1)
SETTLE_S = 3.0  # a scheduler loop of a local target (idle sleep 1 s) and then some

Named = set[tuple[str, str]]  # (dag_run_id, task_id) of the task instances an answer names


def named(answer: object) -> Named | None:
    """The task instances a dry run's answer names (a list of them, or one reference), or None if it names none."""
    if not isinstance(answer, dict):
        return None
    listed = answer.get("task_instances") if "task_instances" in answer else [answer]
    if not isinstance(listed, list):
        return None
    return {(str(ti.get("dag_run_id")), str(ti.get("task_id"))) for ti in listed if isinstance(ti, dict)}


class Siblings:
    """Two more runs of the probe DAG, a second before and after the tier's probe run; deleted by `delete`."""

    def __init__(self, api, ctx, run_id: str) -> None:
        self.api, self.ctx, self.run_id = api, ctx, run_id
        self.logical: datetime | None = None
        self.earlier: str | None = None
        self.later: str | None = None
        self.why = ""
        self.dry_run_kept: bool | None = None  # a dry run bounded to the probe run was seen to change nothing

    @property
    def inert(self) -> bool:
        """Whether the siblings stay as made: 3.x's are not started before tomorrow, 2.x's are run by the scheduler."""
        return self.ctx.expectations.logical_date_field() == "logical_date"

    def make(self) -> bool:
        if self.earlier and self.later:
            return True
        if self.why:
            return False
        if not self.inert:  # 2.x: a paused DAG's runs are not examined, so the siblings stay queued (see `delete`)
            set_paused(self.api, PROBE_DAG_ID, True)
        run = self.api.call("GET", run_path(PROBE_DAG_ID, self.run_id))
        body = run.json() if run.status_code == 200 else {}
        self.logical = instant(body.get("logical_date") or body.get("execution_date"))
        if self.logical is None:
            self.why = f"the probe run's logical date could not be read (GET answered {run.status_code})"
            return False
        field = self.ctx.expectations.logical_date_field()
        for name, delta in (("earlier", -SIBLING_GAP), ("later", SIBLING_GAP)):
            run_id = f"{self.ctx.prefix}eff_{name}"
            body = {field: (self.logical + delta).isoformat(), "dag_run_id": run_id, "conf": {"acf": name}}
            if field == "logical_date":  # 3.x: not started before tomorrow, so its task instances stay unrun
                body["run_after"] = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
            resp = self.api.call("POST", f"/dags/{PROBE_DAG_ID}/dagRuns", json=body)
            if resp.status_code not in (200, 201):
                self.why = f"triggering a sibling run of the probe run answered {resp.status_code}"
                return False
            setattr(self, name, run_id)
        return True

    def delete(self) -> None:
        """Delete the siblings; on 2.x only with the probe DAG paused and a scheduler loop later.

        A 2.10.5 scheduler that is working on a run when it is deleted dies (StaleDataError on dag_run, seen
        in a CI rehearsal when the siblings had started): paused, no new loop picks them up, and SETTLE_S
        lets a loop already holding them finish. The run's cleanup puts the pause state back.
        """
        made = [run_id for run_id in (self.earlier, self.later) if run_id]
        if made and not self.inert:
            set_paused(self.api, PROBE_DAG_ID, True)
            time.sleep(SETTLE_S)
        for run_id in made:
            self.api.call("DELETE", run_path(PROBE_DAG_ID, run_id))
        self.earlier = self.later = None


class FlagJudge:
    """Judges the flags of one operation: one dry run per flag, its answer against what the flag must add or leave out."""

    def __init__(self, api, verdict, run, siblings: Siblings) -> None:
        self.api, self.verdict, self.run, self.siblings = api, verdict, run, siblings
        self.ti_states: dict[tuple[str, str], str | None] = {}

    # -- the requests -----------------------------------------------------------------------
    def _ask(self, op_id: str, flag: str, body: dict) -> tuple[Named | None, str]:
        """Send the operation's dry run with `body` on top of its bounded form; what it names, or why nothing."""
        run_id = self.run.run_id or ""
        if op_id == "post_clear_task_instances":
            method, path = "POST", f"/dags/{PROBE_DAG_ID}/clearTaskInstances"
            base = {
                "dry_run": True,
                "dag_run_id": run_id,
                "only_failed": False,
                "only_running": False,
                "reset_dag_runs": False,
            }
        elif op_id == "post_set_task_instances_state":
            method, path = "POST", f"/dags/{PROBE_DAG_ID}/updateTaskInstancesState"
            base = {
                "dry_run": True,
                "dag_run_id": run_id,
                "task_id": PROBE_TASK_ID,
                "new_state": "skipped",
                "include_upstream": False,
                "include_downstream": False,
                "include_past": False,
                "include_future": False,
            }
        elif op_id == "clear_dag_run":
            method, path = "POST", f"{run_path(PROBE_DAG_ID, run_id)}/clear"
            base = {"dry_run": True}
        else:  # 3.x PATCH .../dry_run (by map index: the echo task instance at -1)
            suffix = "/-1" if op_id.endswith("_by_map_index") else ""
            method, path = "PATCH", f"{self.run.ti_path()}{suffix}/dry_run"
            base = {"new_state": "skipped"}
        request = {**base, **body}
        for key in [k for k, v in request.items() if v is None]:
            request.pop(key)
        resp = self.api.call(method, path, json=request)
        if not self.verdict.status(resp, 200, f"{method} {path} {request}", step=flag):
            return None, f"answered {resp.status_code}"
        found = named(resp.json())
        if found is None:
            self.verdict.that(
                False, f"{method} {path} {request}: the answer names no task instances", step=flag, resp=resp
            )
            return None, "the answer names no task instances"
        return found, ""

    # -- the flags ----------------------------------------------------------------------------
    def _bounded_dry_run_kept(self, op_id: str) -> bool:
        """Before a dry run reaches beyond the tier's own runs: one bounded to the probe run changed nothing."""
        if self.siblings.dry_run_kept is None:
            before = dict(self._states())
            found, _ = self._ask(op_id, "dry_run", {})
            self.ti_states = {}
            self.siblings.dry_run_kept = found is not None and self._states() == before
        return bool(self.siblings.dry_run_kept)

    def judge(self, op_id: str, effect: Effect) -> Outcome:
        flag = effect.parameter
        states = self._states()
        if not states:
            return Outcome(effect, NOT_DECIDED, "the probe run's task instances could not be read")
        if flag not in ("only_failed", "only_running", "only_new", "task_ids", "task_id") and not self.siblings.make():
            return Outcome(effect, NOT_DECIDED, self.siblings.why)
        wide = flag in ("include_past", "include_future", "start_date", "end_date")
        if wide and not self._bounded_dry_run_kept(op_id):
            return Outcome(
                effect,
                NOT_DECIDED,
                "a dry run bounded to the probe run did not leave it unchanged: no wider dry run is sent",
            )
        ours, earlier, later = self.run.run_id or "", self.siblings.earlier or "", self.siblings.later or ""
        asked = self._asked(flag, states)
        if isinstance(asked, str):
            return Outcome(effect, NOT_DECIDED, asked)
        body, must, must_not, keep = asked
        found, why = self._ask(op_id, flag, body)
        if found is None:
            return Outcome(effect, FAILED, why)
        by_run = {run for run, _ in found}
        problems = []
        missing = sorted(r for r in must if r and r not in by_run)
        extra = sorted(r for r in must_not if r and r in by_run)
        stray = sorted(ti for ti in found if keep is not None and not keep(ti))
        if missing:
            problems.append(f"names no task instance of run {missing}")
        if extra:
            problems.append(f"also names run {extra}")
        if stray:
            problems.append(f"names {stray[:3]}, which it leaves out")
        shown = body.get(flag, True)
        ok = self.verdict.that(not problems, f"{op_id} dry run with {flag}={shown!r}: {'; '.join(problems)}", step=flag)
        mine = sorted(by_run & {ours, earlier, later})
        return Outcome(effect, PASSED if ok else FAILED, f"{flag}={shown!r} named runs {mine}")

    def _asked(
        self, flag: str, states: dict
    ) -> tuple[dict, set[str], set[str], Callable[[tuple[str, str]], bool] | None] | str:
        """The dry run's body for `flag` and what its answer must show, or why no dry run can judge the flag.

        `must`: runs the answer must name a task instance of; `must_not`: runs it must not; `keep`: which task
        instances it may name at all (None: any).
        """
        ours, earlier, later = self.run.run_id or "", self.siblings.earlier or "", self.siblings.later or ""
        logical = self.siblings.logical
        must: set[str] = set()
        must_not: set[str] = set()
        body: dict = {}
        keep: Callable[[tuple[str, str]], bool] | None = None
        if flag == "include_future":
            body, must, must_not = {"include_future": True}, {ours, later}, {earlier}
        elif flag == "include_past":
            body, must, must_not = {"include_past": True}, {ours, earlier}, {later}
        elif flag in ("start_date", "end_date"):
            assert logical is not None
            if flag == "start_date":  # [ours, later + 1 s]: ours and the later sibling, not the earlier one
                window, must, must_not = (logical, logical + 2 * SIBLING_GAP), {ours, later}, {earlier}
            else:  # [earlier - 1 s, ours]
                window, must, must_not = (logical - 2 * SIBLING_GAP, logical), {ours, earlier}, {later}
            body = {"dag_run_id": None, "start_date": window[0].isoformat(), "end_date": window[1].isoformat()}
        elif flag == "execution_date":  # 2.x: the run named by its date instead of its id
            assert logical is not None
            body, must = {"dag_run_id": None, "execution_date": logical.isoformat()}, {ours}
            keep = lambda ti: ti[0] == ours  # noqa: E731
        elif flag == "dag_run_id":  # the siblings' task instances (and any other run's) must stay out
            body, must = {"dag_run_id": ours}, {ours}
            keep = lambda ti: ti[0] == ours  # noqa: E731
        elif flag in ("task_ids", "task_id"):
            if not any(task != PROBE_TASK_ID for _, task in states):
                return "the probe run has no other task to leave out"
            body = {"task_ids": [PROBE_TASK_ID]} if flag == "task_ids" else {"task_id": PROBE_TASK_ID}
            must = {ours}
            keep = lambda ti: ti[1] == PROBE_TASK_ID  # noqa: E731
        elif flag == "only_new":  # the probe run has every task of its DAG: no new one to clear
            body, keep = {"only_new": True}, (lambda ti: ti[0] != ours)
        elif flag in ("only_failed", "only_running"):
            wanted = "failed" if flag == "only_failed" else "running"
            if all(state == wanted for state in states.values()):
                return f"every task instance of the probe run is {wanted}: nothing to leave out"
            body = {flag: True}
            keep = lambda ti: ti[0] != ours or states.get(ti) == wanted  # noqa: E731
            must = {ours} if wanted in states.values() else set()
        else:
            return f"no dry run judges {flag}"
        return body, must, must_not, keep

    def _states(self) -> dict[tuple[str, str], str | None]:
        """The probe run's task instances and their states (read once per judge)."""
        if not self.ti_states:
            resp = self.api.call("GET", f"{run_path(PROBE_DAG_ID, self.run.run_id or '')}/taskInstances")
            items = (resp.json() or {}).get("task_instances") if resp.status_code == 200 else None
            for ti in items or ():
                if isinstance(ti, dict):
                    self.ti_states[(str(ti.get("dag_run_id") or self.run.run_id), str(ti.get("task_id")))] = ti.get(
                        "state"
                    )
        return self.ti_states


def flag_effects(op_id: str, effects: list[Effect]) -> list[Effect]:
    """The checked body flags of `op_id` this module judges."""
    flags = FLAG_OPERATIONS.get(op_id, set())
    return [
        e for e in effects if e.location == "body" and e.parameter in flags and e.observation is Observation.CHECKED
    ]
