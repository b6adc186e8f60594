"""The property tier of one run: engine, samples, workers, and the verdict per operation.

`Tier.outcome(op_id)` runs (or, with `--workers N`, waits for) the property
work of one operation; `Tier.conclude` turns it into the item's result:
passed, skipped with the guard's reason, a known deviation (xfail with its
upstream reference) or a contract violation listing the distinct failures
with redacted curl reproductions and the seed; the structured verdict
(`Conclusion`, with every check's own status) goes to the plugin.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from urllib.parse import quote

import requests

from conformance.checks.registry import must_of
from conformance.context import CheckContext
from conformance.model.reasons import ReasonCode
from conformance.model.resources import ADMIN_KINDS, SANDBOX_KINDS
from conformance.model.status import Status
from conformance.probes.dags import DISPOSABLE_DAG_ID, PROBE_DAG_ID
from conformance.probes.runs import restore_paused
from conformance.safety import unnamed
from conformance.safety.cleanup import REPARSE_WAIT_S, bring_back
from conformance.safety.guard import RequestRefused
from conformance.tiers.properties.engine import PropertyEngine
from conformance.tiers.properties.outcome import Outcome, summarize
from conformance.tiers.shared.operations import ordered_operations
from conformance.tiers.shared.samples import ACCESS_RUN, SampleBuilder
from conformance.verdict import Conclusion, UndecidedCheck, excuses, result_classes, settle  # noqa: F401 (UndecidedCheck: re-exported)

log = logging.getLogger(__name__)
MAX_LISTED = 5  # distinct violations a failed result lists one by one


class Tier:
    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self.dialect = ctx.expectations.dialect()
        self.builder = SampleBuilder(ctx, self.dialect)
        self.engine = PropertyEngine(ctx, self.builder.build)
        self.workers = max(1, int(ctx.options.workers or 1))
        self.max_examples = max(1, int(ctx.options.max_examples or 1))
        self.order = [op for op, *_ in ordered_operations(ctx.spec, ctx.router)]
        self._phase_of = {op: self.engine.ops[op].order[0] for op in self.order}
        self._futures: dict[str, Future] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._restore_lock = threading.Lock()
        self._closed = False
        self._ahead = False
        self.access_follows = "authorization" in ctx.options.only  # the authorization tier runs after this one
        self._budget_end: float | None = None
        self._ops_left = len(self.order)

    # -- running -------------------------------------------------------------
    def outcome(self, op_id: str) -> Outcome:
        self._trigger_ahead()
        if self.workers == 1:
            return self._run(op_id)
        with self._lock:
            if op_id not in self._futures:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="acf-property")
                    self.engine.samples  # noqa: B018  (build once, before the workers start)
                phase = self._phase_of[op_id]
                for op in self.order:  # the whole phase at once; phases stay in order
                    if self._phase_of[op] == phase and op not in self._futures:
                        self._futures[op] = self._pool.submit(self._run, op)
            future = self._futures[op_id]
        return future.result()

    def _trigger_ahead(self) -> None:
        """At the first operation: queue the authorization tier's probe run, so it is finished when that tier starts.

        Not before: the chains, which run first, wait for a run of their own, and a 2.x SequentialExecutor runs
        one task at a time. The operations take a minute or more, a probe run seconds.
        """
        with self._lock:
            if self._ahead:
                return
            self._ahead = True
        if self.access_follows:  # the samples are built first: the property run goes before the one queued here
            self.builder.trigger_ahead(ACCESS_RUN, self.engine.samples)

    def _run(self, op_id: str) -> Outcome:
        info = self.engine.ops[op_id]
        self._prepare(info)
        try:
            with unnamed.recorded(
                self.ctx, op_id
            ):  # a create naming nothing (disruptive only): what it made goes into the ledger
                return self.engine.run(op_id, self.max_examples, self._deadline())
        finally:
            self._restore(info)

    def _deadline(self) -> float | None:
        """With --time-budget: this operation's fair share of what is left (all workers together).

        The share is recomputed for each operation, so time an operation does not need (few
        parameters, quick answers) goes to the ones after it.
        """
        budget = self.ctx.options.time_budget
        if not budget:
            return None
        with self._lock:
            now = time.monotonic()
            if self._budget_end is None:
                self._budget_end = now + budget
            left = max(1, self._ops_left)
            self._ops_left -= 1
            return now + max(0.0, self._budget_end - now) * min(self.workers, left) / left

    def _prepare(self, info) -> None:
        """Deletes run last; make sure the run's own objects exist again before one is deleted."""
        if info.method != "DELETE" or self.ctx.options.profile == "readonly":
            return
        owned = self.engine.samples.owned
        kind = next((k for k in SANDBOX_KINDS if info.rel == k.item and owned.get(k.kind)), None)
        if kind is not None:
            self.builder.ensure(kind.kind, owned[kind.kind])

    def _restore(self, info) -> None:
        """Undo what a generated case may have done to the probe DAGs, so later checks find them as before."""
        if self.ctx.options.profile == "readonly":
            return
        with self._restore_lock:
            if info.rel in ("/dags/{dag_id}", "/dags") and info.method == "PATCH":
                self.restore_pause_states()
            if "dagRun" in info.rel or "clear" in info.rel.lower():
                self.settle_runs()
            if info.rel == "/dags/{dag_id}" and info.method == "DELETE":
                self.bring_back(DISPOSABLE_DAG_ID, wait=0)

    def restore_pause_states(self, original: bool = False) -> None:
        """Back to the state the properties run in, or (`original`) to the one noted at the start of the run."""
        samples = self.engine.samples
        for dag_id in (PROBE_DAG_ID, DISPOSABLE_DAG_ID):
            want = self.ctx.ledger.pause_state(dag_id) if original else samples.unpaused.get(dag_id)
            if want is None:
                continue
            problem = restore_paused(self.ctx.session, dag_id, bool(want))
            if problem:
                log.info("could not restore the pause state: %s", problem)

    def settle_runs(self, *, keep_stable: bool = True) -> None:
        """Runs this run created that are still queued/running are marked failed, so they can be deleted.

        Generated triggers use odd logical dates (year 0008, 4806, ...) and clears re-queue runs;
        Airflow 3 refuses to delete a running run (409), which would leave it behind.
        """
        samples = self.engine.built_samples
        stable = samples.owned.get("dag_run") if samples and keep_stable else None
        for entry in self.ctx.ledger.live():
            if entry.kind != "dag_run" or entry.key == stable:
                continue
            rel = f"/dags/{quote(entry.dag_id, safe='')}/dagRuns/{quote(entry.key, safe='')}"
            try:
                resp = self.ctx.session.call("GET", rel)
                if resp.status_code == 200 and resp.json().get("state") in ("queued", "running"):
                    self.ctx.session.call("PATCH", rel, json={"state": "failed"})
            except (RequestRefused, requests.RequestException, ValueError) as exc:
                log.info("could not settle %s: %s", entry.key, exc)

    def bring_back(self, dag_id: str, wait: float = REPARSE_WAIT_S) -> None:
        bring_back(self.ctx.session, self.ctx.probe_dags, dag_id, wait)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self.ctx.options.profile != "readonly" and self.engine.built_samples is not None:
            self.settle_runs(keep_stable=False)  # the stable run too, now that every operation is done with it
            self.restore_pause_states(original=True)
            if DISPOSABLE_DAG_ID in self.ctx.probe_dags:
                # with an authorization tier to come, its file is only asked for here: that tier waits for it
                # before the one check that needs it, and at its end, while this wait would block everything
                self.bring_back(DISPOSABLE_DAG_ID, wait=0 if self.access_follows else REPARSE_WAIT_S)
        if self.ctx.options.profile == "disruptive":
            self.remove_own_users_and_roles()

    def remove_own_users_and_roles(self) -> None:
        """Users and roles generated cases created (named with the run prefix; the ledger does not track them)."""
        for rel, key, ident in ((k.collection, k.list_field, k.field) for k in ADMIN_KINDS):
            if not any(info.rel == rel and info.method == "POST" for info in self.engine.ops.values()):
                continue
            try:
                resp = self.ctx.session.call("GET", rel, params={"limit": 100})
                names = [i.get(ident) for i in (resp.json().get(key) or [])] if resp.status_code == 200 else []
                for name in names:
                    if isinstance(name, str) and name.startswith(self.ctx.prefix):
                        self.ctx.session.call("DELETE", f"{rel}/{name}")
            except (RequestRefused, requests.RequestException, ValueError) as exc:
                log.info("could not remove the run's %s: %s", key, exc)

    # -- the verdict ------------------------------------------------------------
    def conclude(self, outcome: Outcome, node, title: str | None = None) -> Conclusion:
        """The structured verdict of one operation (or chain), stored on the pytest item for the plugin.

        Each check gets its own status; the result's status is the worst unexplained one, so a
        known deviation of one check never hides a failure of another. A crashed check, a case
        the suite could not handle and a transport error are `error`, never a pass.
        """
        return settle(self.verdict_of(outcome, title), node)

    def verdict_of(self, outcome: Outcome, title: str | None = None) -> Conclusion:
        ctx = self.ctx
        title = title or (self.engine.ops[outcome.op_id].title if outcome.op_id in self.engine.ops else outcome.op_id)
        failures = list(outcome.failures.values())
        unknown = [f for f in failures if f.deviation is None]
        known = [f for f in failures if f.deviation is not None]
        checks = per_check(outcome)
        excused = excuses((f.deviation, f.check, f.operation or outcome.op_id) for f in known for _ in range(f.count))
        repro = next((f.curl for f in unknown + known if f.curl), "")
        seed_text = f"seed {ctx.options.seed} (rerun with --seed {ctx.options.seed} to generate the same requests)"
        problems = _problems(outcome)
        undecided = _undecided_code(outcome)
        if unknown:
            lines = [f"{len(unknown)} distinct contract violation(s) of {title} in {summarize(outcome)}; {seed_text}:"]
            for f in unknown[:MAX_LISTED]:
                lines.append(f"- {f.describe()}")
                lines.append(f"  MUST: {must_of(f.check)}")
                if f.curl:
                    lines.append(f"  reproduce: {f.curl}")
            if len(unknown) > MAX_LISTED:
                lines.append(f"- ... and {len(unknown) - MAX_LISTED} more")
            lines += [f"(also: {p})" for p in problems]
            if known:
                lines.append(
                    f"(also {len(known)} failure(s) explained by known upstream deviations: "
                    + ", ".join(e.deviation.id for e in excused)
                    + ")"
                )
            return Conclusion(
                "failed", "\n".join(lines), excused, checks, repro, failures=[(f.check, f.status) for f in unknown]
            )
        if problems:
            text = f"{title} could not be decided ({summarize(outcome)}; {seed_text}): " + "; ".join(problems)
            if known:
                text += " (other failures were known deviations: " + ", ".join(e.deviation.id for e in excused) + ")"
            return Conclusion("error", text, excused, checks, repro, reason_code=undecided)
        if known:
            observed = "; ".join(f.describe() for f in known[:3])
            text = (
                "; ".join(e.deviation.describe() for e in excused) + f" | observed: {observed} | {summarize(outcome)}"
            )
            return Conclusion(Status.KNOWN_DEVIATION, text, excused, checks, repro)
        if outcome.sent == 0:
            if outcome.refused:
                reason = Counter(outcome.refused).most_common(1)[0][0]
                return Conclusion(
                    "skipped",
                    f"refused by the safety guard ({len(outcome.refused)} generated cases): {reason}",
                    checks=checks,
                    reason_code=outcome.refusal_codes.get(reason) or ReasonCode.REFUSED_BY_GUARD.value,
                )
            return Conclusion(
                "skipped",
                "no request could be generated for this operation",
                checks=checks,
                reason_code=ReasonCode.NOTHING_GENERATED.value,
            )
        return Conclusion("passed", summarize(outcome), checks=checks)


