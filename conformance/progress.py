"""Where a long wait says that it is still waiting, so a run is never silent for long.

The layers that wait (probe runs, retries) sit below the run plugin that owns the
terminal; they report here, and the plugin points the sink at its progress line
(`set_sink`). Without a sink (a library use, a unit test) nothing is printed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

HEARTBEAT_S = 30.0  # at most this long between two lines while something is waited for

_sink: Callable[[str], None] | None = None


def set_sink(sink: Callable[[str], None] | None) -> None:
    global _sink
    _sink = sink


def say(line: str) -> None:
    if _sink is not None:
        _sink(line)


class Heartbeat:
    """Says what is waited for, how long so far and the limit, once per HEARTBEAT_S while `beat` is called."""

    def __init__(self, what: str, limit_s: float, every_s: float = HEARTBEAT_S) -> None:
        self.what, self.limit_s, self.every_s = what, limit_s, every_s
        self.started = self.last = time.monotonic()

    def beat(self, state: str = "") -> None:
        now = time.monotonic()
        if now - self.last >= self.every_s:
            self.last = now
            detail = f" (state {state})" if state else ""
            say(f"waiting for {self.what}{detail}: {now - self.started:.0f} s of at most {self.limit_s:.0f} s")
