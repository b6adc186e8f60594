"""A pytest plugin loaded INTO the suite's own run (`PYTEST_ADDOPTS=-p tests.faultproxy.timeline`).

Why: to run several mutations in one `airflow-conformance run` and still know
which check each injected fault hit, the proxy's exchanges (wall-clock
stamped) are matched against the times each check ran. The plugin only
observes: it appends `<time> <event> <check id>` lines (events: start, call,
end) to the file named by $FAULTPROXY_TIMELINE and changes nothing in the run.
"""

from __future__ import annotations

import os
import time

import pytest

ENV = "FAULTPROXY_TIMELINE"
PLUGIN = "tests.faultproxy.timeline"


def _check_id(item: pytest.Item) -> str:
    marker = item.get_closest_marker("conformance")
    if marker is not None:
        return marker.args[0].result_id
    generated = item.get_closest_marker("conformance_property")  # property and authorization items
    return generated.kwargs.get("result_id", item.nodeid) if generated is not None else item.nodeid


def _write(event: str, item: pytest.Item) -> None:
    path = os.environ.get(ENV)
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"{time.time():.6f} {event} {_check_id(item)} {item.nodeid.split('::', 1)[0]}\n")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _write("start", item)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    _write("call", item)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem):
    yield  # module fixtures are finalized inside the teardown of their last check
    _write("end", item)
