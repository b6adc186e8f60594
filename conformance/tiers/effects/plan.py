"""The effects tier's plan: which operations have checked effects, and how each operation is judged.

The table comes from `conformance.specs.effects` (one place decides what is
checked); here each operation's checked effects are read back, a list through
`ListJudge`, a create or a patch of the tier's own objects through `Writer`,
and the per-effect outcomes become the result's `checks`.
"""

from __future__ import annotations

from conformance.model.effects import Effect, EffectClass, Observation
from conformance.model.reasons import ReasonCode
from conformance.probes.dags import DISPOSABLE_DAG_ID, PROBE_DAG_ID, XCOM_KEY
from conformance.specs.catalog import operations
from conformance.specs.effects import (
    BODY_PAGE,
    BULK_OPERATIONS,
    DAG_PATCHES,
    HIDDEN_BOUNDS,
    LIST_BODIES,
    RUN_CREATES,
    STORE_OPERATIONS,
    TI_WRITES,
    XCOM_WRITES,
    body_arrays,
    effects_of,
    list_shape,
    raw_operations,
)
from conformance.tiers.effects.ahead import AheadRuns
from conformance.tiers.effects.bulk import BY_COLLECTION, BulkJudge
from conformance.tiers.effects.clears import FlagJudge, Siblings, flag_effects
from conformance.tiers.effects.lists import FAILED, NOT_DECIDED, PASSED, ListJudge, Outcome
from conformance.tiers.effects.objects import ObjectJudge, projection
from conformance.tiers.effects.probe_run import ProbeRun
from conformance.tiers.effects.reading import read
from conformance.tiers.effects.store import StoreJudge
from conformance.tiers.effects.writes import BY_OPERATION, CREATE_ALIASES, Writer
from conformance.tiers.effects.xcoms import XComJudge
from conformance.verdict import Conclusion, settle

MUST = (
    "Each documented effect of {title}'s parameters and body fields MUST hold when read back: a filter keeps "
    "exactly the matching items, order_by orders in both directions, limit and offset page, update_mask limits "
    "a patch to the masked field, and a written field reads back as written."
)


OWN_DELETES = ("delete_xcom_entry", "delete_task_instance")  # deletes whose `map_index` is judged on the probe run
OBJECT_CLASSES = (EffectClass.SELECTOR, EffectClass.PROJECTION)  # judged on a single object, when not on a list
# path parameters of single-object reads, beyond the probe run's own: its first try, the XCom its echo task pushes
OBJECT_PATH = {"try_number": "1", "task_try_number": "1", "xcom_key": XCOM_KEY}


def table_by_operation(spec: dict) -> dict[str, list[Effect]]:
    out: dict[str, list[Effect]] = {}
    for effect in effects_of(spec):
        out.setdefault(effect.operation_id, []).append(effect)
    return out


def _judged_here(op_id: str, method: str, effects: list[Effect], spec: dict, raw: dict) -> bool:
    if not any(e.observation is Observation.CHECKED for e in effects):
        return False
    if method == "GET" and any(e.effect_class in OBJECT_CLASSES for e in effects):
        return True
    if method == "GET" or op_id in LIST_BODIES:
        return list_shape(spec, raw.get(op_id) or {}) is not None
    return (
        op_id in BY_OPERATION
        or op_id in TI_WRITES
        or op_id in RUN_CREATES
        or op_id in BULK_OPERATIONS
        or op_id in XCOM_WRITES
        or op_id in OWN_DELETES
        or op_id in STORE_OPERATIONS
        or op_id in DAG_PATCHES
    )


def checked_operations(ctx) -> list[tuple[str, str, str]]:
    """(operationId, title, MUST) of every operation with a checked effect, in the spec's order."""
    raw = raw_operations(ctx.spec)
    out = []
    for op_id, effects in table_by_operation(ctx.spec).items():
        route = ctx.router.by_id.get(op_id)
        if route is None or not _judged_here(op_id, route.method, effects, ctx.spec, raw):
            continue
        title = f"{route.method} {ctx.router.relative(route.template)}"
        out.append((op_id, f"{title}: documented effects", MUST.format(title=title)))
    return out


