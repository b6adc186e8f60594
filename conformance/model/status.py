"""What a result says: its status, the one vocabulary results.json, the reports, the matrix and the gate read."""

from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    """A result's status (results.json `status`; stable names)."""

    PASSED = "passed"
    FAILED = "failed"  # the target broke the contract
    KNOWN_DEVIATION = "known_deviation"  # an upstream defect recorded for this release, with its reference
    SKIPPED = "skipped"  # not applicable, or not decidable by this run; always with a reason_code
    ERROR = "error"  # the suite could not decide; with a reason_code

    def __str__(self) -> str:
        return self.value


STATUSES: tuple[Status, ...] = tuple(Status)  # the order results.json's summary and the reports list them in
DECIDED = (Status.PASSED, Status.FAILED, Status.KNOWN_DEVIATION)  # a verdict on the target
