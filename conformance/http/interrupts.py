"""Ctrl-C and SIGTERM during a run: finish the request in flight, then stop.

One `Interrupts` belongs to one run (the run context creates it and every
session of the run shares it); the pytest plugin installs its `handler` for
the session and puts the previous handlers back afterwards.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from contextlib import contextmanager

from conformance.errors import RequestRefused


class Interrupts:
    """Ctrl-C / SIGTERM: requests in flight finish and are recorded, then the run stops.

    Otherwise an interrupt could land between the server creating an object
    and the ledger recording it, and the object would outlive the run.
    Python runs signal handlers in the main thread only, so the main thread's
    own request depth decides whether the interrupt waits; and from the
    signal on, worker threads (parallel property tests) send nothing more:
    their next request is refused, they wind down, and the cleanup that
    follows in the main thread sees a complete ledger.
    """

    def __init__(self) -> None:
        self._local = threading.local()
        self.pending = False
        self.stopping = threading.Event()
        # how the held signal is announced; a pytest session replaces it, since its capture would swallow stderr
        self.say: Callable[[str], None] = lambda line: print(f"\n{line}", file=sys.stderr, flush=True)

    @property
    def depth(self) -> int:
        return getattr(self._local, "depth", 0)

    def reset(self) -> None:
        self.pending = False
        self.stopping.clear()

    def enter(self) -> None:
        if self.stopping.is_set() and threading.current_thread() is not threading.main_thread():
            raise RequestRefused("the run was interrupted; no further requests from worker threads")
        self._local.depth = self.depth + 1

    def leave(self) -> None:
        self._local.depth = self.depth - 1
        self.raise_pending()

    def handler(self, signum, frame) -> None:
        """First signal: stop once the request in flight is answered. A second one: stop now.

        A request is bounded by the client's timeouts, but someone pressing Ctrl-C twice wants out;
        an object that request may have created carries the run prefix, so the end-of-run
        cleanup (or `cleanup --run-id`) still finds it by name.
        """
        self.stopping.set()
        if self.depth > 0 and not self.pending:
            self.pending = True
            self.say("airflow-conformance: stopping after the request in flight (signal again to stop at once)")
            return
        self.pending = False
        raise KeyboardInterrupt

    def raise_pending(self) -> None:
        if self.pending and self.depth == 0 and threading.current_thread() is threading.main_thread():
            self.pending = False
            raise KeyboardInterrupt

    @contextmanager
    def installed(self):
        """SIGINT and SIGTERM go to `handler` inside the block (main thread only); the old handlers come back."""
        self.reset()
        previous = {}
        try:
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, self.handler)
        except ValueError:  # not the main thread: signals stay as they are
            pass
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
