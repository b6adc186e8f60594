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
    return SimpleNamespace(
        auth_denied=auth_denied,
        probe_dags=probe_dags if probe_dags is not None else {"p": 1},
        target=SimpleNamespace(version=Version(version), airflow_version=version),
        options=SimpleNamespace(profile=profile),
        primary_lacks=lambda op_id: tuple(lacks),
        primary_role="Viewer",
    )


@pytest.mark.parametrize(
    ("ctx", "meta", "kind", "code"),
    [
        (_ctx("2.10.5"), Meta("x.v3", "t", "m", since="3.0"), "scenario", ReasonCode.NOT_APPLICABLE),
        (_ctx(profile="readonly"), Meta("x.w", "t", "m", tier="sandbox"), "scenario", ReasonCode.PROFILE),
        (_ctx(), Meta("x.a", "t", "m", needs=("auth_default",)), "scenario", ReasonCode.AUTH_DEFAULT),
        (_ctx(auth_denied=True), None, "property", ReasonCode.DENY_ALL),
        (_ctx(lacks=("can_read on Pools",)), None, "property", ReasonCode.PRIVILEGE),
        (_ctx(probe_dags={}), Meta("x.p", "t", "m", needs=("probe_dags",)), "scenario", ReasonCode.PROBE_DAGS),
    ],
)
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


def test_the_matrix_reads_the_code_never_the_words():
    words = {"status": "skipped", "message": "not applicable to Airflow 2.0.2 (applies to >= 3.0)"}
    assert cells.result_cell({**words, "reason_code": "profile"})["status"] == cells.UNDECIDED
    assert (
        cells.result_cell({**words, "message": "whatever", "reason_code": "not_applicable"})["status"]
        == cells.NOT_APPLICABLE
    )
    assert cells.result_cell({**words, "schema_version": "1.3"})["status"] == cells.UNDECIDED  # no code: not decided


def test_the_guard_codes_the_refusals_only_a_disruptive_run_lifts():
    from conformance.http.router import Router  # noqa: PLC0415
    from conformance.safety.guard import Guard  # noqa: PLC0415
    from conformance.safety.ledger import Ledger  # noqa: PLC0415
    from conformance.specs.catalog import load_spec  # noqa: PLC0415

    guard = Guard("sandbox", run_prefix="acf_t_", ledger=Ledger("t", path=None), router=Router(load_spec("2.10.5")))
    base = "http://x/api/v1"
    assert guard.decide("POST", base + "/users", '{"username": "acf_t_u"}').code == "disruptive_only"
    assert guard.decide("DELETE", base + "/variables/other").code == ""  # a sandbox rule: no restart lifts it
    guard3 = Guard("sandbox", run_prefix="acf_t_", ledger=guard.ledger, router=Router(load_spec("3.3.2")))
    assert guard3.decide("POST", "http://x/api/v2/connections/defaults").code == "disruptive_only"


def test_the_client_readers_codes_are_reason_codes():
    from conformance.clients import runner  # noqa: PLC0415 (a file that runs inside a client's venv)

    assert {runner.NOT_APPLICABLE, runner.CLIENT_NO_MODEL} <= {c.value for c in ReasonCode}


def test_published_runs_read_as_schema_1_3_give_the_published_matrix_cell_for_cell():
    """The runs under reports/runs/ (schema 1.1 and 1.2) read through `legacy` and classified by code alone
    give every cell and count of reports/compatibility.json, which the message-reading matrix published."""
    import json  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    from conformance.matrix import passes  # noqa: PLC0415
    from conformance.reporting import legacy  # noqa: PLC0415

    reports = Path(__file__).resolve().parents[2] / "reports"
    published = json.loads((reports / "compatibility.json").read_text(encoding="utf-8"))
    differ, compared = [], 0
    for column in published["versions"]:
        version = column["version"]
        folder = reports / "runs" / version.replace(" · PostgreSQL", "-postgres")
        data = passes.merge_stored(legacy.load(folder / "results.json"), folder)
        assert cells.counts(data["results"]) == column["counts"], version
        for r in data["results"]:
            cell = published["checks"].get(r["id"], {}).get("cells", {}).get(version)
            if cell is not None:
                compared += 1
                differ += [(version, r["id"])] if cells.result_cell(r)["status"] != cell["status"] else []
        for op, row in data["operations"].items():
            cell = published["operations"].get(op, {}).get(version)
            if cell is not None:
                compared += 1
                differ += [(version, op)] if cells.operation_cell(row, None)["status"] != cell["status"] else []
    assert compared > 4000 and differ == []
