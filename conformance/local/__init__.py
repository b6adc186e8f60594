"""Real local Airflow targets: install, start, stop and find them.

The suite's embedded default is the newest supported release started here
(`NEWEST`). The probe DAGs these targets carry live in `conformance.probes`.
"""

from __future__ import annotations

from conformance.local.instance import find_by_url, running, start, stop
from conformance.local.target import LocalTarget
from conformance.local.versions import NEWEST, resolve, supported

__all__ = ["NEWEST", "LocalTarget", "find_by_url", "resolve", "running", "start", "stop", "supported"]