class Plan:
    """One per run: the table, the tier's own objects, and the judging of each operation."""

    def __init__(self, ctx, api) -> None:
        self.ctx, self.api = ctx, api
        self.by_op = table_by_operation(ctx.spec)
        self.raw = raw_operations(ctx.spec)
        self.writer: Writer | None = None
        self.run = ProbeRun(ctx, api)
        self.siblings: Siblings | None = None
        self.ahead = AheadRuns(api, ctx)
        self.byte_order = getattr(ctx.expectations, "backend", "") == "sqlite"
        self.required_query = {
            op.operation_id: [p["name"] for p in op.parameters if p.get("in") == "query" and p.get("required")]
            for op in operations(ctx.spec)
        }
        self.paged = {
            op.operation_id
            for op in operations(ctx.spec)
            if any(p.get("in") == "query" and p.get("name") == "limit" for p in op.parameters)
        }

    def prepare(self) -> None:
        """Make the objects, then trigger the probe run (the scheduler works on it while the lists are read).

        The objects come first: a run's task processes write to the metadata database while they start, and on
        a SQLite target a create sent meanwhile may wait for the lock (the writes do not race the run's start).
        """
        if self.ctx.options.profile == "readonly" or self.ctx.auth_denied:
            self.run.why = (
                f"needs the sandbox profile to trigger a run; this run uses --profile {self.ctx.options.profile}"
            )
            return
        self.writer = Writer(self.api, self.ctx.prefix)
        self.writer.create_all(self.by_op)
        self.run.start()

    def close(self) -> None:
        if self.siblings is not None:
            self.siblings.delete()
        self.ahead.delete()
        if self.writer is not None:
            self.writer.delete_all()  # what stays is swept by the run's cleanup from the ledger

    # -- judging ----------------------------------------------------------------
    def judge(self, op_id: str, verdict, node) -> None:
        effects = [e for e in self.by_op.get(op_id, []) if e.observation is Observation.CHECKED]
        route = self.ctx.router.by_id[op_id]
        shaped = list_shape(self.ctx.spec, self.raw.get(op_id) or {}) is not None
        if route.method == "GET" and not shaped:
            outcomes = self._object(self.ctx.router.relative(route.template), effects, verdict)
        elif route.method == "GET" or op_id in LIST_BODIES:
            outcomes = self._list(op_id, self.ctx.router.relative(route.template), effects, verdict)
        elif self.writer is None:
            settle(
                Conclusion(
                    "skipped",
                    f"needs the sandbox profile to write; this run uses --profile {self.ctx.options.profile}",
                    reason_code=ReasonCode.PROFILE.value,
                ),
                node,
            )
            return
        else:
            outcomes = self._write(op_id, effects, verdict)
        for o in outcomes:
            if o.status == FAILED and not o.recorded:
                verdict.that(False, f"{o.effect.location} field {o.effect.parameter}: {o.detail}", step="read_back")
        settle(self._conclusion(outcomes, verdict), node)

    def _conclusion(self, outcomes: list[Outcome], verdict) -> Conclusion:
        checks = [o.as_dict() for o in outcomes]
        found = verdict.conclusion()
        if found is not None:
            found.checks = checks
            return found
        decided = [o for o in outcomes if o.status != NOT_DECIDED]
        if not decided:
            why = "; ".join(dict.fromkeys(o.detail for o in outcomes)) or "nothing to judge"
            return Conclusion(
                "skipped",
                f"no effect could be decided on this target's data: {why}"[:600],
                checks=checks,
                reason_code=ReasonCode.NO_DATA.value,
            )
        passed = sum(1 for o in decided if o.status == PASSED)
        return Conclusion("passed", f"{passed} of {len(outcomes)} checked effects decided and held", checks=checks)

    def _owned(self, item: dict) -> bool:
        return any(isinstance(v, str) and v.startswith(self.ctx.prefix) for v in item.values())

    def _path(self, op_id: str, template: str, key: str) -> tuple[str, dict] | None:
        """The template with its path parameters (and the operation's required query parameters) filled so the
        list answers: `~` (every DAG, every run), else the objects of the tier's probe run."""
        names = [p[1:-1] for p in template.split("/") if p.startswith("{")]
        required = self.required_query.get(op_id, [])
        candidates = [] if required else [{n: "~" for n in names}]
        if names or required:
            mapped = template.endswith("/listMapped") or "{map_index}" in template
            run_values = self.run.mapped_values() if mapped else self.run.values()
            if run_values:  # 2.x DAG stats require the DAGs named: the probe DAG and its disposable twin
                run_values = {**run_values, "dag_ids": f"{PROBE_DAG_ID},{DISPOSABLE_DAG_ID}"}
            if run_values and all(n in run_values for n in names + required):
                candidates.append(run_values)
        for values in candidates:
            path = template
            for name in names:
                path = path.replace("{" + name + "}", values[name])
            query = {name: values[name] for name in required}
            if op_id in LIST_BODIES:
                if read(self.api, path, key, {"page_limit": 1}, by_body=True).items is not None:
                    return path, query
                continue
            probe = {"limit": 1, **query} if op_id in self.paged else query
            if read(self.api, path, key, probe).items is not None:
                return path, query
        return None

    def _run_path(self, template: str) -> str | None:
        """The template with its path parameters naming the probe run's own objects, or None."""
        mapped = template.endswith("/listMapped")
        values = self.run.mapped_values() if mapped else self.run.values()
        names = [p[1:-1] for p in template.split("/") if p.startswith("{")]
        if not values or any(n not in values for n in names):
            return None
        path = template
        for name in names:
            path = path.replace("{" + name + "}", values[name])
        return path

    def _hidden(self, op_id: str, template: str, shape, effect: Effect, verdict) -> Outcome:
        """A bound on a field the answer lacks, read on the probe run's own list (its DAG, its run)."""
        path = self._run_path(template)
        if path is None:
            return Outcome(effect, NOT_DECIDED, self.run.why or "no list of the probe run's own objects")
        if read(self.api, path, shape.key, {"limit": 1} if op_id in self.paged else {}).items is None:
            return Outcome(effect, NOT_DECIDED, f"GET {path} lists nothing of the probe run (no such task here)")
        judge = ListJudge(
            self.api, verdict, path, shape, byte_order=self.byte_order, owned=self._owned, paged=op_id in self.paged
        )
        if not judge.load_base():
            return Outcome(effect, FAILED, "the list did not answer")
        run_id = self.run.run_id
        return judge.hidden_bound(
            effect, lambda i: run_id in (i.get("dag_run_id"), i.get("run_id")), HIDDEN_BOUNDS[str(effect.field)]
        )

    def _on_run(self, op_id: str, effects: list[Effect], verdict) -> list[Outcome]:
        """XCom writes and deletes by map index on the probe run's echo task instance."""
        if not self.run.finished():
            return [Outcome(e, NOT_DECIDED, self.run.why) for e in effects]
        if op_id in STORE_OPERATIONS:
            return StoreJudge(self.api, verdict, self.run.ti_path(), self.ctx.prefix).judge(op_id, effects)
        xcoms = XComJudge(self.api, verdict, self.run.ti_path(), self.ctx.prefix)
        if op_id == "create_xcom_entry":
            return xcoms.create(effects)
        if op_id == "update_xcom_entry":
            return xcoms.update(effects)
        if op_id == "delete_xcom_entry":
            return [xcoms.delete(e) for e in effects]
        return [ObjectJudge(self.api, verdict, self.run.ti_path()).delete_selector(e) for e in effects]

    def _object(self, template: str, effects: list[Effect], verdict) -> list[Outcome]:
        """A single object of the probe run (its DAG, the run, its echo task instance), its parameters' effects."""
        names = [p[1:-1] for p in template.split("/") if p.startswith("{")]
        values = dict(OBJECT_PATH)
        if "/state-store/{key}" in template and self.run.finished():  # the tier's own key, set if a judge took it
            store = StoreJudge(self.api, verdict, self.run.ti_path(), self.ctx.prefix)
            if store.ensure():
                values["key"] = store.key
        if self.ctx.probe_dags.get(PROBE_DAG_ID):
            values["dag_id"] = PROBE_DAG_ID
        if set(names) - set(values):  # the run's own objects: wait for it only now
            values.update(self.run.values())
        if any(n not in values for n in names):
            why = self.run.why or f"no object of the probe run for {template}"
            return [Outcome(e, NOT_DECIDED, why) for e in effects]
        path = template
        for name in names:
            path = path.replace("{" + name + "}", values[name])
        judge = ObjectJudge(self.api, verdict, path)
        return [judge.judge(e) for e in effects]

    def _list(self, op_id: str, template: str, effects: list[Effect], verdict) -> list[Outcome]:
        shape = list_shape(self.ctx.spec, self.raw.get(op_id) or {})
        assert shape is not None
        if "/state-store" in template and self.run.finished():  # the tier's own key, so the list holds something
            StoreJudge(self.api, verdict, self.run.ti_path(), self.ctx.prefix).ensure()
        if shape.key == "dag_runs":
            self._runs_of_our_own()
        found = self._path(op_id, template, shape.key)
        if found is None:
            why = self.run.why or "no list to read: its path needs values of existing objects"
            return [Outcome(e, NOT_DECIDED, f"no list to read ({why})") for e in effects]
        path, query = found
        by_body = op_id in LIST_BODIES
        judge = ListJudge(
            self.api,
            verdict,
            path,
            shape,
            byte_order=self.byte_order,
            owned=self._owned,
            query=query,
            paged=op_id in self.paged or by_body,
            arrays=body_arrays(self.ctx.spec, self.raw.get(op_id) or {}) if by_body else None,
        )
        if not judge.load_base():
            return [Outcome(e, FAILED, "the list did not answer") for e in effects]
        outcomes = []
        for effect in effects:
            if effect.effect_class is EffectClass.PAGE:
                limit = BODY_PAGE.get(effect.parameter, effect.parameter) == "limit"
                outcomes.append(judge.limit(effect) if limit else judge.offset(effect))
            elif effect.effect_class is EffectClass.ORDER:
                outcomes.append(judge.order(effect))
            elif effect.effect_class is EffectClass.PROJECTION:
                outcomes.append(judge.project(effect, projection(shape.fields)))
            elif effect.field in HIDDEN_BOUNDS:
                outcomes.append(self._hidden(op_id, template, shape, effect, verdict))
            elif effect.effect_class is EffectClass.SELECTOR:  # on the probe run's own task instance
                own = self._run_path(template)
                outcomes.append(
                    ObjectJudge(self.api, verdict, own).selector(effect, list_key=shape.key)
                    if own
                    else Outcome(effect, NOT_DECIDED, self.run.why or "no task instance of the probe run")
                )
            else:
                outcomes.append(judge.filter(effect))
        return outcomes

    def _runs_of_our_own(self) -> None:
        """Before a DAG-run list is judged: the probe run finished, beside two runs of the tier's own that stay put.

        A fresh deployment may hold no other run, and one run cannot show a filter, an order or a page. On 3.x
        the clears' siblings stay queued (not started before tomorrow); on 2.x the scheduler would run them while
        the list is read, so there two runs dated a day ahead, which a 2.x scheduler leaves alone, stand in.
        """
        if self.writer is None or not self.run.finished():
            return
        if self.siblings is None:
            self.siblings = Siblings(self.api, self.ctx, self.run.run_id or "")
        if self.siblings.inert:
            self.siblings.make()
        else:
            self.ahead.make()

    def _write(self, op_id: str, effects: list[Effect], verdict) -> list[Outcome]:
        flags = flag_effects(op_id, effects)
        rest = [e for e in effects if e not in flags]
        return self._write_fields(op_id, rest, verdict) + self._flags(op_id, flags, verdict)

    def _flags(self, op_id: str, flags: list[Effect], verdict) -> list[Outcome]:
        """Each flag of a clear or state change, by its dry run's answer (see clears.py)."""
        if not flags:
            return []
        if not self.run.finished():
            return [Outcome(e, NOT_DECIDED, self.run.why) for e in flags]
        if self.siblings is None:
            self.siblings = Siblings(self.api, self.ctx, self.run.run_id or "")
        judge = FlagJudge(self.api, verdict, self.run, self.siblings)
        return [judge.judge(op_id, e) for e in flags]

    def _write_fields(self, op_id: str, effects: list[Effect], verdict) -> list[Outcome]:
        assert self.writer is not None
        if op_id == "post_clear_task_instances":
            return self.run.judge_clear(verdict, effects)
        if op_id == "patch_task_instance":
            notes = [e for e in effects if e.parameter == "note"]  # 3.x: the note goes through the mask
            return self.run.judge_state_change(verdict, effects) + self.run.judge_run_write(op_id, verdict, notes)
        if op_id == "patch_task_instance_dry_run":
            return self.run.judge_dry_patch(verdict, effects)
        if op_id == "patch_task_instance_dry_run_by_map_index":
            return self.run.judge_dry_patch(verdict, effects, suffix="/-1")
        if op_id == "patch_task_instance_by_map_index":
            notes = [e for e in effects if e.parameter == "note"]
            return self.run.judge_state_change(verdict, effects, suffix="/-1") + self.run.judge_run_write(
                op_id, verdict, notes
            )
        if op_id in TI_WRITES:
            return self.run.judge_run_write(op_id, verdict, effects)
        if op_id in RUN_CREATES:
            return self.run.judge_trigger(verdict, effects)
        if op_id in XCOM_WRITES or op_id in OWN_DELETES or op_id in STORE_OPERATIONS:
            return self._on_run(op_id, effects, verdict)
        if op_id in DAG_PATCHES:
            return self.run.judge_pause(verdict, [e for e in effects if e.parameter == "is_paused"])
        if op_id in BULK_OPERATIONS:
            judge = BulkJudge(self.api, verdict, self.ctx.prefix, BY_COLLECTION[BULK_OPERATIONS[op_id]])
            return [judge.judge(e) for e in effects if e.parameter == "actions"]
        kind = BY_OPERATION[op_id]
        op_id = CREATE_ALIASES.get(op_id, op_id)
        if op_id == kind.create:
            refused = self.writer.refused.get(op_id)
            if refused is not None:
                verdict.status(refused, [200, 201], f"POST /{kind.collection} of the tier's own object", step="create")
            done = self.writer.outcomes.get(op_id)
            if done is None:
                return [Outcome(e, FAILED, "the create did not succeed") for e in effects]
            return done
        return self.writer.judge_patch(verdict, kind, effects, self.ctx.router.required_fields.get(op_id, ()))
