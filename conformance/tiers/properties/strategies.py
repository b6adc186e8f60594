"""What hypothesis draws for one operation: realistic path parameters and schemathesis' strategies.

Random path parameters mostly produce 404s, so most cases aim at objects the
samples found or created; writes aim only at objects the run may change.
Strategies are built once per (operation, mode, path set) and shared by the
workers: building one is the slow part of generation.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from hypothesis import given
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from conformance.generation import generation_settings
from conformance.probes.dags import DISPOSABLE_DAG_ID
from conformance.tiers.shared.operations import OperationInfo
from conformance.tiers.shared.samples import Samples

log = logging.getLogger(__name__)
RUN_SCOPED = ("dag_run_id", "task_id", "map_index", "xcom_key", "task_try_number", "try_number", "group_id")
MAX_PATH_SETS = 6


class Strategies:
    """Path-parameter sets and cached strategies of the run's operations (thread-safe)."""

    def __init__(self, samples: Callable[[], Samples]) -> None:
        self.samples = samples  # called only for operations with path parameters: building them sends requests
        self._lock = threading.Lock()
        self._negatable: dict[str, bool] = {}
        self._strategies: dict[tuple, object] = {}

    def path_choices(self, info: OperationInfo) -> list[dict]:
        """Realistic path-parameter sets for this operation (empty: nothing to aim at)."""
        if not info.path_params:
            return [{}]
        s = self.samples()
        write = info.writes
        run_scoped = any(p in RUN_SCOPED for p in info.path_params)
        anchor = {} if write else dict(s.run_anchor)
        width = 1
        per_param: dict[str, list] = {}
        fixed = {p.name: (p.definition.get("schema") or {}) for p in info.operation.path_parameters}
        for p in info.path_params:
            if "const" in fixed.get(p, {}):  # e.g. 3.x batch lists: dag_id is always "~"
                per_param[p] = [fixed[p]["const"]]
                continue
            if p in ("dag_id", "dag_run_id", "task_id") and run_scoped and anchor:
                per_param[p] = [anchor.get(p)]
                continue
            values = s.values(p, write=write, rel=info.rel)
            if p == "dag_id" and info.method == "DELETE" and info.rel == "/dags/{dag_id}":
                values = [DISPOSABLE_DAG_ID]
            if not values:
                return []
            per_param[p] = values
            width = max(width, len(values))
        combos = [{p: vals[i % len(vals)] for p, vals in per_param.items()} for i in range(min(width, MAX_PATH_SETS))]
        if not write and "task_id" in info.path_params and "dag_run_id" not in info.path_params:
            combos += [{**combos[0], **task} for task in s.task_anchors]  # a task of another DAG besides the probe's
        return combos

    def strategy(self, info: OperationInfo, mode: GenerationMode, combo_index: int | None, combos: list[dict]):
        key = (info.op_id, mode, combo_index)
        with self._lock:
            strat = self._strategies.get(key)
        if strat is None:
            path = combos[combo_index] if combo_index is not None else None
            strat = info.operation.as_strategy(mode, path_parameters=path or None)
            with self._lock:
                self._strategies[key] = strat
        return strat

    def negatable(self, info: OperationInfo, combos: list[dict]) -> bool:
        """Whether schemathesis can produce negative data once the path parameters are fixed."""
        with self._lock:
            known = self._negatable.get(info.op_id)
        if known is not None:
            return known
        # GenerationMode is an enum.StrEnum (Python 3.11+): mypy at python_version 3.10 reads its members as str
        strat = self.strategy(
            info,
            GenerationMode.NEGATIVE,  # type: ignore[arg-type]
            0 if combos and combos[0] else None,
            combos,
        )

        @generation_settings(1, 0)
        @given(strat)
        def probe(case):
            pass

        try:
            probe()
            ok = True
        except Unsatisfiable:
            ok = False
        except Exception as exc:  # a schema schemathesis cannot negate
            log.info("no negative data for %s: %s", info.op_id, exc)
            ok = False
        with self._lock:
            self._negatable[info.op_id] = ok
        return ok
