"""Judging one answer: schemathesis' checks, then the Airflow checks of the registry, into failures.

Every check judges every answer it applies to, and the count of answers each
check judged is kept, so a result can say which checks passed, not only which
failed. A check that crashes is recorded (an `error`), never taken for a pass.
"""

from __future__ import annotations

import requests
from requests.structures import CaseInsensitiveDict
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from conformance.checks.permitted import JUDGED_HERE, REJECTION_CHECK, only_in_query, permitted
from conformance.checks.registry import content_type_of, registered_checks, run_all
from conformance.checks.wire import query_as_sent_is_valid
from conformance.context import CheckContext
from conformance.tiers.properties.messages import describe_exception, failure_text
from conformance.tiers.properties.outcome import (
    Failure,
    Outcome,
    SchemaFailure,
    invalid_facts,
    observe,
    schema_error_of,
)

SCHEMATHESIS_CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
)
# an answer to a request without credentials: the data checks say nothing about it
ANONYMOUS_CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance)
AUTH_CHECK = "auth_not_ignored"
SCHEMA_CHECK = "response_schema_conformance"


def as_requests_response(response) -> requests.Response:
    """schemathesis' answer (lower-case headers with list values) as the `requests` answer openapi-core reads."""
    if isinstance(response, requests.Response):
        return response
    converted = requests.Response()
    converted.status_code = int(response.status_code)
    converted._content = bytes(response.content or b"")
    converted.headers = CaseInsensitiveDict(
        {
            name: ", ".join(values) if isinstance(values, list) else str(values)
            for name, values in (response.headers or {}).items()
        }
    )
    converted.request = response.request
    converted.url = str(getattr(response.request, "url", "") or "")
    converted.encoding = getattr(response, "encoding", None)
    return converted


class Checker:
    """Judges answers for one run: its redactor for the words, its expectations' backend for the facts."""

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        # negative cases whose body the suite rewrote (see Shaper.body): negative_data_rejection cannot judge them
        self.reshaped: set[int] = set()

    def check(self, case, response, outcome: Outcome, *, schemathesis_checks=SCHEMATHESIS_CHECKS) -> None:
        """Every check judges the answer; a check that crashes is recorded (an `error`), never a pass."""
        op_id = case.operation.definition.raw.get("operationId", "")
        reshaped = id(case) in self.reshaped
        self.reshaped.discard(id(case))  # ids are reused once a case is gone: judge each case once
        for fn in schemathesis_checks:
            name = fn.__name__
            if reshaped and fn is negative_data_rejection:
                continue
            outcome.judged(name)
            try:
                case.validate_response(response, checks=[fn])
            except FailureGroup as group:
                if self._permitted(name, case, response):
                    continue
                for failure in self._schema_failures(name, group.exceptions, response):
                    message = failure.title + (": " + failure.message if failure.message else "")
                    outcome.add(
                        self.failure(name, response, message, op_id, case=case, schema_error=schema_error_of(failure))
                    )
            except AssertionError as exc:
                if self._permitted(name, case, response):
                    continue
                outcome.add(self.failure(name, response, str(exc), op_id, case=case))
            except Exception as exc:  # noqa: BLE001 - a check that cannot judge is reported, not passed
                outcome.check_errors.append((name, describe_exception(exc)))
        for name, message in run_all(response, case, errors=outcome.check_errors):
            outcome.add(self.failure(name, response, message, op_id, case=case))
        for name in registered_checks():
            outcome.judged(name)

    def _schema_failures(self, check: str, failures, response) -> list:
        """A schema failure as one failure per error the run's validator finds (else schemathesis' own).

        Each error is judged on its own, as the scenarios do it (verdict.schema), with the schemas of an
        anyOf/oneOf and their own errors beside it: a known defect in one field never hides an unknown
        one in another, and a deviation can name the branch error that is its defect.
        """
        if check != SCHEMA_CHECK:
            return list(failures)
        lines = self.ctx.validator.schema_errors(as_requests_response(response))
        if not lines:
            return list(failures)
        title = next((f.title for f in failures), "Response violates schema")
        return [SchemaFailure(title, line) for line in lines]

    @staticmethod
    def _permitted(check: str, case, response) -> bool:
        """A data check's failure on an answer the spec permits (conformance.checks.permitted) is no failure."""
        if check not in JUDGED_HERE:
            return False
        op = case.operation.definition.raw
        invalid = invalid_facts(case) if check == REJECTION_CHECK else ()
        as_sent = only_in_query(invalid) and query_as_sent_is_valid(
            case.operation.schema.raw_schema, op, str(getattr(response.request, "url", "") or "")
        )
        return permitted(
            check,
            op,
            int(response.status_code),
            invalid,
            content_type=content_type_of(response),
            body=response.content or b"",
            query_valid_as_sent=as_sent,
        )

    def failure(
        self, check: str, response, message: str, operation: str = "", *, case=None, schema_error: str = ""
    ) -> Failure:
        """A failure of `check` on `response`, with the server's words, the request and a redacted curl."""
        ctype = content_type_of(response)
        request = getattr(response, "request", None)
        curl = self.ctx.redactor.curl(request) if isinstance(request, requests.PreparedRequest) else ""
        text = failure_text(message, response)
        facts = observe(
            f"property.{operation}",
            check,
            response,
            operation,
            schema_error=schema_error,
            invalid=invalid_facts(case) if check == "negative_data_rejection" else frozenset(),
            backend=self.ctx.expectations.backend,
        )
        return Failure(
            check,
            int(response.status_code),
            ctype,
            self.ctx.redactor.redact(text),
            curl,
            request,
            operation=operation,
            facts=facts,
        )
