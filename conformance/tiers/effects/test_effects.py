"""Every operation's documented effects, read back: one result per operation (`effect.<operationId>`)."""

from __future__ import annotations

import pytest

from conformance.tiers.context import context_of
from conformance.tiers.effects.plan import checked_operations


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "effect_op" in metafunc.fixturenames:
        ctx = context_of(metafunc.config)
        params = []
        for op_id, title, must in checked_operations(ctx):
            marker = pytest.mark.conformance_property(
                result_id=f"effect.{op_id}", kind="effect", title=title, operations=[op_id], must=must
            )
            params.append(pytest.param(op_id, id=op_id, marks=marker))
        metafunc.parametrize("effect_op", params)


def test_effects(effect_op, plan, verdict, request):
    plan.judge(effect_op, verdict, request.node)
