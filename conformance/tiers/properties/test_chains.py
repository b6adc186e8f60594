"""Stateful chains over the objects a run may own: variables, pools, connections, DAG runs.

create -> read -> update -> list -> delete -> read-404, bodies generated from
the spec's request schemas; the DAG-run chain also reaches the run's task
instance, XCom and log. Sandbox (or disruptive) only: chains create objects.
"""

from __future__ import annotations

import pytest

from conformance.context import CheckContext
from conformance.model.reasons import ReasonCode
from conformance.tiers.context import context_of
from conformance.tiers.properties.chains import CHAIN_EXAMPLES, CHAINS, ChainRunner, chain_operations
from conformance.verdict import skip

MUST = {
    "variables": "A variable created from a generated body MUST read back as written, be updatable, be listed, "
    "answer DELETE with 204 and then 404; every response MUST match the reference spec.",
    "pools": "A pool created from a generated body MUST read back as written, be updatable, be listed, "
    "answer DELETE with 204 and then 404; every response MUST match the reference spec.",
    "connections": "A connection created from a generated body MUST read back, be updatable, be listed, answer "
    "DELETE with 204 and then 404, and MUST NOT return its password; every response MUST match the spec.",
    "dag_runs": "A run of the probe DAG triggered with a generated conf MUST keep that conf, reach its task instance, "
    "XCom and log, take a note, be listed, answer DELETE with 204 and then 404; every response MUST match the spec.",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "chain" not in metafunc.fixturenames:
        return
    ctx = context_of(metafunc.config)
    params = []
    for name in CHAINS:
        marker = pytest.mark.conformance_property(
            result_id=f"property.chain.{name}",
            kind="property",
            title=f"chain: {name.replace('_', ' ')} lifecycle",
            operations=chain_operations(ctx, name),
            must=MUST[name],
        )
        params.append(pytest.param(name, id=name, marks=marker))
    metafunc.parametrize("chain", params)


def test_chain(chain, ctx: CheckContext, tier, request):
    if ctx.options.profile == "readonly":
        skip("chains create objects: needs the sandbox profile; this run uses --profile readonly", ReasonCode.PROFILE)
    if chain == "dag_runs" and "conformance_probe" not in ctx.probe_dags:
        skip(
            "the probe DAG conformance_probe is not deployed on the target (airflow-conformance probe-dags install)",
            ReasonCode.PROBE_DAGS,
        )
    tier.engine.samples  # noqa: B018  (probe DAG unpaused, fixtures in place)
    runner = ChainRunner(tier)
    examples = max(1, min(CHAIN_EXAMPLES, ctx.options.max_examples))
    outcome = runner.dag_runs(1) if chain == "dag_runs" else runner.crud(chain, examples)
    tier.conclude(outcome, request.node, title=f"the {chain.replace('_', ' ')} chain")
