"""Where a run's time goes besides sending requests: the kinds of waiting it counts.

A slow run is slow for a reason a user can act on: the scheduler (probe runs), the DAG processor
(a deleted probe DAG's return), `--max-rps`, or a target that needed retries. Every layer that
waits tells the run's request counter which kind of wait it was (`Stats.wait`), and results.json
reports them per phase.
"""

from __future__ import annotations

from enum import Enum


class Wait(str, Enum):
    PROBE_RUN = "probe_runs"  # waiting for a probe DAG run (or its task) to reach a final state
    RATE_LIMIT = "rate_limit"  # held back by --max-rps
    RETRY = "retries"  # the pause before repeating a read that got no answer, a 429 or a 502/503/504
    REPARSE = "reparse"  # waiting for a deleted probe DAG to come back (its file parsed again)
