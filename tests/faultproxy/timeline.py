"""A pytest plugin loaded INTO the suite's own run (`PYTEST_ADDOPTS=-p faultproxy.timeline`).

Why: to run several mutations in one `airflow-conformance run` and still know
which check each injected fault hit, the proxy's exchanges (wall-clock
stamped) are matched against the times each check ran. The plugin only
observes: it appends `<time> <event> <nodeid>` lines to the file named by
$FAULTPROXY_TIMELINE and changes nothing in the run.
"""

from __future__ import annotations

import os
import time

import pytest

ENV = "FAULTPROXY_TIMELINE"


def _write(event: str, nodeid: str) -> None:
    path = os.environ.get(ENV)
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"{time.time():.6f} {event} {nodeid}\n")


def pytest_runtest_logstart(nodeid: str, location) -> None:
    _write("start", nodeid)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    _write("call", item.nodeid)


def pytest_runtest_logfinish(nodeid: str, location) -> None:
    _write("end", nodeid)
