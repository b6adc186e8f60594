"""Real local Airflow targets: install, start, stop and find them.

The suite's embedded default is the newest supported release started here
(`NEWEST`). Scenario code imports the probe-DAG names from here too.
"""

from __future__ import annotations

from conformance.local.instance import find_by_url, running, start, stop
from conformance.local.probe_dags import (
    BROKEN_FILENAME,
    DISPOSABLE_DAG_ID,
    MARKER,
    PROBE_DAG_ID,
    PROBE_TASK_ID,
    XCOM_KEY,
    install as install_probe_dags,
    probe_dag_dir,
)
from conformance.local.target import LocalTarget
from conformance.local.versions import NEWEST, resolve, supported

__all__ = [
    "BROKEN_FILENAME",
    "DISPOSABLE_DAG_ID",
    "MARKER",
    "NEWEST",
    "PROBE_DAG_ID",
    "PROBE_TASK_ID",
    "XCOM_KEY",
    "LocalTarget",
    "find_by_url",
    "install_probe_dags",
    "probe_dag_dir",
    "resolve",
    "running",
    "start",
    "stop",
    "supported",
]
