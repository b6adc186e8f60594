"""Long waits speak: the heartbeat line names what is waited for, the time so far and the limit."""

from __future__ import annotations

from conformance import progress


def test_a_wait_says_what_it_waits_for_and_for_how_long(monkeypatch):
    lines: list[str] = []
    progress.set_sink(lines.append)
    try:
        beat = progress.Heartbeat("the probe run acf_x", limit_s=120, every_s=0)
        beat.beat("queued")
        quiet = progress.Heartbeat("another wait", limit_s=120)  # the default interval: nothing yet
        quiet.beat()
    finally:
        progress.set_sink(None)
    assert len(lines) == 1
    assert lines[0].startswith("waiting for the probe run acf_x (state queued): ") and "of at most 120 s" in lines[0]
    progress.Heartbeat("no sink", limit_s=1, every_s=0).beat()  # without a sink nothing is printed, nothing fails
