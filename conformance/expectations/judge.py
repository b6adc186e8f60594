"""Does a replayed answer break the contract? The named checks, judged against the reference spec.

A deviation is a claim that a release breaks its own spec. Matching the recorded
signature only shows the answer looks the same; the claim holds only when the
answer also *fails the checks the entry names*, judged the way the run judges them.
An answer that matches its signature but passes its checks is behaviour the spec
permits: the entry must go, and the check that once failed on it must be fixed.

Checks a single answer decides (status, content type, schema, server error, the
data checks) are judged here; the others (a scenario's step, a chain's lifecycle,
an official client's reading) are judged by what produced them and count as failed
when the signature matches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from conformance.checks.documented import is_documented, media_types
from conformance.checks.permitted import acceptance_permitted, refusal_permitted

# the invalid-input kind each replay mutation produces, where the spec says a server may ignore it
MUTATION_KINDS = {"unknown_query": "query:additionalProperties"}
CREDENTIAL_OR_STATE = frozenset({401, 403, 404, 409, 429})  # statuses the data checks leave to other checks
SPEC_DECIDED = frozenset(
    {
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_schema",
        "positive_data_acceptance",
        "negative_data_rejection",
    }
)


def violates(
    check: str,
    spec: Mapping,
    op: Mapping,
    status: int,
    content_type: str,
    body: bytes | str,
    schema_errors: Iterable[str] = (),
    mutations: Iterable[str] = (),
) -> bool | None:
    """Whether the answer fails `check` (None: a check this module does not decide from one answer)."""
    if check not in SPEC_DECIDED:
        return None
    if check == "not_a_server_error":
        return status >= 500
    if check == "status_code_conformance":
        return not is_documented(op, status)
    if check == "content_type_conformance":
        documented = media_types(spec, op, status)
        if not documented:  # undocumented status, or a documented body-less answer: nothing to compare
            return False
        return bool(body) and content_type.lower() not in documented
    if check in ("response_schema_conformance", "response_schema"):
        return any(schema_errors)
    if check == "positive_data_acceptance":
        return 400 <= status < 500 and status not in CREDENTIAL_OR_STATE and not refusal_permitted(op, status)
    kinds = [MUTATION_KINDS.get(m, f"mutation:{m}") for m in mutations if m != "none"]
    return status < 400 and not acceptance_permitted(op, kinds)


def verdicts(
    checks: Iterable[str],
    spec: Mapping,
    op: Mapping,
    status: int,
    content_type: str,
    body: bytes | str,
    schema_errors: Iterable[str] = (),
    mutations: Iterable[str] = (),
) -> dict[str, bool | None]:
    """Each named check: True (the answer fails it), False (it passes), None (not decided from one answer)."""
    errors = list(schema_errors)
    return {c: violates(c, spec, op, status, content_type, body, errors, mutations) for c in checks}
