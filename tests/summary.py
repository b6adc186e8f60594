"""Lines a test module leaves for the end of the session's output (a detection score, a table of outcomes).

A fixture's own print at its teardown reaches the terminal only in a serial run: in a pytest-xdist worker (the
live layer runs one per target) nothing it prints is shown. The line goes through the worker's output to the
controller instead, which prints every worker's lines in the terminal summary (tests/conftest.py).
"""

from __future__ import annotations

import pytest

LINES = pytest.StashKey[list[str]]()


def summary_line(config: pytest.Config, text: str) -> None:
    """Keep `text` for the terminal summary, from this process or from an xdist worker."""
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput.setdefault("summary_lines", []).append(text)
    else:
        config.stash.setdefault(LINES, []).append(text)


def collect_worker_lines(config: pytest.Config, workeroutput: dict) -> None:
    """Take over the lines a finished worker kept (the controller's side of `summary_line`)."""
    config.stash.setdefault(LINES, []).extend(workeroutput.get("summary_lines", []))


def kept_lines(config: pytest.Config) -> list[str]:
    """Every line kept so far, this process's and the finished workers'."""
    return config.stash.get(LINES, [])
