"""The suite's probe DAG files and how to put them into a DAGs folder.

DAGs cannot be created over the REST API, so scenarios that trigger runs, read
XComs or look for import errors need files deployed next to a target's DAGs.
One set per Airflow major ships inside the package (conformance/probe_dags/);
`up` installs them into local targets, `probe-dags install DIR` into any folder.
"""

from __future__ import annotations

import secrets
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

from packaging.version import InvalidVersion, Version

from conformance import paths
from conformance.errors import ConfigError

PROBE_DAG_ID = "conformance_probe"
DISPOSABLE_DAG_ID = "conformance_probe_disposable"
PROBE_TASK_ID = "echo"
XCOM_KEY = "probe"
BROKEN_FILENAME = "conformance_broken.py"
MARKER = "AIRFLOW-CONFORMANCE-PROBE-MARKER"

SOURCE_DIR = paths.PACKAGE_DIR / "probe_dags"
TERMINAL = ("success", "failed")  # run and task states after which a probe run is done


def unique_logical_date() -> str:
    """A logical date after the probe DAG's start date that no other run is likely to use.

    Random to the microsecond over half a year (about 1.6e13 values), so the dates of one run,
    of runs in parallel and of earlier runs whose objects remain do not meet by chance.
    """
    base = datetime(2023, 1, 1, tzinfo=timezone.utc)
    offset = timedelta(seconds=secrets.randbelow(1 << 24), microseconds=secrets.randbelow(1_000_000))
    return (base + offset).isoformat()


def probe_dag_dir(version: str) -> Path:
    """The folder holding the probe DAG files for `version`'s major (v2 or v3)."""
    return SOURCE_DIR / f"v{major_of(version)}"


def install(dest_dir: str | Path, version: str) -> list[Path]:
    """Copy the probe DAG files for `version` into an existing folder.

    Files whose content is already there are left untouched so the DAG processor
    does not re-parse them for nothing.
    """
    dest = Path(dest_dir)
    if not dest.is_dir():
        raise ConfigError(f"DAGs folder {dest} does not exist; create it or pass the deployment's DAGs folder")
    written: list[Path] = []
    for src in sorted(probe_dag_dir(version).glob("*.py")):
        target = dest / src.name
        if not (target.is_file() and target.read_bytes() == src.read_bytes()):
            shutil.copyfile(src, target)
        written.append(target)
    if not written:
        raise ConfigError(f"no probe DAG files found in {probe_dag_dir(version)}; the package is incomplete")
    return written


def major_of(version: str) -> int:
    """Major of a version string (2 or 3), or ConfigError: used by probe-DAG installs."""
    try:
        major = Version(version).major
    except InvalidVersion:
        raise ConfigError(f"'{version}' is not an Airflow version (expected e.g. 3.3.2)") from None
    if major not in (2, 3):
        raise ConfigError(f"Airflow {version}: only Airflow 2.x and 3.x are supported")
    return major
