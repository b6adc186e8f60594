"""How a check states its verdict.

A contract violation first asks the expectation data whether it is a known
upstream defect of the version under test; if so the check ends as a known
deviation (pytest's xfail) carrying the upstream reference, otherwise it
fails with a message a person can act on and a curl reproduction.
"""

from __future__ import annotations

import pytest
import requests


class ContractViolation(AssertionError):
    """The target broke the contract (result status `failed`)."""


def describe_response(resp: requests.Response) -> dict:
    """Facts about a response that deviations can be matched on."""
    ctype = (resp.headers.get("Content-Type") or "").split(";")[0].strip()
    return {"status": resp.status_code, "content_type": ctype, "body": resp.text[:300]}


class Verdict:
    """Bound to one check (its result id) and the run's expectations."""

    def __init__(self, result_id: str, expectations, validator, session) -> None:
        self.result_id = result_id
        self.expectations = expectations
        self.validator = validator
        self.session = session
        self.notes: list[str] = []
        # known deviations seen by checks that can go on afterwards (schema drift in one field);
        # the plugin turns a passing check with any of these into `known_deviation`
        self.deviations: list[str] = []
        self.upstreams: list[str] = []  # references of every known deviation this check ran into

    def violation(self, summary: str, /, **observed) -> None:
        """Report a contract violation (never returns). `observed` facts identify known deviations."""
        dev = self.expectations.known(self.result_id, observed)
        if dev is not None:
            self.upstreams.append(dev.upstream)
            pytest.xfail(f"{dev.describe()} | observed: {summary}")
        raise ContractViolation(summary)

    def that(self, condition: bool, summary: str, /, **observed) -> None:
        if not condition:
            self.violation(summary, **observed)

    def status(self, resp: requests.Response, expected, what: str) -> None:
        """The response status must be one of `expected`."""
        allowed = expected if isinstance(expected, (list, tuple, set)) else [expected]
        if resp.status_code not in allowed:
            facts = describe_response(resp)
            want = " or ".join(str(a) for a in allowed)
            self.violation(f"{what}: expected HTTP {want}, got {resp.status_code}: {facts['body'][:200]}", **facts)

    def schema(self, resp: requests.Response, what: str = "response") -> None:
        """The response must match the reference spec (status documented, content type, body schema).

        Each schema error is matched against the known deviations on its own, so
        a known defect in one field never hides an unknown one in another.
        """
        errors = self.validator.errors(resp)
        if not errors:
            return
        facts = describe_response(resp)
        unexplained, known = [], []
        for error in errors:
            dev = self.expectations.known(self.result_id, {"check": "response_schema", "message": error, **facts})
            (known if dev else unexplained).append((error, dev))
        if unexplained:
            shown = "; ".join(e for e, _ in unexplained[:3])
            raise ContractViolation(f"{what} does not match the reference spec: {shown}"
                                    + (f" (+{len(unexplained) - 3} more)" if len(unexplained) > 3 else ""))
        dev = known[0][1]
        entry = f"{dev.describe()} | observed: {what}: {known[0][0]}"
        if entry not in self.deviations:
            self.deviations.append(entry)
            self.upstreams.append(dev.upstream)

    def json(self, resp: requests.Response, what: str = "response"):
        """The body parsed as JSON, or a violation."""
        try:
            return resp.json()
        except ValueError:
            facts = describe_response(resp)
            self.violation(f"{what}: body is not JSON: {facts['body'][:200]}", check="json", **facts)
