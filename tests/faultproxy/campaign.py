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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from faultproxy.mutation import Mutation
from faultproxy.proxy import FaultProxy, Logged
from faultproxy.targets import RunOutcome, Target, cli_env, keyword_for, run_suite
from faultproxy.timeline import ENV as TIMELINE_ENV

TESTS_DIR = Path(__file__).resolve().parents[1]
RUN_TIMEOUT = 600


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

    def __init__(self, path: Path, check_of: dict[str, str]) -> None:
        events: dict[str, dict[str, float]] = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                stamp, event, nodeid = line.split(" ", 2)
                events.setdefault(nodeid, {})[event] = float(stamp)
        windows = []
        for nodeid, ev in events.items():
            function = nodeid.rsplit("::", 1)[-1].split("[", 1)[0]
            if function in check_of and "start" in ev:
                end = ev.get("end", float("inf"))
                windows.append(Window(check_of[function], nodeid.split("::", 1)[0], ev["start"], ev.get("call", end), end))
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

    def __init__(self, target: Target, corpus: Iterable[Mutation], workdir: Path, check_names: dict[str, str],
                 *, pycache: Path | None = None, isolated: bool = False) -> None:
        self.target = target
        self.mutations = [m for m in corpus if m.applies_to(target.version)]
        self.workdir = workdir
        self.names = check_names  # result id -> function name
        self.check_of = {fn: rid for rid, fn in check_names.items()}
        self.pycache = pycache
        self.isolated = isolated
        self.clean: RunOutcome | None = None
        self.clean_timeline: Timeline | None = None
        self.footprints: dict[str, set[str]] = {}
        self.batches: list[Batch] = []
        self.detections: dict[str, Detection] = {}
        self._runs = 0

    # -- one run through a proxy -------------------------------------------
    def _run(self, label: str, mutations: list[Mutation], keyword: str | None,
             record: bool = False) -> tuple[RunOutcome, FaultProxy, Timeline]:
        self._runs += 1
        run_dir = self.workdir / f"{self._runs:03d}-{label}"
        run_dir.mkdir(parents=True, exist_ok=True)
        timeline_file = run_dir / "timeline.txt"
        env = cli_env(self.pycache)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS_DIR), env.get("PYTHONPATH", "")) if p)
        env["PYTEST_ADDOPTS"] = (env.get("PYTEST_ADDOPTS", "") + " -p faultproxy.timeline").strip()
        env[TIMELINE_ENV] = str(timeline_file)
        with FaultProxy(self.target.url, mutations, credentials=self.target.credentials,
                        record_requests=record) as proxy:
            outcome = run_suite(proxy.url, self.target.auth_spec, run_dir / "report", keyword=keyword,
                                timeout=RUN_TIMEOUT, env=env)
        return outcome, proxy, Timeline(timeline_file, self.check_of)

    # -- 1. baseline and footprints ------------------------------------------
    def run_clean(self) -> RunOutcome:
        if self.clean is None:
            outcome, proxy, timeline = self._run("clean", [], None, record=True)
            self.clean, self.clean_timeline = outcome, timeline
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
        if self.detections:
            return self.detections
        retry: list[Mutation] = []
        for n, batch in enumerate(self.plan(), 1):
            if len(batch.mutations) == 1:
                retry.append(batch.mutations[0])
                continue
            label = f"batch{n}"
            outcome, proxy, timeline = self._run(label, batch.mutations, keyword_for(sorted(batch.targets), self.names))
            fired_in = self._fired_in(proxy.log, timeline)
            for m in batch.mutations:
                foreign = {name for c in m.catches for name in fired_in.get(c, set())} - {m.name}
                hit = sum(1 for c in m.catches if m.name in fired_in.get(c, set()))
                detection = self._detection(m, outcome, proxy, f"batch {n} ({len(batch.mutations)} mutations)")
                if foreign or not hit or not detection.caught:
                    retry.append(m)  # unclear or missed in company: the isolated run decides
                else:
                    self.detections[m.name] = detection
        for m in retry:
            outcome, proxy, _ = self._run(m.name, [m], keyword_for(m.catches, self.names))
            self.detections[m.name] = self._detection(m, outcome, proxy, "alone")
        return self.detections

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
        note = "" if outcome.results else f"no results.json (exit {outcome.returncode}): {outcome.stderr.strip()[-300:]}"
        return Detection(m, statuses, messages, proxy.fired(m.name), how, outcome.duration_s, note)

    # -- summary ----------------------------------------------------------------
    def score(self) -> dict:
        caught = [n for n, d in self.detections.items() if d.caught]
        return {
            "airflow_version": self.target.version,
            "mutations": len(self.mutations),
            "caught": len(caught),
            "missed": sorted(set(self.detections) - set(caught)),
            "runs": self._runs,
            "batches": [[m.name for m in b.mutations] for b in self.batches],
            "decided_alone": sorted(n for n, d in self.detections.items() if d.run == "alone"),
        }
