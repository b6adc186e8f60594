"""A token bucket shared by every worker, so `--max-rps` bounds the whole run."""

from __future__ import annotations

import threading
import time


class TokenBucket:
    """At most `rate` requests per second on average, bursts of `burst`."""

    def __init__(self, rate: float | None, burst: int = 1) -> None:
        self.rate = rate
        self.capacity = max(1, burst)
        self._tokens = float(self.capacity)
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one request's token, sleeping until there is one; the seconds slept."""
        if not self.rate:
            return 0.0
        slept = 0.0
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return slept
                wait = (1 - self._tokens) / self.rate
            time.sleep(wait)
            slept += wait
