"""Answers the reference spec permits, although a generic check would call them failures.

schemathesis' data checks state robustness wishes; a conformance verdict may only
fail what the contract forbids. Each rule here names the wording it rests on, and
both the property tier and the deviation judge read it, so a permitted answer is
neither failed nor recorded as an upstream defect.

- A documented 4xx refusing schema-valid input is conformant, whatever the reason
  (a semantic rule, a configuration switch, an opaque cursor the server never
  issued): OpenAPI 3 "Responses Object": the responses document "the expected
  responses of an operation"; a documented status is one a client must handle.
- An undeclared query parameter may be ignored: OpenAPI defines the parameters an
  operation reads and nowhere requires a server to refuse others.
- An Accept header the server cannot match may be disregarded: RFC 9110 §12.5.1,
  "the origin server can either honor the header field by sending a 406 (Not
  Acceptable) response or disregard the header field".
- A request whose query breaks the schema only as generated, not as sent, is valid
  input: a query value is text, and text the declared schema accepts is what the
  server received (conformance.checks.wire reads it).
- An answer without content needs no Content-Type: RFC 9110 §8.3, "A sender that
  generates a message containing content SHOULD generate a Content-Type header
  field" (a bare redirect has none to describe; its missing *body* is judged by the
  schema check, not here).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from conformance.checks.documented import is_documented

# invalid-input kinds (`location:keyword`) a server may accept without breaking the contract
IGNORABLE_QUERY = "query:additionalProperties"
IGNORABLE_ACCEPT = "header:enum"
REFUSAL_CHECK = "positive_data_acceptance"
REJECTION_CHECK = "negative_data_rejection"
CONTENT_TYPE_CHECK = "content_type_conformance"
JUDGED_HERE = frozenset({REFUSAL_CHECK, REJECTION_CHECK, CONTENT_TYPE_CHECK})


def refusal_permitted(op: Mapping, status: int) -> bool:
    """A schema-valid request refused with a 4xx the operation documents (a 401/403/404/409 never counts here)."""
    return 400 <= status < 500 and is_documented(op, status)


def acceptance_permitted(op: Mapping, invalid: Iterable[str]) -> bool:
    """A request accepted although invalid only in ways the server may ignore (undeclared query, Accept)."""
    kinds = set(invalid)
    if not kinds:
        return False
    allowed = {IGNORABLE_QUERY}
    if _only_accept_has_enum(op):
        allowed.add(IGNORABLE_ACCEPT)
    return kinds <= allowed


def _only_accept_has_enum(op: Mapping) -> bool:
    """Whether the operation's only header parameter with an enum is Accept (so `header:enum` means Accept)."""
    headers = [
        p
        for p in op.get("parameters") or []
        if isinstance(p, dict) and p.get("in") == "header" and "enum" in (p.get("schema") or {})
    ]
    return bool(headers) and all(str(p.get("name", "")).lower() == "accept" for p in headers)


def only_in_query(invalid: Iterable[str]) -> bool:
    """Whether every kind of invalid input generated lies in the query string (so the text sent can settle it)."""
    kinds = set(invalid)
    return bool(kinds) and all(k.startswith("query:") for k in kinds)


def permitted(
    check: str,
    op: Mapping,
    status: int,
    invalid: Iterable[str] = (),
    *,
    content_type: str = "",
    body: bytes | str = b"x",
    query_valid_as_sent: bool = False,
) -> bool:
    """Whether a failure of `check` on an answer of `status` is behaviour the spec permits.

    `query_valid_as_sent`: the request's query string, as text, is valid for every declared parameter
    (conformance.checks.wire); it matters only when the generated invalidity lies in the query alone.
    """
    if check == REFUSAL_CHECK:
        return refusal_permitted(op, status)
    if check == REJECTION_CHECK:
        return status < 400 and (acceptance_permitted(op, invalid) or (only_in_query(invalid) and query_valid_as_sent))
    if check == CONTENT_TYPE_CHECK:
        return not body and not content_type
    return False
