"""The property tier of one run: engine, samples, workers, and the verdict per operation.

`Tier.outcome(op_id)` runs (or, with `--workers N`, waits for) the property
work of one operation; `Tier.conclude` turns it into the item's result:
passed, skipped with the guard's reason, a known deviation (xfail with its
upstream reference) or a contract violation listing the distinct failures
with redacted curl reproductions and the seed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from urllib.parse import quote

import pytest
import requests

from conformance.local.probe_dags import DISPOSABLE_DAG_ID, PROBE_DAG_ID
from conformance.properties.engine import MAX_LISTED, Outcome, PropertyEngine, ordered_operations, summarize
from conformance.properties.samples import SampleBuilder
from conformance.safety.guard import RequestRefused
from conformance.verdict import ContractViolation

log = logging.getLogger(__name__)
REPARSE_WAIT_S = 45.0


class Tier:
    def __init__(self, ctx) -> None:
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
        self._budget_end: float | None = None
        self._ops_left = len(self.order)

    # -- running -------------------------------------------------------------
    def outcome(self, op_id: str) -> Outcome:
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

    def _run(self, op_id: str) -> Outcome:
        info = self.engine.ops[op_id]
        self._prepare(info)
        try:
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
        if info.rel == "/variables/{variable_key}" and owned.get("variable"):
            self.builder.ensure_variable(owned["variable"])
        elif info.rel == "/pools/{pool_name}" and owned.get("pool"):
            self.builder.ensure_pool(owned["pool"])
        elif info.rel == "/connections/{connection_id}" and owned.get("connection"):
            self.builder.ensure_connection(owned["connection"])

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
        samples = self.engine.samples
        for dag_id in (PROBE_DAG_ID, DISPOSABLE_DAG_ID):
            want = self.ctx.ledger.noted(f"paused:{dag_id}") if original else samples.unpaused.get(dag_id)
            if want is None:
                continue
            try:
                resp = self.ctx.session.call("GET", f"/dags/{dag_id}")
                if resp.status_code == 200 and bool(resp.json().get("is_paused")) != bool(want):
                    self.builder.set_paused(dag_id, bool(want))
            except (RequestRefused, requests.RequestException, ValueError) as exc:
                log.info("could not restore the pause state of %s: %s", dag_id, exc)

    def settle_runs(self, *, keep_stable: bool = True) -> None:
        """Runs this run created that are still queued/running are marked failed, so they can be deleted.

        Generated triggers use odd logical dates (year 0008, 4806, ...) and clears re-queue runs;
        Airflow 3 refuses to delete a running run (409), which would leave it behind.
        """
        stable = self.engine._samples.owned.get("dag_run") if self.engine._samples and keep_stable else None
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
        """A deleted probe DAG returns when its file is parsed again; ask for that and wait (bounded)."""
        info = self.ctx.probe_dags.get(dag_id) or {}
        token = info.get("file_token")
        try:
            if self.ctx.session.call("GET", f"/dags/{dag_id}").status_code == 200:
                return
            if token:
                self.ctx.session.call("PUT", f"/parseDagFile/{token}")
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if self.ctx.session.call("GET", f"/dags/{dag_id}").status_code == 200:
                    return
                time.sleep(1.0)
        except (RequestRefused, requests.RequestException) as exc:
            log.info("could not bring back %s: %s", dag_id, exc)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self.ctx.options.profile != "readonly" and self.engine._samples is not None:
            self.settle_runs(keep_stable=False)  # the stable run too, now that every operation is done with it
            self.restore_pause_states(original=True)
            if DISPOSABLE_DAG_ID in self.ctx.probe_dags:
                self.bring_back(DISPOSABLE_DAG_ID)
        if self.ctx.options.profile == "disruptive":
            self.remove_own_users_and_roles()

    def remove_own_users_and_roles(self) -> None:
        """Users and roles generated cases created (named with the run prefix; the ledger does not track them)."""
        for rel, key, ident in (("/users", "users", "username"), ("/roles", "roles", "name")):
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
    def conclude(self, outcome: Outcome, notes: list, title: str | None = None) -> None:
        ctx = self.ctx
        op_id = outcome.op_id
        failures = list(outcome.failures.values())
        seed_text = f"seed {ctx.options.seed} (rerun with --seed {ctx.options.seed} to generate the same requests)"
        if outcome.internal_errors and all(f.deviation is not None for f in failures):
            first = Counter(outcome.internal_errors).most_common(1)[0][0]
            raise RuntimeError(f"{len(outcome.internal_errors)} generated case(s) could not be checked "
                               f"({summarize(outcome)}): {first}")
        if failures:
            known = [(f, f.deviation) for f in failures if f.deviation is not None]
            unknown = [(f, None) for f in failures if f.deviation is None]
            if not unknown:
                _remember(ctx, known[0][0])
                devs = list({d.id: d for _, d in known}.values())
                observed = "; ".join(f.describe() for f, _ in known[:3])
                pytest.xfail("; ".join(d.describe() for d in devs) + f" | observed: {observed} | {summarize(outcome)}")
            _remember(ctx, unknown[0][0])
            title = title or self.engine.ops[op_id].title
            lines = [f"{len(unknown)} distinct contract violation(s) of {title} "
                     f"in {summarize(outcome)}; {seed_text}:"]
            for f, _ in unknown[:MAX_LISTED]:
                lines.append(f"- {f.describe()}")
                if f.curl:
                    lines.append(f"  reproduce: {f.curl}")
            if len(unknown) > MAX_LISTED:
                lines.append(f"- ... and {len(unknown) - MAX_LISTED} more")
            if known:
                ids = ", ".join(dict.fromkeys(d.id for _, d in known))
                lines.append(f"(also {len(known)} failure(s) explained by known upstream deviations: {ids})")
            raise ContractViolation("\n".join(lines))
        if outcome.transport_errors:
            exc = outcome.transport_errors[0]
            raise exc
        if outcome.sent == 0:
            if outcome.refused:
                reason = Counter(outcome.refused).most_common(1)[0][0]
                pytest.skip(f"refused by the safety guard ({len(outcome.refused)} generated cases): {reason}")
            pytest.skip("no request could be generated for this operation")
        notes.append(summarize(outcome))


def _remember(ctx, failure) -> None:
    """Make the failing request the one the result's `reproduce` field shows."""
    if failure.request is not None:
        ctx.session._remember(failure.request)  # the plugin reads ctx.session.last_curl()


def operation_params(ctx) -> list:
    """One pytest param per operationId of the reference spec, marked for the plugin."""
    params = []
    for op_id, method, rel, _raw in ordered_operations(ctx.spec, ctx.router):
        title = f"{method} {rel}"
        must = (f"Every response to {title} MUST be documented by the reference spec (status, content type, "
                "body schema), MUST NOT be a server error, MUST reject invalid input with 4xx and accept valid "
                "input, MUST refuse requests without credentials when protected, and MUST satisfy the Airflow checks.")
        marker = pytest.mark.conformance_property(result_id=f"property.{op_id}", kind="property", title=title,
                                                  operations=[op_id], must=must)
        params.append(pytest.param(op_id, id=op_id, marks=marker))
    return params
