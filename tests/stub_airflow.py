"""A tiny local HTTP server that looks enough like Airflow 3 for a posture-only run (no Airflow needed).

It answers `GET /api/v2/version` with 3.3.2 and `GET /api/v2/dags` with an empty
list, everything else with a 404 JSON body, and records every request. That is
enough for `run --only posture` to connect, run its four checks and write its
reports in a few seconds, and for the tests of bad input to show that nothing
reached a target: `requests` stays empty.

`health` is what its health endpoint answers (a test of what an unhealthy
target does to `status` and to a run).

`hold` names a path whose request is kept waiting until the test calls
`release()`, so a test can act while a run is in the middle of a check
(send a signal, take its report folder away, stop the server).
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

POLL_S = 0.02  # how often the serving loop checks whether it was stopped


class StubAirflow:
    """A recording Airflow 3.3.2 look-alike on 127.0.0.1 (a free port); use it as a context manager."""

    def __init__(self, hold: str | None = None, health: dict | None = None) -> None:
        self.requests: list[str] = []
        self.hold = hold
        self.health = health  # the answer of GET /api/v2/monitor/health (None: 404, as any unknown path)
        self.reached = threading.Event()  # the held path was asked for
        self._release = threading.Event()
        self._dead = False
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        # stop() waits for the serving loop to look up: every POLL_S, not the default 0.5 s
        self._thread = threading.Thread(target=self._server.serve_forever, args=(POLL_S,), daemon=True)

    def run_args(self, reports: Path, *extra: str) -> list[str]:
        """The CLI arguments of the run the stub is built for: posture only, no auth, no client, into `reports`."""
        return [
            "run",
            "--target",
            self.url,
            "--auth",
            "none",
            "--client",
            "none",
            "--only",
            "posture",
            "--report-dir",
            str(reports),
            *extra,
        ]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def release(self) -> None:
        self._release.set()

    def stop(self) -> None:
        """Die: a held request is dropped unanswered, later connections are refused."""
        self._dead = True
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> StubAirflow:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._thread.is_alive():
            self.stop()

    def _answer(self, method: str, path: str) -> tuple[int, dict] | None:
        """(status, JSON body), or None when the stub died meanwhile and the request gets no answer at all."""
        self.requests.append(f"{method} {path}")
        route = path.split("?")[0]
        if self.hold and route == self.hold:
            self.reached.set()
            self._release.wait(60)
        if self._dead:
            return None
        if method == "GET" and route == "/api/v2/version":
            return 200, {"version": "3.3.2", "git_version": None}
        if method == "GET" and route == "/api/v2/monitor/health" and self.health is not None:
            return 200, self.health
        if method == "GET" and route == "/api/v2/dags":
            return 200, {"dags": [], "total_entries": 0}
        return 404, {"detail": "Not Found"}

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _any(self) -> None:
                answer = stub._answer(self.command, self.path)
                if answer is None:
                    self.close_connection = True
                    return
                status, body = answer
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the suite hung up (interrupted): nothing to answer
                    pass

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        return Handler


def stub_airflow(hold: str | None = None) -> Iterator[StubAirflow]:
    """Fixture body: a running stub, stopped afterwards."""
    with StubAirflow(hold) as stub:
        yield stub
