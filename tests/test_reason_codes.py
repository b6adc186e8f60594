"""Fast layer: skipped and undecided results carry a reason code, and the matrix reads the code, not the words.

Real selection (`skip_of`), the property tier's real verdict, the published schema and
the matrix's cell rule; no Airflow.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from packaging.version import Version

from conformance.checks.metadata import Meta
from conformance.matrix import cells
from conformance.model.reasons import ReasonCode
from conformance.reporting.results import schema
from conformance.run.selection import skip_of, skip_reason
from conformance.tiers.properties.outcome import Outcome
from conformance.tiers.properties.tier import Tier

pytestmark = pytest.mark.fast


def _ctx(version: str = "3.3.2", *, profile: str = "sandbox", auth_denied: bool = False, probe_dags=None, lacks=()):
    return SimpleNamespace(auth_denied=auth_denied, probe_dags=probe_dags if probe_dags is not None else {"p": 1},
                           target=SimpleNamespace(version=Version(version), airflow_version=version),
                           options=SimpleNamespace(profile=profile), primary_lacks=lambda op_id: tuple(lacks),
                           primary_role="Viewer")


@pytest.mark.parametrize(("ctx", "meta", "kind", "code"), [
    (_ctx("2.10.5"), Meta("x.v3", "t", "m", since="3.0"), "scenario", ReasonCode.NOT_APPLICABLE),
    (_ctx(profile="readonly"), Meta("x.w", "t", "m", tier="sandbox"), "scenario", ReasonCode.PROFILE),
    (_ctx(), Meta("x.a", "t", "m", needs=("auth_default",)), "scenario", ReasonCode.AUTH_DEFAULT),
    (_ctx(auth_denied=True), None, "property", ReasonCode.DENY_ALL),
    (_ctx(lacks=("can_read on Pools",)), None, "property", ReasonCode.PRIVILEGE),
    (_ctx(probe_dags={}), Meta("x.p", "t", "m", needs=("probe_dags",)), "scenario", ReasonCode.PROBE_DAGS),
])
def test_each_skip_of_the_selection_has_its_code_and_the_same_sentence(ctx, meta, kind, code):
    skip = skip_of(ctx, meta, kind, ("get_pools",))
    assert skip is not None and skip.code is code
    assert skip.text == skip_reason(ctx, meta, kind, ("get_pools",)) and skip.text


def test_a_check_that_can_be_decided_has_no_skip():
    assert skip_of(_ctx(), Meta("x.ok", "t", "m"), "scenario") is None


def _verdict(outcome: Outcome):
    tier = SimpleNamespace(ctx=SimpleNamespace(options=SimpleNamespace(seed=7)), engine=SimpleNamespace(ops={}))
    return Tier.verdict_of(tier, outcome, title="GET /pools")


def test_the_property_tier_says_why_it_skipped_or_could_not_decide():
    assert _verdict(Outcome(op_id="get_pools", seed=7)).reason_code == "nothing_generated"
    refused = Outcome(op_id="get_pools", seed=7, refused=["whole collection"])
    assert _verdict(refused).reason_code == "refused_by_guard"
    all_401 = Outcome(op_id="get_pools", seed=7, sent=4, statuses={401: 4})
    assert _verdict(all_401).status == "error" and _verdict(all_401).reason_code == "credentials_refused"
    timeout = Outcome(op_id="get_pools", seed=7, sent=4, statuses={200: 3}, transport_errors=[TimeoutError("slow")])
    assert _verdict(timeout).reason_code == "no_answer"


def test_the_schema_lists_exactly_the_reason_codes():
    assert schema()["$defs"]["result"]["properties"]["reason_code"]["enum"] == [c.value for c in ReasonCode]


def test_the_matrix_reads_the_code_before_the_words():
    assert cells.classify("skipped", "whatever the words", "not_applicable") == cells.NOT_APPLICABLE
    assert cells.classify("skipped", "not applicable to Airflow 2.0.2 (applies to >= 3.0)", "profile") == cells.UNDECIDED
    assert cells.classify("skipped", "not applicable to Airflow 2.0.2 (applies to >= 3.0)") == cells.NOT_APPLICABLE
