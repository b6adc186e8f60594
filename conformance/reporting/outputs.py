"""Where a run's files go, checked before the run and rescued after it.

A run can take an hour and change a staging server on the way; finding out at
the end that `--report-dir` cannot be written would lose all of it. So the
folders are created and test-written before the first request (a usage error,
exit 2, when that fails), and if writing still fails at the end (a disk that
filled, a folder removed meanwhile), the reports go to a private folder in the
system's temp directory instead, which the run names.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from conformance.errors import ConfigError


def reason(exc: OSError) -> str:
    """What the system said (`Permission denied`, `Not a directory`), without the path it repeats."""
    return exc.strerror or type(exc).__name__


def ensure_writable(folder: Path, what: str) -> Path:
    """Create `folder` if needed and prove a file can be written in it; ConfigError (one line, exit 2) if not.

    Existence and permission bits are not enough (a read-only mount, an ACL, a full disk answer
    only to a write), so a real file is written and removed.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".airflow-conformance-write-check-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(
            f"{what} {folder}: cannot create it or write in it ({reason(exc)}); give a folder this user can write"
        ) from None
    return folder


def fallback_folder(run_id: str) -> Path:
    """A new folder only this user can read, in the system's temp directory, for the reports of a run."""
    return Path(tempfile.mkdtemp(prefix=f"airflow-conformance-{run_id}-"))