def _undecided_code(outcome: Outcome) -> str:
    """The ReasonCode of the first of `_problems` (the same order), "" when nothing kept the suite from judging."""
    answered = sum(outcome.statuses.values())
    for present, code in (
        (outcome.waits_given_up, ReasonCode.SCHEDULER_NOT_RUNNING),
        (outcome.check_errors, ReasonCode.CHECK_CRASHED),
        (outcome.internal_errors, ReasonCode.CASE_UNHANDLED),
        (answered and outcome.statuses.get(401, 0) == answered, ReasonCode.CREDENTIALS_REFUSED),
        (outcome.transport_errors, ReasonCode.NO_ANSWER),
    ):
        if present:
            return code.value
    return ""


def _problems(outcome: Outcome) -> list[str]:
    """What kept the suite from judging every answer (each makes the result `error` unless it failed)."""
    out = list(outcome.waits_given_up[:1])
    if outcome.check_errors:
        name, why = outcome.check_errors[0]
        out.append(f"check {name} crashed on {len(outcome.check_errors)} response(s): {why}")
    if outcome.internal_errors:
        first = Counter(outcome.internal_errors).most_common(1)[0][0]
        out.append(f"{len(outcome.internal_errors)} generated case(s) could not be checked: {first}")
    answered = sum(outcome.statuses.values())
    if answered and outcome.statuses.get(401, 0) == answered:
        out.append(
            f"credentials refused: every one of {answered} authenticated request(s) answered 401, "
            "so nothing past authentication was checked"
        )
    if outcome.transport_errors:
        exc = outcome.transport_errors[0]
        out.append(f"{len(outcome.transport_errors)} request(s) got no answer: {type(exc).__name__}: {exc}")
    return out


