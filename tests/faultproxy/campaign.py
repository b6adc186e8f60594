"""A detection campaign: every mutation of the corpus against one real Airflow version.

Running each mutation in its own `airflow-conformance run` is sound but slow
(a run costs seconds of start-up, and the probe-run checks wait for a real
DAG run). So the campaign batches mutations, and keeps the result sound by
checking, after the fact, which check each injected fault actually hit:

1. A clean run of the whole scenario+posture tier through a proxy with no
   mutation. It proves the proxy alone breaks nothing, gives each check's
   baseline status, and records every request with the check that sent it
   (the `timeline` plugin stamps when each check ran).
2. From those requests, each mutation's *footprint*: the checks whose
   requests it would match (a fixture's requests count for its whole module).
3. Batches: mutations are grouped only when none touches another's target
   checks and no two share a target.
4. After a batch run, attribution: every fault that fired while a target
   check ran must come from a mutation aimed at that check, and the mutation
   must have fired while its target ran. A mutation whose batch result is not
   cleanly attributed, or not caught, is run again on its own; that isolated
   run is the final word.
"""

from __future__ import annotations

import bisect
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tests.harness import REPO_ROOT, cli, cli_env
from tests.targets import DISPOSABLE_DAG, PROBE_DAG, RunOutcome, Target, keyword_for, run_suite

from .mutation import Mutation
from .proxy import FaultProxy, Logged
from .timeline import ENV as TIMELINE_ENV
from .timeline import PLUGIN as TIMELINE_PLUGIN

RUN_TIMEOUT = 600
DELETES_DAG = "scenario.dags.delete_disposable"


class CampaignError(RuntimeError):
    """The target is not in a state a detection run can be trusted in."""


# ----------------------------------------------------------------- timeline


@dataclass(frozen=True)
class Window:
    """When one check ran: setup from `start` to `call`, then call and teardown until `end`."""

    check_id: str
    module: str
    start: float
    call: float
    end: float


class Timeline:
    """The check windows of one run, read from the timeline plugin's file."""

    def __init__(self, path: Path) -> None:
        events: dict[tuple[str, str], dict[str, float]] = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                stamp, event, check_id, module = line.split(" ", 3)
                events.setdefault((check_id, module), {})[event] = float(stamp)
        windows = []
        for (check_id, module), ev in events.items():
            if "start" in ev:
                end = ev.get("end", float("inf"))
                windows.append(Window(check_id, module, ev["start"], ev.get("call", end), end))
        self.windows = sorted(windows, key=lambda w: w.start)
        self._starts = [w.start for w in self.windows]

    def at(self, when: float) -> tuple[Window, str] | None:
        """The check running at `when` and the phase ("setup" or "call"), or None (start-up, cleanup)."""
        i = bisect.bisect_right(self._starts, when) - 1
        if i < 0:
            return None
        w = self.windows[i]
        if when > w.end:
            return None
        return w, ("setup" if when < w.call else "call")

    def module_checks(self, module: str) -> set[str]:
        return {w.check_id for w in self.windows if w.module == module}


# ----------------------------------------------------------------- results


@dataclass
class Detection:
    """The final word on one mutation."""

    mutation: Mutation
    statuses: dict[str, str | None]  # target check id -> status in the deciding run
    messages: dict[str, str]
    fired: int  # exchanges the mutation changed in the deciding run
    run: str  # "batch N (k mutations)" or "alone"
    duration_s: float  # the deciding run's duration (shared by a batch)
    note: str = ""
    results: dict[str, dict] = field(default_factory=dict)  # target check id -> its whole result in the deciding run

    @property
    def caught(self) -> bool:
        return bool(self.statuses) and all(s == "failed" for s in self.statuses.values()) and self.fired > 0


@dataclass
class Batch:
    mutations: list[Mutation] = field(default_factory=list)
    targets: set[str] = field(default_factory=set)
    touched: set[str] = field(default_factory=set)  # other checks the members' matchers reach

    def admits(self, m: Mutation, footprint: set[str]) -> bool:
        catches = set(m.catches)
        return not (catches & self.targets or footprint & self.targets or catches & self.touched)

    def add(self, m: Mutation, footprint: set[str]) -> None:
        self.mutations.append(m)
        self.targets |= set(m.catches)
        self.touched |= footprint


