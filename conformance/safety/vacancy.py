"""Ids that provably name nothing, so a write aimed at them can only be refused by the server.

Assets and backfills get server-assigned ids; the sandbox never writes to ones it did not
create, but a write to an id that a read just found absent cannot change anything and shows
how the server refuses it (a negative probe). The guard allows exactly the ids registered here.
"""

from __future__ import annotations

import requests

from conformance.safety.guard import RequestRefused

# Server-assigned ids that writes may aim at only when a read finds them absent (negative probes).
# Database sequences start at 1 and grow by one; this is far beyond what any deployment reaches.
VACANT_ID_BASE = 2_147_480_000
VACANT_PARAMS = {"asset_id": "/assets/{}", "backfill_id": "/backfills/{}"}


def vacant_id(session, guard, param: str, rel: str) -> int | None:
    """An id no object has (a read answers 404), registered with the guard for negative probes.

    Writes to assets and backfills the run does not own are refused; writes naming an id
    that does not exist can only be refused by the server, so they test its 404 path.
    """
    for candidate in range(VACANT_ID_BASE, VACANT_ID_BASE + 3):
        try:
            resp = session.call("GET", rel.format(candidate))
        except (RequestRefused, requests.RequestException):
            return None
        if resp.status_code == 404:
            guard.learn_vacant(param, candidate)
            return candidate
    return None