def per_check(outcome: Outcome) -> list[dict]:
    """Every check that ran on this operation with its own status (worst first)."""
    names = dict.fromkeys(
        [
            *outcome.check_runs,
            *(f.check for f in outcome.failures.values()),
            *(name for name, _ in outcome.check_errors),
        ]
    )
    rank = {Status.FAILED: 0, Status.ERROR: 1, Status.KNOWN_DEVIATION: 2, Status.PASSED: 3}
    rows = []
    for name in names:
        mine = [f for f in outcome.failures.values() if f.check == name]
        unexplained = sum(f.count for f in mine if f.deviation is None)
        excused = sum(f.count for f in mine if f.deviation is not None)
        crashed = sum(1 for n, _ in outcome.check_errors if n == name)
        status = (
            Status.FAILED
            if unexplained
            else Status.ERROR
            if crashed
            else Status.KNOWN_DEVIATION
            if excused
            else Status.PASSED
        )
        row = {"name": name, "status": status, "judged": outcome.check_runs.get(name, 0), "must": must_of(name)}
        if unexplained:
            row["failures"] = unexplained
        if excused:
            row["excused"] = excused
            row["deviations"] = sorted({f.deviation.id for f in mine if f.deviation is not None})
        if status in (Status.FAILED, Status.KNOWN_DEVIATION):
            row["classes"] = result_classes(
                status,
                "property",
                [(f.check, f.status) for f in mine if f.deviation is None],
                [f.deviation for f in mine if f.deviation is not None],
            )
        if crashed:
            row["crashed"] = crashed
        rows.append(row)
    return sorted(rows, key=lambda r: (rank[r["status"]], r["name"]))
