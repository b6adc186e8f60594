"""What a create without a name of the run's made: the objects to record in the ledger.

`POST /connections/defaults` (3.x) creates Airflow's default connections; nothing in the request
names them, so the tracker cannot learn them from the answer, and they carry no run prefix. The
guard sends it only in the disruptive profile. There the tier lists the collection's ids before the
operation's requests and after them, and records exactly the ids that appeared in the ledger: the
end of the run deletes those and leaves the connections that existed before the request alone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from conformance.http.paging import list_all
from conformance.model.resources import CONNECTION
from conformance.safety.guard import Guard
from conformance.safety.ledger import Entry, Ledger
from conformance.safety.session import GuardedSession

log = logging.getLogger(__name__)


class _Run(Protocol):
    """What of the run this module uses (the checks' `CheckContext` has it, from a layer above safety)."""

    guard: Guard
    session: GuardedSession
    ledger: Ledger


# operationId -> (collection path, list field, identifying field, ledger kind)
UNNAMED_CREATES = {
    "create_default_connections": (CONNECTION.collection, CONNECTION.list_field, CONNECTION.field, CONNECTION.kind)
}
PAGE = 100


def _ids(session, path: str, field: str, ident: str) -> set[str] | None:
    """Every id of the collection, or None when it could not be read whole (then nothing is attributed)."""
    listing = list_all(session, path, field, ident=ident, page_size=PAGE)
    if listing.problem:
        log.info("listing %s around an unnamed create: %s", path, listing.problem)
        return None
    return {str(item[ident]) for item in listing.items if isinstance(item, dict) and ident in item}


@contextmanager
def recorded(ctx: _Run, op_id: str) -> Iterator[None]:
    """Around the requests of `op_id`: record in the ledger the objects they created (disruptive profile only).

    Outside the disruptive profile the guard refuses these requests, so nothing is listed.
    """
    spec = UNNAMED_CREATES.get(op_id)
    if spec is None or ctx.guard.profile != "disruptive":
        yield
        return
    path, field, ident, kind = spec
    before = _ids(ctx.session, path, field, ident)
    try:
        yield
    finally:
        after = _ids(ctx.session, path, field, ident) if before is not None else None
        for name in sorted((after or set()) - (before or set())):
            ctx.ledger.created(Entry(kind, name))
