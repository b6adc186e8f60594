"""The suite's probe DAG files and how to put them into a DAGs folder.

DAGs cannot be created over the REST API, so scenarios that trigger runs, read
XComs or look for import errors need files deployed next to a target's DAGs.
One set per Airflow major ships inside the package (conformance/probe_dags/);
`up` installs them into local targets, `probe-dags install DIR` into any folder.
"""

from __future__ import annotations

import itertools
import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

from conformance import paths
from conformance.errors import ConfigError
from conformance.local.versions import NEWEST, major_of

PROBE_DAG_ID = "conformance_probe"
DISPOSABLE_DAG_ID = "conformance_probe_disposable"
PROBE_TASK_ID = "echo"
XCOM_KEY = "probe"
BROKEN_FILENAME = "conformance_broken.py"
MARKER = "AIRFLOW-CONFORMANCE-PROBE-MARKER"

SOURCE_DIR = paths.PACKAGE_DIR / "probe_dags"
TERMINAL = ("success", "failed")  # run and task states after which a probe run is done
_counter = itertools.count(1)


def unique_logical_date() -> str:
    """A logical date after the probe DAG's start date that no other run of this process uses."""
    base = datetime(2023, 1, 1, tzinfo=timezone.utc)
    offset = timedelta(seconds=int.from_bytes(os.urandom(3), "big"), microseconds=next(_counter))
    return (base + offset).isoformat()


def probe_dag_dir(version: str) -> Path:
    """The folder holding the probe DAG files for `version`'s major (v2 or v3)."""
    return SOURCE_DIR / f"v{major_of(version)}"


def install(dest_dir: str | Path, version: str | None = None) -> list[Path]:
    """Copy the probe DAG files for `version` (default: newest) into an existing folder.

    Files whose content is already there are left untouched so the DAG processor
    does not re-parse them for nothing.
    """
    dest = Path(dest_dir)
    if not dest.is_dir():
        raise ConfigError(f"DAGs folder {dest} does not exist; create it or pass the deployment's DAGs folder")
    written: list[Path] = []
    for src in sorted(probe_dag_dir(version or NEWEST).glob("*.py")):
        target = dest / src.name
        if not (target.is_file() and target.read_bytes() == src.read_bytes()):
            shutil.copyfile(src, target)
        written.append(target)
    if not written:
        raise ConfigError(f"no probe DAG files found in {probe_dag_dir(version or NEWEST)}; the package is incomplete")
    return written
