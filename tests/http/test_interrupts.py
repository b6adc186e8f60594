"""How Ctrl-C / SIGTERM are held back while requests are in flight (no Airflow needed: pure logic).

The end-to-end behaviour (a real run interrupted, then everything cleaned up) is in tests/system/test_safety.py.
"""

from __future__ import annotations

import threading

import pytest

from conformance.http.interrupts import Interrupts
from conformance.safety.guard import RequestRefused


def test_signal_waits_for_the_request_in_flight_then_stops():
    it = Interrupts()
    it.enter()
    it.handler(15, None)  # arrives mid-request: held
    assert it.pending and it.stopping.is_set()
    with pytest.raises(KeyboardInterrupt):
        it.leave()  # the request is answered (and recorded): now the run stops
    assert not it.pending


def test_second_signal_stops_at_once(capsys):
    it = Interrupts()
    it.enter()
    it.handler(2, None)
    assert "signal again" in capsys.readouterr().err
    with pytest.raises(KeyboardInterrupt):
        it.handler(2, None)


def test_signal_between_requests_stops_at_once():
    with pytest.raises(KeyboardInterrupt):
        Interrupts().handler(15, None)


def test_worker_threads_send_nothing_after_the_signal_main_thread_still_may():
    it = Interrupts()
    with pytest.raises(KeyboardInterrupt):
        it.handler(15, None)
    refused = []

    def worker():
        try:
            it.enter()
        except RequestRefused as exc:
            refused.append(exc.reason)

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert refused and "interrupted" in refused[0]
    it.enter()  # the main thread goes on to clean up
    it.leave()
    it.reset()
    assert not it.stopping.is_set()
