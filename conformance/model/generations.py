"""What a client meets per REST API generation, where no spec or run can say it.

The upgrade report derives its headline facts from data (the two reference specs,
the recorded runs, the deviation data, the client table). Two facts are not in any
of them: how a person would name the way a generation authenticates, and the terms a
generation renamed across the whole API. Both are keyed by API generation
("v1": Airflow 2.x, Connexion; "v2": Airflow 3.x, FastAPI) and live only here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Generation:
    """One API generation as a client sees it."""

    name: str
    auth: str  # how a client authenticates, in one phrase
    # terms this generation renamed, everywhere they occur in paths, operationIds and fields: (old, new)
    renamed_terms: tuple[tuple[str, str], ...] = ()


GENERATIONS: dict[str, Generation] = {
    "v1": Generation("v1", auth="HTTP Basic credentials on every request (FAB auth manager)"),
    "v2": Generation(
        "v2",
        auth="POST /auth/token for a JWT, then Authorization: Bearer on every request",
        renamed_terms=(("dataset", "asset"), ("execution_date", "logical_date")),
    ),
}


def generation(name: str) -> Generation:
    """The facts of `name` ("v1", "v2"); an unknown generation has no facts beyond its name."""
    return GENERATIONS.get(name, Generation(name, auth=""))


def renamed_terms(api_from: str, api_to: str) -> tuple[tuple[str, str], ...]:
    """The terms renamed on the way from one generation to another (none within a generation)."""
    if api_from == api_to:
        return ()
    return generation(api_to).renamed_terms
