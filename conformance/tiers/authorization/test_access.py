"""Who may do what: one check per operation of the reference spec (`authorization.<operationId>`).

Each sends the operation's one request as every role identity and without credentials, and
judges each answer against the release's role model (conformance/expectations/access.yaml).
"""

from __future__ import annotations

import pytest

from conformance.context import CheckContext
from conformance.model.reasons import ReasonCode
from conformance.tiers.authorization.tier import DELETES_DISPOSABLE
from conformance.tiers.context import context_of
from conformance.tiers.shared.operations import spec_operations
from conformance.verdict import settle, skip


def operation_params(ctx: CheckContext) -> list:
    """One pytest param per operationId, marked for the plugin as an authorization check."""
    params = []
    # spec order, the DELETE of the disposable DAG last: it waits for that DAG's return, which goes on meanwhile
    ops = sorted(spec_operations(ctx.spec, ctx.router), key=lambda op: op[0] in DELETES_DISPOSABLE)
    for op_id, method, rel, _raw in ops:
        must = (
            f"{method} {rel} MUST let through exactly the built-in roles the release grants its permission, "
            "refuse the others with 403 and the release's error body without changing anything, and refuse "
            "a request without credentials with 401 unless the operation is public."
        )
        marker = pytest.mark.conformance_property(
            result_id=f"authorization.{op_id}",
            kind="authorization",
            title=f"Who may {method} {rel}",
            operations=[op_id],
            must=must,
        )
        params.append(pytest.param(op_id, id=op_id, marks=marker))
    return params


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "authz_op" in metafunc.fixturenames:
        metafunc.parametrize("authz_op", operation_params(context_of(metafunc.config)))


def test_authorization(authz_op, access_tier, request):
    reason = access_tier.skip_reason()
    if reason:
        skip(reason, ReasonCode.NO_ROLE_MODEL)
    settle(access_tier.decide(authz_op), request.node)