# ----------------------------------------------------------------- the campaign


class Campaign:
    """Runs the clean baseline, then every applicable mutation, against one target."""

    def __init__(
        self,
        target: Target,
        corpus: Iterable[Mutation],
        workdir: Path,
        *,
        pycache: Path | None = None,
        isolated: bool = False,
        only: str = "scenarios,effects,posture",
        scope: Iterable[str] | None = None,
        extra: tuple[str, ...] = (),
        keyword: Callable[[Iterable[str]], str] = keyword_for,
        controls: Iterable[Mutation] = (),
        isolate_uncaught: bool = True,
        probe_paused: bool = True,
    ) -> None:
        """`only`, `scope`, `extra` and `keyword` let a campaign judge another tier than scenarios+posture.

        `scope`: the result ids of the clean run (None: the whole tier); `extra`: CLI arguments of every
        run (`--max-examples`, `--seed` for the property tier); `keyword`: how result ids become `-k`;
        `controls`: negative controls armed in the baseline run (a fault whose result must NOT fail, e.g. an
        answer a known deviation excuses), so they cost no run of their own; their targets' baseline is the
        control's result, and `clean_proxy` tells whether they fired; `isolate_uncaught=False`: a mutation
        cleanly attributed in its batch is decided there even when not caught (cases that are expected to
        show a miss, where re-running each alone would only cost a run apiece); `probe_paused`: the state the
        probe DAG is held in while the campaign runs (see `prepare`).
        """
        self.target = target
        self.mutations = [m for m in corpus if m.applies_to(target.version)]
        self.workdir = workdir
        self.pycache = pycache
        self.isolated = isolated
        self.only = only
        self.scope = sorted(scope) if scope is not None else None
        self.extra = extra
        self.keyword = keyword
        self.controls = [m for m in controls if m.applies_to(target.version)]
        self.isolate_uncaught = isolate_uncaught
        self.probe_paused = probe_paused
        self.clean_proxy: FaultProxy | None = None
        self.clean: RunOutcome | None = None
        self.clean_timeline: Timeline | None = None
        self.footprints: dict[str, set[str]] = {}
        self.batches: list[Batch] = []
        self.detections: dict[str, Detection] = {}
        self._runs = 0
        self.elapsed_s = 0.0  # time spent in runs and their preconditions
        # authorization checks a mutation targets: the runs then include that tier (with the target's role
        # identities), and the clean run keeps only those of its checks (the whole tier is tested elsewhere)
        self.authz = sorted({c for m in self.mutations for c in m.catches if c.startswith("authorization.")})
        self._original_pause: bool | None = None

    # -- the target's state around the campaign ------------------------------
    def prepare(self) -> None:
        """Hold the probe DAG paused (its state after `up` is unpaused) for the campaign; `restore` puts it back.

        Runs the suite triggers outside the probe-run fixture then stay queued. On an
        unpaused DAG they would be executing when the run's cleanup deletes them, and
        Airflow 2.10.5's scheduler dies on that race (StaleDataError on dag_run).
        A property campaign holds it unpaused instead (`probe_paused=False`): the property
        tier unpauses it anyway to finish the run its samples need, settles the runs it
        made before deleting them, and a DAG unpaused beforehand spares each run the wait.
        """
        dag = self.target.dag(PROBE_DAG)
        if dag is None:
            raise CampaignError(f"the probe DAG {PROBE_DAG} is not deployed on {self.target.url}")
        self._original_pause = bool(dag.get("is_paused"))
        if self._original_pause != self.probe_paused:
            self.target.set_paused(PROBE_DAG, self.probe_paused)

    def restore(self) -> None:
        if self._original_pause is not None and self._original_pause != self.probe_paused:
            self.target.set_paused(PROBE_DAG, self._original_pause)

    def _precondition(self, targets: set[str] | None) -> None:
        if not self.target.scheduler_healthy():
            raise CampaignError(
                f"the scheduler of Airflow {self.target.version} at {self.target.url} is not healthy; "
                "detection results would not mean anything (restart it with down/up)"
            )
        if (targets is None or DELETES_DAG in targets) and not self.target.wait_for_dag(DISPOSABLE_DAG):
            raise CampaignError(f"{DISPOSABLE_DAG} did not come back within 120 s after a previous run deleted it")

    # -- one run through a proxy -------------------------------------------
    def _run(
        self, label: str, mutations: list[Mutation], targets: set[str] | None, record: bool = False
    ) -> tuple[RunOutcome, FaultProxy, Timeline]:
        """One CLI run through a proxy armed with `mutations`, selecting `targets` (None: the whole tier)."""
        started = time.monotonic()
        try:
            return self._run_once(label, mutations, targets, record)
        finally:
            self.elapsed_s += time.monotonic() - started

    def _run_once(
        self, label: str, mutations: list[Mutation], targets: set[str] | None, record: bool
    ) -> tuple[RunOutcome, FaultProxy, Timeline]:
        self._precondition(targets)
        keyword = self.keyword(targets) if targets is not None else self._clean_keyword()
        self._runs += 1
        run_dir = self.workdir / f"{self._runs:03d}-{label}"
        run_dir.mkdir(parents=True, exist_ok=True)
        timeline_file = run_dir / "timeline.txt"
        env = cli_env(self.pycache)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
        env["PYTEST_ADDOPTS"] = (env.get("PYTEST_ADDOPTS", "") + f" -p {TIMELINE_PLUGIN}").strip()
        env[TIMELINE_ENV] = str(timeline_file)
        only = self.only
        # role identities only for runs that judge authorization (the clean run, authorization batches): they log
        # in at the start of a run, and a fault aimed at logins (any password accepted) would end the run there
        if self.authz and (targets is None or any(t.startswith("authorization.") for t in targets)):
            env.update(self.target.role_env())
            only += ",authorization"
        if mutations:  # the official clients' reading is judged in the clean run and by the client cases, not here
            env["AIRFLOW_CONFORMANCE_CLIENT"] = "none"
        with FaultProxy(
            self.target.url, mutations, credentials=self.target.credentials, record_requests=record
        ) as proxy:
            outcome = run_suite(
                proxy.url,
                self.target.auth_spec,
                run_dir / "report",
                keyword=keyword,
                timeout=RUN_TIMEOUT,
                env=env,
                only=only,
                extra=self.extra,
            )
        if any(_deletes(m) for m in mutations) and outcome.results.get("run_id"):
            # a swallowed DELETE told the run's ledger the object was gone: sweep it by the run's prefix
            cli(
                "cleanup",
                "--target",
                self.target.url,
                "--auth",
                self.target.auth_spec,
                "--run-id",
                outcome.results["run_id"],
                timeout=300,
                env=env,
            )
        return outcome, proxy, Timeline(timeline_file)

    def _clean_keyword(self) -> str | None:
        """The clean run: the scope, or every check of the tier and of the authorization tier the targeted checks."""
        if self.scope is not None:
            return self.keyword([*self.scope, *self.authz])
        if not self.authz:
            return None
        return "not authorization or " + self.keyword(self.authz)

    # -- 1. baseline and footprints ------------------------------------------
    def run_clean(self) -> RunOutcome:
        if self.clean is None:
            if self._original_pause is None:
                self.prepare()
            outcome, proxy, timeline = self._run("clean", self.controls, None, record=True)
            self.clean, self.clean_timeline, self.clean_proxy = outcome, timeline, proxy
            self.footprints = self._footprints(proxy, timeline)
        return self.clean

    def _footprints(self, proxy: FaultProxy, timeline: Timeline) -> dict[str, set[str]]:
        located = [(timeline.at(at), req) for at, req in proxy.recorded or []]
        prints: dict[str, set[str]] = {}
        for m in self.mutations:
            reach: set[str] = set()
            for where, req in located:
                if where is None or not m.matches(req):
                    continue
                window, phase = where
                # a setup-phase request may come from a module-scoped fixture, which any
                # check of the module can end up setting up when only some are selected
                reach |= timeline.module_checks(window.module) if phase == "setup" else {window.check_id}
            prints[m.name] = reach - set(m.catches)
        return prints

    # -- 2. plan --------------------------------------------------------------
    def plan(self) -> list[Batch]:
        self.run_clean()
        batches: list[Batch] = []
        for m in self.mutations:
            fp = self.footprints.get(m.name, set())
            home = None if self.isolated else next((b for b in batches if b.admits(m, fp)), None)
            if home is None:
                home = Batch()
                batches.append(home)
            home.add(m, fp)
        self.batches = batches
        return batches

    # -- 3. run ---------------------------------------------------------------
    def run(self) -> dict[str, Detection]:
        """Decide every mutation: in its batch when cleanly attributed and caught, else alone."""
        if self.detections:
            return self.detections
        retry: list[Mutation] = []
        for n, batch in enumerate(self.plan(), 1):
            if len(batch.mutations) == 1:
                retry.append(batch.mutations[0])
                continue
            decided, unclear = self.run_batch(batch.mutations, f"batch {n}")
            self.detections.update(decided)
            retry += unclear
        for m in retry:
            outcome, proxy, _ = self._run(m.name, [m], set(m.catches))
            self.detections[m.name] = self._detection(m, outcome, proxy, "alone")
        return self.detections

    def run_batch(self, mutations: list[Mutation], label: str) -> tuple[dict[str, Detection], list[Mutation]]:
        """Run mutations together; returns the cleanly attributed, caught ones and the rest (to isolate).

        Without `isolate_uncaught`, a cleanly attributed mutation is returned as decided whether caught or not.
        """
        targets = {c for m in mutations for c in m.catches}
        outcome, proxy, timeline = self._run(label.replace(" ", ""), mutations, targets)
        fired_in = self._fired_in(proxy.log, timeline)
        decided: dict[str, Detection] = {}
        unclear: list[Mutation] = []
        for m in mutations:
            foreign = {name for c in m.catches for name in fired_in.get(c, set())} - {m.name}
            hit = any(m.name in fired_in.get(c, set()) for c in m.catches)
            detection = self._detection(m, outcome, proxy, f"{label} ({len(mutations)} mutations)")
            if foreign:
                detection.note = f"other mutations fired while its checks ran: {sorted(foreign)}"
            if foreign or not hit or (self.isolate_uncaught and not detection.caught):
                unclear.append(m)
            else:
                decided[m.name] = detection
        return decided, unclear

    @staticmethod
    def _fired_in(log: list[Logged], timeline: Timeline) -> dict[str, set[str]]:
        fired: dict[str, set[str]] = {}
        for entry in log:
            where = timeline.at(entry.at)
            if where is not None and entry.mutations:
                fired.setdefault(where[0].check_id, set()).update(entry.mutations)
        return fired

    @staticmethod
    def _detection(m: Mutation, outcome: RunOutcome, proxy: FaultProxy, how: str) -> Detection:
        statuses = {c: outcome.status_of(c) for c in m.catches}
        messages = {c: outcome.result(c).get("message", "") for c in m.catches}
        note = (
            "" if outcome.results else f"no results.json (exit {outcome.returncode}): {outcome.stderr.strip()[-300:]}"
        )
        return Detection(
            m,
            statuses,
            messages,
            proxy.fired(m.name),
            how,
            outcome.duration_s,
            note,
            {c: outcome.result(c) for c in m.catches},
        )

    # -- summary ----------------------------------------------------------------
    def score(self) -> dict:
        caught = [n for n, d in self.detections.items() if d.caught]
        return {
            "airflow_version": self.target.version,
            "mutations": len(self.mutations),
            "caught": len(caught),
            "missed": sorted(set(self.detections) - set(caught)),
            "runs": self._runs,
            "duration_s": round(self.elapsed_s, 1),
            "batches": [[m.name for m in b.mutations] for b in self.batches],
            "decided_alone": sorted(n for n, d in self.detections.items() if d.run == "alone"),
        }


def _deletes(m: Mutation) -> bool:
    methods = (m.method,) if isinstance(m.method, str) else m.method
    return "DELETE" in methods


def only_named() -> set[str]:
    """The case names FAULTPROXY_ONLY lists (comma-separated; empty: every case), to rerun one fault by name."""
    return {n.strip() for n in os.environ.get("FAULTPROXY_ONLY", "").split(",") if n.strip()}
