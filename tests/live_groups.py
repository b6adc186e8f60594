"""Which worker of the live layer runs a test: one worker per shared target.

Most of a live test's time is spent waiting on a real Airflow's scheduler, so the live layer runs the 2.10.5
target's tests in one pytest-xdist worker and the 3.3.2 target's in another, at the same time. Within a worker
a target's tests keep the order of a serial run: a test that snapshots its target, restarts it or counts its
runs never sees another test's work on it. A test names its target by a version parameter (of `live`,
`airflow`, `version`, ...), which its node id shows (`test_x[2.10.5-...]`); a test without one (its own `up`
of a release, a release's venv) runs with the rest of its module.

The grouping is read off node ids, which is all the xdist controller sees (it does not collect): the scheduler
needs no marker and no support from the workers.
"""

from __future__ import annotations

from collections import Counter

from tests.targets import VERSIONS


def target_of(nodeid: str) -> str | None:
    """The shared target a test's parameters name (a whole `-`-separated part of its id), if any."""
    _, _, params = nodeid.rpartition("::")[2].partition("[")
    parts = params.removesuffix("]").split("-")
    return next((version for version in VERSIONS if version in parts), None)


def group_of(nodeid: str) -> str:
    """The worker group of a live test: its target, else its module."""
    return target_of(nodeid) or nodeid.split("::")[0]


def make_scheduler(config, log):
    """pytest-xdist's scope scheduler with the groups of `group_of` as its scopes (largest first: one per worker)."""
    from xdist.scheduler import LoadScopeScheduling  # noqa: PLC0415 - only with pytest-xdist, the test extra

    class TargetScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

    return TargetScheduling(config, log)


class WorkerLoad:
    """Seconds and tests per group in one worker: whether the groups are balanced shows in the session's output."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self.tests: Counter[str] = Counter()

    def add(self, nodeid: str, seconds: float) -> None:
        group = group_of(nodeid)
        self.seconds[group] += seconds
        self.tests[group] += 1

    def describe(self, worker: str) -> str:
        """`live worker gw0: 1880 s, 190 tests (2.10.5 1700 s/160, tests/matrix/test_matrix.py 180 s/3)`."""
        groups = ", ".join(f"{g} {s:.0f} s/{self.tests[g]}" for g, s in self.seconds.most_common())
        return f"live worker {worker}: {sum(self.seconds.values()):.0f} s, {sum(self.tests.values())} tests ({groups})"
