"""The class of a failure or a known deviation: what kind of promise the server broke.

A release gate rarely wants one word for everything: a team that only consumes
successful answers can live with an error body of the wrong shape, but not with a
5xx or a 2xx answer its client cannot read. Every failed check and every known
deviation therefore carries one class, derived from *which check failed on which
status*, never from message wording, so the same answer always gets the same class.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from conformance.model.kinds import Kind


class FailureClass(str, Enum):
    """What kind of contract a failure broke (stable names: `run --fail-on` and results.json use them)."""

    SERVER_ERROR = "server_error"  # the server answered 5xx
    CONTRACT_BREAK = "contract_break"  # a successful answer, or a status a client relies on, is not as documented
    ERROR_SHAPE = "error_shape"  # an error answer (4xx) has a body or content type the spec does not document
    UNDOCUMENTED_STATUS = "undocumented_status"  # a 4xx status the operation does not document
    SECURITY = "security"  # authentication, authorization or posture

    def __str__(self) -> str:
        return self.value


ALL_CLASSES: tuple[FailureClass, ...] = tuple(FailureClass)
SECURITY_KINDS: frozenset[str] = frozenset({Kind.POSTURE, Kind.AUTHORIZATION})
CLIENT_KIND = Kind.CLIENT  # an official client's reading of a recorded successful answer
# checks whose failure exposes something whatever the status: a protected operation answered without
# credentials, a refusal that carries the refused data, a connection password sent back
SECURITY_CHECKS = frozenset({"auth_not_ignored", "auth_error_carries_no_data", "connection_password_hidden"})
STATUS_CHECKS = frozenset({"status_code_conformance"})
SHAPE_CHECKS = frozenset(
    {"content_type_conformance", "response_schema_conformance", "response_schema", "json", "error_body_shape"}
)


def classify(check: str, status: int | None, kind: str = "") -> FailureClass:
    """The class of one failed check on an answer of `status` in a result of `kind`.

    Order matters: a 5xx is a server error whichever check noticed it; an undocumented
    4xx is an undocumented status; a wrong body on a 4xx is an error shape; anything on a
    2xx/3xx answer (or a refused valid request, a wrong scenario step) breaks the contract.
    A security check or kind is security on any status; an official client's refusal of a
    recorded (successful) answer breaks the contract.
    """
    if kind in SECURITY_KINDS or check in SECURITY_CHECKS:
        return FailureClass.SECURITY
    if kind == CLIENT_KIND:  # the client could not read a successful answer it relies on
        return FailureClass.CONTRACT_BREAK
    if status is not None and status >= 500:
        return FailureClass.SERVER_ERROR
    if check in STATUS_CHECKS and status is not None and status >= 400:
        return FailureClass.UNDOCUMENTED_STATUS
    if check in SHAPE_CHECKS and status is not None and status >= 400:
        return FailureClass.ERROR_SHAPE
    return FailureClass.CONTRACT_BREAK


def parse_classes(text: str) -> frozenset[FailureClass]:
    """`server_error,contract_break` (or `all`) as classes; ValueError names an unknown one."""
    words = [w.strip() for w in (text or "").split(",") if w.strip()]
    if not words or words == ["all"]:
        return frozenset(ALL_CLASSES)
    known = {c.value: c for c in ALL_CLASSES}
    unknown = [w for w in words if w not in known]
    if unknown:
        raise ValueError(f"unknown failure class(es) {', '.join(unknown)}; choose from {', '.join(known)} or all")
    return frozenset(known[w] for w in words)


def ordered(classes: Iterable[FailureClass | str]) -> list[str]:
    """Class names without repeats, in the enum's order (so results.json and reports list them the same way)."""
    seen = {FailureClass(c) for c in classes}
    return [c.value for c in ALL_CLASSES if c in seen]


def describe_gate(gated: Iterable[FailureClass | str]) -> str:
    """`all classes`, or the gated class names in the enum's order (the verdict line and the reports say it)."""
    names = ordered(gated)
    return "all classes" if len(names) == len(ALL_CLASSES) else ", ".join(names) or "no class"


def gate_text(gated: Iterable[FailureClass | str], outside: int, label: str = "gated: ") -> str:
    """`gated: all classes`, or `gated: server_error, contract_break; 3 failed results outside the gate`."""
    return f"{label}{describe_gate(gated)}" + (
        f"; {outside} failed result{'s' if outside != 1 else ''} outside the gate" if outside else ""
    )
