"""The effects tier's own run of the probe DAG, and the effects of writes on its task instances.

Task-instance lists, tries, mapped instances and XComs need a finished run to
show anything, and a dry run or a state change needs task instances the suite
owns. The run is triggered when the tier starts and waited for only when a
check first needs it, so the list checks before it overlap the scheduler's
work. A dry run must answer the task instances it would change and change
none of them (read back); a state change must be visible when read back.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from conformance.model.effects import Effect, EffectClass, Observation
from conformance.probes.dags import MAPPED_TASK_ID, PROBE_DAG_ID, PROBE_TASK_ID, TERMINAL, unique_logical_date
from conformance.probes.runs import run_path, set_paused, wait_until_done
from conformance.tiers.effects.lists import FAILED, NOT_DECIDED, PASSED, Outcome
from conformance.tiers.effects.reading import instant

NEW_STATE = "failed"  # a state change the probe task (which succeeds) can only get from the API


class ProbeRun:
    """One run of the probe DAG named with the run prefix; `values()` fills path and query parameters from it."""

    def __init__(self, ctx, api) -> None:
        self.ctx, self.api = ctx, api
        self.run_id: str | None = None
        self.state = ""
        self.why = ""
        self._waited = False

    def start(self) -> None:
        if not self.ctx.probe_dags.get(PROBE_DAG_ID):
            self.why = "the probe DAGs are not deployed"
            return
        set_paused(self.api, PROBE_DAG_ID, False)  # the run's cleanup puts the pause state back as it found it
        field = self.ctx.expectations.logical_date_field()
        wanted = f"{self.ctx.prefix}eff_run"
        resp = self.api.call(
            "POST",
            f"/dags/{PROBE_DAG_ID}/dagRuns",
            json={field: unique_logical_date(), "dag_run_id": wanted, "conf": {"acf": "effects"}},
        )
        if resp.status_code not in (200, 201):
            self.why = f"triggering a run of the probe DAG answered {resp.status_code}"
            return
        self.run_id = (resp.json() or {}).get("dag_run_id") or wanted

    def finished(self) -> bool:
        """Wait (once) for the run to end; whether it ended."""
        if self.run_id is None:
            return False
        if not self._waited:
            self._waited = True
            self.state = str(wait_until_done(self.api, run_path(PROBE_DAG_ID, self.run_id)).get("state", ""))
            if self.state not in TERMINAL:
                self.why = f"the probe run {self.run_id} did not finish (state {self.state!r})"
        return self.state in TERMINAL

    def values(self) -> dict[str, str]:
        """Path and query parameter values that name the run's objects."""
        if not self.finished():
            return {}
        return {
            "dag_id": PROBE_DAG_ID,
            "dag_run_id": self.run_id or "",
            "run_id": self.run_id or "",
            "task_id": PROBE_TASK_ID,
            "map_index": "-1",
        }

    def mapped_values(self) -> dict[str, str]:
        return {**self.values(), "task_id": MAPPED_TASK_ID, "map_index": "0"} if self.values() else {}

    def new_state(self, current: str | None) -> str:
        """A state the task instance is not in: a change to the state it has would change nothing to show."""
        return NEW_STATE if current != NEW_STATE else "success"

    # -- writes on its task instances -------------------------------------------
    def ti_path(self) -> str:
        return f"{run_path(PROBE_DAG_ID, self.run_id or '')}/taskInstances/{PROBE_TASK_ID}"

    def ti_state(self) -> str | None:
        resp = self.api.call("GET", self.ti_path())
        return (resp.json() or {}).get("state") if resp.status_code == 200 else None

    def judge_clear(self, verdict, effects: list[Effect]) -> list[Outcome]:
        """`dry_run: true` on a clear of the run's echo task: answered with that task instance, state unchanged."""
        effect = next((e for e in effects if e.effect_class is EffectClass.DRY_RUN), None)
        if effect is None:
            return []
        if not self.finished():
            return [Outcome(effect, NOT_DECIDED, self.why)]
        body = {
            "dry_run": True,
            "dag_run_id": self.run_id,
            "task_ids": [PROBE_TASK_ID],
            "only_failed": False,
            "only_running": False,
            "reset_dag_runs": False,
        }
        return self._dry_run(verdict, effect, f"/dags/{PROBE_DAG_ID}/clearTaskInstances", body, self.ti_path())

    def judge_state_change(self, verdict, effects: list[Effect], suffix: str = "") -> list[Outcome]:
        """PATCH a task instance: with `dry_run` nothing changes; without it `new_state` reads back."""
        by_name = {
            e.parameter: e
            for e in effects
            if e.location == "body" and e.observation is Observation.CHECKED and e.parameter in ("dry_run", "new_state")
        }
        if not by_name:
            return []
        if not self.finished():
            return [Outcome(e, NOT_DECIDED, self.why) for e in by_name.values()]
        outcomes = []
        before = self.ti_state()
        if "dry_run" in by_name:
            resp = self.api.call(
                "PATCH", self.ti_path() + suffix, json={"dry_run": True, "new_state": self.new_state(before)}
            )
            if verdict.status(resp, 200, "PATCH the task instance with dry_run", step="dry_run"):
                after = self.ti_state()
                ok = verdict.that(
                    after == before, f"a dry run changed the state {before!r} -> {after!r}", step="dry_run"
                )
                outcomes.append(Outcome(by_name["dry_run"], PASSED if ok else FAILED, f"state {before!r} kept"))
            else:
                outcomes.append(Outcome(by_name["dry_run"], FAILED, f"answered {resp.status_code}"))
        if "new_state" in by_name:
            wanted = self.new_state(before)
            body = {"new_state": wanted, **({"dry_run": False} if "dry_run" in by_name else {})}  # 2.x: dry by default
            resp = self.api.call("PATCH", self.ti_path() + suffix, json=body)
            if verdict.status(resp, 200, f"PATCH the task instance to new_state {wanted}", step="new_state"):
                after = self.ti_state()
                ok = verdict.that(after == wanted, f"new_state {wanted} reads back as {after!r}", step="new_state")
                outcomes.append(Outcome(by_name["new_state"], PASSED if ok else FAILED, f"{before!r} -> {after!r}"))
            else:
                outcomes.append(Outcome(by_name["new_state"], FAILED, f"answered {resp.status_code}"))
        return outcomes

    def judge_dry_patch(self, verdict, effects: list[Effect], suffix: str = "") -> list[Outcome]:
        """3.x `PATCH .../dry_run`: answers the task instances a state change would affect and changes none."""
        effect = next((e for e in effects if e.parameter == "new_state"), None)
        if effect is None:
            return []
        if not self.finished():
            return [Outcome(effect, NOT_DECIDED, self.why)]
        body = {"new_state": self.new_state(self.ti_state())}
        return self._dry_run(verdict, effect, f"{self.ti_path()}{suffix}/dry_run", body, self.ti_path(), method="PATCH")

    # -- notes, run states, the run's clear, and the 2.x variants of a state change ----------------
    def _field(self, path: str, name: str) -> object:
        resp = self.api.call("GET", path)
        return (resp.json() or {}).get(name) if resp.status_code == 200 else None

    def _write_then_read(
        self,
        verdict,
        effect: Effect,
        method: str,
        path: str,
        body: dict,
        read: str,
        name: str,
        want: object,
        params: dict | None = None,
    ) -> Outcome:
        """One valid write on the run's own objects; its effect read back from `read`."""
        resp = self.api.call(method, path, json=body, params=params or {})
        if not verdict.status(resp, 200, f"{method} {path} {body}", step=effect.parameter):
            return Outcome(effect, FAILED, f"answered {resp.status_code}")
        got = self._field(read, name)
        ok = verdict.that(
            got == want, f"{method} {path}: {name} reads back as {got!r}, not {want!r}", step=effect.parameter
        )
        return Outcome(effect, PASSED if ok else FAILED, f"{name} {want!r} read back")

    def judge_run_write(self, op_id: str, verdict, effects: list[Effect]) -> list[Outcome]:
        """Notes, a run's state, the run's dry-run clear, and 2.x's mapped and bulk state changes, read back."""
        by_name = {e.parameter: e for e in effects if e.location == "body" and e.observation is Observation.CHECKED}
        if not by_name:
            return []
        if not self.finished():
            return [Outcome(e, NOT_DECIDED, self.why) for e in by_name.values()]
        run = run_path(PROBE_DAG_ID, self.run_id or "")
        ti, mapped = self.ti_path(), f"{run}/taskInstances/{MAPPED_TASK_ID}/0"
        note = f"acf note {op_id}"
        out: list[Outcome] = []
        if op_id in ("set_task_instance_note", "set_mapped_task_instance_note", "set_dag_run_note"):
            target = {"set_task_instance_note": ti, "set_mapped_task_instance_note": mapped, "set_dag_run_note": run}[
                op_id
            ]
            out.append(
                self._write_then_read(
                    verdict, by_name["note"], "PATCH", f"{target}/setNote", {"note": note}, target, "note", note
                )
            )
        elif op_id in ("update_dag_run_state", "patch_dag_run"):
            current = self._field(run, "state")
            want = "failed" if current != "failed" else "success"
            if "state" in by_name:
                out.append(
                    self._write_then_read(
                        verdict,
                        by_name["state"],
                        "PATCH",
                        run,
                        {"state": want},
                        run,
                        "state",
                        want,
                        params={"update_mask": "state"} if op_id == "patch_dag_run" else None,
                    )
                )
            if "note" in by_name:
                out.append(
                    self._write_then_read(
                        verdict,
                        by_name["note"],
                        "PATCH",
                        run,
                        {"note": note},
                        run,
                        "note",
                        note,
                        params={"update_mask": "note"},
                    )
                )
        elif op_id == "clear_dag_run":
            out += self._dry_run(verdict, by_name["dry_run"], f"{run}/clear", {"dry_run": True}, ti)
        elif op_id == "patch_mapped_task_instance":
            current = self._field(mapped, "state")
            want = self.new_state(current if isinstance(current, str) else None)
            if "dry_run" in by_name:
                out += self._dry_run(
                    verdict,
                    by_name["dry_run"],
                    mapped,
                    {"dry_run": True, "new_state": want},
                    mapped,
                    method="PATCH",
                    task_id=MAPPED_TASK_ID,
                )
            if "new_state" in by_name:
                out.append(
                    self._write_then_read(
                        verdict,
                        by_name["new_state"],
                        "PATCH",
                        mapped,
                        {"dry_run": False, "new_state": want},
                        mapped,
                        "state",
                        want,
                    )
                )
        elif op_id == "post_set_task_instances_state":
            want = self.new_state(self.ti_state())
            body = {
                "task_id": PROBE_TASK_ID,
                "dag_run_id": self.run_id,
                "new_state": want,
                "include_upstream": False,
                "include_downstream": False,
                "include_future": False,
                "include_past": False,
            }
            path = f"/dags/{PROBE_DAG_ID}/updateTaskInstancesState"
            if "dry_run" in by_name:
                out += self._dry_run(verdict, by_name["dry_run"], path, {**body, "dry_run": True}, ti)
            if "new_state" in by_name:
                out.append(
                    self._write_then_read(
                        verdict, by_name["new_state"], "POST", path, {**body, "dry_run": False}, ti, "state", want
                    )
                )
        elif op_id in ("patch_task_instance", "patch_task_instance_by_map_index") and "note" in by_name:  # 3.x: masked
            target = ti if op_id == "patch_task_instance" else f"{ti}/-1"
            out.append(
                self._write_then_read(
                    verdict,
                    by_name["note"],
                    "PATCH",
                    target,
                    {"note": note},
                    ti,
                    "note",
                    note,
                    params={"update_mask": "note"},
                )
            )
        return out

    def _dry_run(
        self,
        verdict,
        effect: Effect,
        path: str,
        body: dict,
        watched: str,
        method: str = "POST",
        task_id: str = PROBE_TASK_ID,
    ) -> list[Outcome]:
        """A dry run names the task instance it would change (`task_id`) and changes none: `watched` reads the same."""
        before = self._field(watched, "state")
        resp = self.api.call(method, path, json=body)
        if not verdict.status(resp, 200, f"{method} {path} with dry_run", step="dry_run"):
            return [Outcome(effect, FAILED, f"answered {resp.status_code}")]
        answer = resp.json() or {}
        # a list of the task instances it would change, or (2.x PATCH of one task instance) that one's reference
        listed = answer.get("task_instances") if "task_instances" in answer else [answer]
        named = isinstance(listed, list) and any(isinstance(ti, dict) and ti.get("task_id") == task_id for ti in listed)
        ok_listed = verdict.that(
            named,
            f"{method} {path} with dry_run did not name {task_id}, the task instance it "
            f"would change: {str(listed)[:200]}",
            step="dry_run",
            resp=resp,
        )
        after = self._field(watched, "state")
        ok_kept = verdict.that(
            after == before, f"the dry run changed the state {before!r} -> {after!r}", step="dry_run"
        )
        return [Outcome(effect, PASSED if ok_listed and ok_kept else FAILED, f"state {before!r} kept, answer named it")]

    # -- a second run, triggered with every body field ------------------------------------------
    def trigger_body(self) -> dict:
        """Every field of a trigger, each with a value its answer can only have from the request."""
        later = datetime.now(timezone.utc) + timedelta(days=1)  # 3.x: a run is not started before its run_after
        # 2.x has no run_after: a logical date a day ahead keeps its scheduler off the run (it examines only
        # `execution_date <= now`), so deleting it right after cannot race the scheduler
        two = self.ctx.expectations.logical_date_field() == "execution_date"
        logical = later if two else instant(unique_logical_date())
        assert logical is not None
        return {
            "dag_run_id": f"{self.ctx.prefix}eff_trigger",
            "logical_date": logical.isoformat(),
            "execution_date": logical.isoformat(),
            "data_interval_start": (logical - timedelta(hours=1)).isoformat(),
            "data_interval_end": logical.isoformat(),
            "conf": {"acf": "trigger", "n": 1},
            "note": "acf note trigger",
            "run_after": later.isoformat(),
        }

    def judge_trigger(self, verdict, effects: list[Effect]) -> list[Outcome]:
        """Trigger a second run with every checked field, read each back, delete the run and see it gone (404)."""
        fields = {e.parameter: e for e in effects if e.location == "body" and e.observation is Observation.CHECKED}
        if not fields:
            return []
        if not self.ctx.probe_dags.get(PROBE_DAG_ID):
            return [Outcome(e, NOT_DECIDED, "the probe DAGs are not deployed") for e in fields.values()]
        full = self.trigger_body()
        body = {k: v for k, v in full.items() if k in fields}
        path = f"/dags/{PROBE_DAG_ID}/dagRuns"
        resp = self.api.call("POST", path, json=body)
        if not verdict.status(resp, [200, 201], f"POST {path} with every body field {sorted(body)}", step="trigger"):
            return [Outcome(e, FAILED, f"the trigger answered {resp.status_code}") for e in fields.values()]
        run = run_path(PROBE_DAG_ID, str(body.get("dag_run_id") or (resp.json() or {}).get("dag_run_id")))
        got = self.api.call("GET", run)
        read = got.json() if got.status_code == 200 else {}
        out = []
        for name, effect in fields.items():
            sent, back = body[name], read.get(name)
            same = instant(sent) == instant(back) if instant(sent) is not None else sent == back
            ok = verdict.that(same, f"POST {path}: {name} {sent!r} reads back as {back!r}", step=name)
            out.append(Outcome(effect, PASSED if ok else FAILED, f"wrote {sent!r}, read {back!r}", recorded=True))
        gone = self.api.call("DELETE", run)
        if verdict.status(gone, 204, f"DELETE {run} (the run just triggered)", step="delete"):
            again = self.api.call("GET", run)
            verdict.that(
                again.status_code == 404,
                f"GET {run} after its DELETE answered {again.status_code}, not 404",
                step="delete",
                resp=again,
            )
        return out

    # -- the probe DAG's pause ---------------------------------------------------------------------
    def judge_pause(self, verdict, effects: list[Effect]) -> list[Outcome]:
        """Once the run is done: the probe DAG paused (read back), then unpaused again (read back)."""
        if not effects:
            return []
        if not self.finished():
            return [Outcome(e, NOT_DECIDED, self.why) for e in effects]
        ok = True
        found = self._field(f"/dags/{PROBE_DAG_ID}", "is_paused") is True
        for want in (not found, found):  # ends as found (the run's cleanup restores the state the run found)
            resp = set_paused(self.api, PROBE_DAG_ID, want)
            if not verdict.status(
                resp, 200, f"PATCH /dags/{PROBE_DAG_ID}?update_mask=is_paused is_paused={want}", step="is_paused"
            ):
                return [Outcome(e, FAILED, f"answered {resp.status_code}") for e in effects]
            got = self._field(f"/dags/{PROBE_DAG_ID}", "is_paused")
            ok = verdict.that(got is want, f"is_paused={want} reads back as {got!r}", step="is_paused") and ok
        return [
            Outcome(e, PASSED if ok else FAILED, "toggled, then put back as found, each read back") for e in effects
        ]
