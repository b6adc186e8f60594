"""Real local Airflow targets: install, start, stop and find them.

The suite's embedded default is the newest supported release started here
(`NEWEST`). The probe DAGs these targets carry live in `conformance.probes`.

The names below are imported on first use: `conformance.local.instance` brings
requests, jinja2 and the database servers' code, and a module that needs only
`conformance.local.versions` or `.target` (the CLI's flags, for one) should not
wait for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.local.instance import find_by_url, running, start, stop
    from conformance.local.target import LocalTarget
    from conformance.local.versions import NEWEST, resolve, supported

__all__ = ["NEWEST", "LocalTarget", "find_by_url", "resolve", "running", "start", "stop", "supported"]
_HOME = {
    "find_by_url": "instance",
    "running": "instance",
    "start": "instance",
    "stop": "instance",
    "LocalTarget": "target",
    "NEWEST": "versions",
    "resolve": "versions",
    "supported": "versions",
}


def __getattr__(name: str) -> Any:
    """A name of `__all__` from its module, imported now (PEP 562)."""
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
