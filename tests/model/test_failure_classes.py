"""Fast layer: every failure and known deviation carries a class, and `run --fail-on` gates on them.

The classes come from the real code paths (a scenario's Verdict, the property tier's
verdict, the client check, the plugin's `from_conclusion`) fed with real check names
and the recorded deviations of the data file; the gate is RunResults' one decision.
No Airflow, no network.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pytest

from conformance.checks.registry import check_names
from conformance.clients.reading import Reading, Refusal, Tally
from conformance.expectations import all_deviations
from conformance.expectations.deviations import CLIENT_CHECK, Deviation
from conformance.http.redact import Redactor
from conformance.model.classes import ALL_CLASSES, FailureClass, classify, describe_gate, ordered, parse_classes
from conformance.reporting.results import SCHEMA_VERSION, Result, RunResults, schema
from conformance.reporting.writer import write_all
from conformance.run.clients import results_of
from conformance.run.outcomes import from_conclusion
from conformance.run.plugin import _summarize
from conformance.tiers.properties.outcome import Failure, Outcome
from conformance.tiers.properties.tier import Tier
from conformance.verdict import Conclusion, Excuse, Verdict
from tests.harness import cli
from tests.test_verdict_soft import FakeExpectations, FakeSession, FakeValidator, response

pytestmark = pytest.mark.fast

REPO = Path(__file__).resolve().parents[2]
S, C, E, U, X = (
    FailureClass.SERVER_ERROR,
    FailureClass.CONTRACT_BREAK,
    FailureClass.ERROR_SHAPE,
    FailureClass.UNDOCUMENTED_STATUS,
    FailureClass.SECURITY,
)
CTX = SimpleNamespace(session=SimpleNamespace(last_curl=lambda: ""))  # what from_conclusion reads of a run


# -- classify: real check names, status and kind -------------------------------------------------
@pytest.mark.parametrize(
    ("check", "status", "kind", "expected"),
    [
        ("not_a_server_error", 500, "property", S),
        ("status_code_conformance", 503, "property", S),
        ("json", 502, "scenario", S),  # a 5xx page is a server error whichever check noticed it
        ("status_code_conformance", 422, "property", U),
        ("status_code_conformance", 200, "property", C),  # 200 where 201 is documented: clients rely on it
        ("response_schema_conformance", 200, "property", C),
        ("response_schema_conformance", 404, "property", E),
        ("content_type_conformance", 400, "property", E),
        ("error_body_shape", 404, "property", E),
        ("response_schema", 409, "scenario", E),
        ("positive_data_acceptance", 400, "property", C),  # a valid request refused
        ("negative_data_rejection", 200, "property", C),  # invalid input accepted
        ("chain_read_back", 200, "property", C),
        ("status", 404, "scenario", C),  # a scenario step answered the wrong (documented) status
        ("assertion", None, "scenario", C),
        ("auth_not_ignored", 200, "property", X),
        ("auth_error_carries_no_data", 403, "property", X),
        ("connection_password_hidden", 200, "property", X),
        ("assertion", None, "posture", X),
        ("status", 200, "authorization", X),
        (CLIENT_CHECK, 200, "client", C),
    ],
)
def test_classify_reads_check_status_and_kind(check, status, kind, expected):
    assert check in check_names()  # a real check: the table cannot drift from the registry unnoticed
    assert classify(check, status, kind) is expected


def test_every_recorded_deviation_has_a_class_and_a_5xx_one_is_a_server_error():
    devs = all_deviations()
    assert devs and all(isinstance(d.failure_class, FailureClass) for d in devs)
    fives = [d for d in devs if d.response.status and min(d.response.status) >= 500 and d.checks != (CLIENT_CHECK,)]
    assert fives and {d.failure_class for d in fives} == {S}
    assert {d.failure_class for d in devs if d.checks == (CLIENT_CHECK,)} <= {C}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("all", set(ALL_CLASSES)),
        ("", set(ALL_CLASSES)),
        ("server_error,contract_break", {S, C}),
        (" security , error_shape ", {X, E}),
    ],
)
def test_parse_classes(text, expected):
    assert parse_classes(text) == expected


@pytest.mark.parametrize("text", ["bogus", "server_error,5xx", "ALL", "server-error"])
def test_parse_classes_names_the_unknown_class(text):
    with pytest.raises(ValueError, match="unknown failure class"):
        parse_classes(text)


def test_gate_descriptions_follow_the_enum_order():
    assert describe_gate(ALL_CLASSES) == "all classes"
    assert describe_gate({C, S}) == "server_error, contract_break"
    assert ordered(["security", S, "server_error"]) == ["server_error", "security"]


# -- results carry classes, from the real code paths --------------------------------------------
def _scenario_verdict(*deviations: Deviation) -> Verdict:
    return Verdict(
        "scenario.pools.partial_patch", FakeExpectations(*deviations), FakeValidator([]), FakeSession(), ("patch_pool",)
    )


def test_a_scenario_failure_is_classed_by_its_check_and_the_answer():
    v = _scenario_verdict()
    v.status(response(500, text="boom", content_type="text/html"), 200, "PATCH")
    v.status(response(200, {"name": "p"}), 400, "PATCH read-only field")
    result = from_conclusion(v.conclusion(), dict(id="scenario.x", kind="scenario", title="t", operation_ids=[]), CTX)
    assert result.status == "failed" and result.classes == ["server_error", "contract_break"]
    posture = from_conclusion(v.conclusion(), dict(id="posture.x", kind="posture", title="t", operation_ids=[]), CTX)
    assert posture.classes == ["security"]


def test_a_scenario_known_deviation_carries_its_deviations_class():
    dev = Deviation.parse(
        {
            "id": "acf-pool-500",
            "versions": ">=3",
            "checks": ["status"],
            "response": {"status": 500},
            "scenarios": [{"id": "scenario.pools.partial_patch", "step": ""}],
            "reproduce": [{"operation": "patch_pool"}],
            "upstream": "unreported",
            "summary": "500",
        }
    )
    v = _scenario_verdict(dev)
    v.status(response(500, text="boom", content_type="text/html"), 200, "PATCH")
    result = from_conclusion(v.conclusion(), dict(id="scenario.x", kind="scenario", title="t", operation_ids=[]), CTX)
    assert result.status == "known_deviation" and result.classes == ["server_error"]
    assert result.deviations[0]["class"] == "server_error"


def _property_conclusion(*failures: Failure) -> Conclusion:
    out = Outcome(op_id="get_pools", seed=7, sent=10, statuses={200: 10})
    out.check_runs = {f.check: 10 for f in failures}
    for i, f in enumerate(failures):
        out.failures[(f.check, i)] = f
    tier = SimpleNamespace(ctx=SimpleNamespace(options=SimpleNamespace(seed=7)), engine=SimpleNamespace(ops={}))
    return Tier.verdict_of(tier, out, title="GET /pools")


def _failure(check: str, status: int, deviation: Deviation | None = None) -> Failure:
    return Failure(
        check=check,
        status=status,
        content_type="application/json",
        message=f"{check} broke",
        curl="curl 'http://x'",
        deviation=deviation,
        operation="get_pools",
    )


LIMIT_DEV = Deviation.parse(
    {
        "id": "acf-limit-400",
        "versions": "<3",
        "operations": ["get_pools"],
        "checks": ["status_code_conformance"],
        "response": {"status": 400},
        "reproduce": [{"operation": "get_pools"}],
        "upstream": "apache/airflow#1",
        "summary": "x",
    }
)


def test_a_property_result_has_the_classes_of_its_unexplained_failures_and_each_check_its_own():
    c = _property_conclusion(
        _failure("not_a_server_error", 500),
        _failure("response_schema_conformance", 404),
        _failure("status_code_conformance", 400, LIMIT_DEV),
    )
    result = from_conclusion(
        c, dict(id="property.get_pools", kind="property", title="t", operation_ids=["get_pools"]), CTX
    )
    assert result.status == "failed"
    assert result.classes == ["server_error", "error_shape"]  # the excused undocumented 400 fails no gate
    rows = {r["name"]: r for r in result.checks}
    assert rows["not_a_server_error"]["classes"] == ["server_error"]
    assert rows["response_schema_conformance"]["classes"] == ["error_shape"]
    assert rows["status_code_conformance"]["status"] == "known_deviation"
    assert rows["status_code_conformance"]["classes"] == ["undocumented_status"]


def test_a_property_known_deviation_carries_the_deviations_class():
    c = _property_conclusion(_failure("status_code_conformance", 400, LIMIT_DEV))
    result = from_conclusion(
        c, dict(id="property.get_pools", kind="property", title="t", operation_ids=["get_pools"]), CTX
    )
    assert result.status == "known_deviation" and result.classes == ["undocumented_status"]


def test_a_client_refusal_breaks_the_contract():
    refusal = Refusal(
        "get_dag", 200, "DAGResponse /dag_id", None, "Input should be a valid string", "DAGResponse", "curl"
    )
    [result] = results_of([Reading("3.0.0", 3, {"get_dag": Tally(parsed=1, failed=1, refusals=[refusal])})])
    assert result.status == "failed" and result.classes == ["contract_break"]
    assert result.checks[0]["classes"] == ["contract_break"]


def test_a_failed_result_nobody_classed_is_classed_by_its_kind():
    assert Result("authorization.viewer.get_pools", "authorization", "t", [], "failed").classes == ["security"]
    assert Result("scenario.x", "scenario", "t", [], "failed").classes == ["contract_break"]
    assert Result("scenario.x", "scenario", "t", [], "passed").classes == []


@pytest.mark.parametrize("release", ["3.3.2", "2.10.5"])
def test_a_real_recorded_run_written_again_carries_classes_and_follows_the_schema(tmp_path, release):
    """A run of the published matrix: each known deviation the data still records is re-excused through the run's code.

    (A deviation the data has since retired would no longer excuse anything: its result is left out here.)
    """
    data = json.loads((REPO / f"reports/runs/{release}/results.json").read_text())
    recorded = {d.id: d for d in all_deviations()}
    results = []
    for r in data["results"]:
        base = dict(id=r["id"], kind=r["kind"], title=r["title"], operation_ids=r["operation_ids"])
        if r["status"] != "known_deviation":
            results.append(Result(status=r["status"], message=r["message"], **base))
        elif all(d["id"] in recorded for d in r["deviations"]):
            excused = [
                Excuse(recorded[d["id"]], set(d["checks"]), set(d["operations"]), d["count"]) for d in r["deviations"]
            ]
            results.append(from_conclusion(Conclusion("known_deviation", r["message"], excused), base, CTX))
    run = RunResults(
        seed=data["seed"],
        run_id=data["run_id"],
        target=data["target"],
        spec_version=data["reference_spec"],
        results=results,
        operations=data["operations"],
        configuration=data["configuration"],
    )
    write_all(run, tmp_path, Redactor([]))
    written = json.loads((tmp_path / "results.json").read_text())
    jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker()).validate(written)
    assert written["schema_version"] == SCHEMA_VERSION == "1.3"
    known = [r for r in written["results"] if r["status"] == "known_deviation"]
    assert len(known) >= 10, "the published run no longer shares deviations with the data: pick another release"
    for r in known:
        assert r["classes"] == ordered(recorded[d["id"]].failure_class for d in r["deviations"]), r["id"]
        assert all(d["class"] == recorded[d["id"]].failure_class.value for d in r["deviations"])
    assert sum(written["classes"]["known_deviation"].values()) >= len(known)
    assert written["gate"] == {"fail_on": [c.value for c in ALL_CLASSES], "failed_outside": 0}


def test_the_schema_rejects_an_unknown_class(tmp_path):
    run = RunResults(
        results=[Result("scenario.x", "scenario", "t", [], "failed")],
        target={"url": "u", "airflow_version": "3.3.2", "api": "v2", "auth": "none"},
        seed=1,
    )
    data = run.as_dict()
    validator = jsonschema.Draft202012Validator(schema())
    assert not list(validator.iter_errors(data))
    data["results"][0]["classes"] = ["a_new_kind_of_bad"]
    assert list(validator.iter_errors(data))


# -- the gate: one decision, RunResults -------------------------------------------------------
EXERCISED = {"get_pools": {"requests": 3, "reached": 3, "exercised": True}}


def gated_run(*classes: list[str], fail_on: str = "all", **kw) -> RunResults:
    results = [Result("scenario.ok", "scenario", "t", [], "passed")]
    results += [
        Result(f"property.op{i}", "property", "t", ["get_pools"], "failed", classes=list(c))
        for i, c in enumerate(classes)
    ]
    return RunResults(results=results, operations=EXERCISED, fail_on=parse_classes(fail_on), **kw)


def test_a_run_whose_only_failures_are_error_shape_passes_a_gate_without_that_class():
    narrow = gated_run(["error_shape"], ["error_shape"], fail_on="server_error,contract_break")
    assert narrow.exit_code() == 0 and narrow.verdict == "conformant"
    assert narrow.gate_text() == "gated: server_error, contract_break; 2 failed results outside the gate"
    default = gated_run(["error_shape"], ["error_shape"])
    assert default.exit_code() == 1 and default.verdict == "not conformant"
    assert default.gate_text() == "gated: all classes"
    assert narrow.as_dict()["gate"] == {"fail_on": ["server_error", "contract_break"], "failed_outside": 2}
    assert narrow.as_dict()["classes"]["failed"] == {"error_shape": 2}


def test_a_result_of_several_classes_fails_the_gate_if_any_is_gated():
    run = gated_run(["server_error", "error_shape"], fail_on="server_error")
    assert run.exit_code() == 1 and run.gate_text() == "gated: server_error"
    assert gated_run(["server_error", "error_shape"], fail_on="security").exit_code() == 0


def test_undecided_results_fail_every_gate():
    """An error has no class: the suite could not decide, so no gate lets it through."""
    run = gated_run(["error_shape"], fail_on="server_error")
    run.results.append(Result("property.get_dag", "property", "t", ["get_pools"], "error"))
    assert run.exit_code() == 1 and run.verdict == "not conformant"


def test_cleanup_problems_with_only_ungated_failures_are_exit_3():
    run = gated_run(["error_shape"], fail_on="server_error", cleanup_problems=["pool acf_x left behind"])
    assert run.verdict == "cleanup incomplete" and run.exit_code() == 3


class _Terminal:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write_sep(self, sep: str, title: str) -> None:
        self.lines.append(title)

    def write_line(self, line: str) -> None:
        self.lines.append(line)


@pytest.mark.parametrize(
    ("fail_on", "expected"),
    [
        ("all", "verdict: not conformant (gated: all classes) - passed 1, failed 2,"),
        (
            "server_error,contract_break",
            "verdict: not conformant (gated: server_error, contract_break; "
            "1 failed result outside the gate) - passed 1, failed 2,",
        ),
    ],
)
def test_the_verdict_line_says_which_classes_were_gated(fail_on, expected):
    tr = _Terminal()
    _summarize(
        tr,
        gated_run(["server_error"], ["error_shape"], fail_on=fail_on, configuration={"report_dir": "reports/latest"}),
    )
    assert any(line.startswith(expected) for line in tr.lines), tr.lines


# -- the command line ---------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["flag", "env"])
def test_a_bad_fail_on_is_one_line_and_exit_2(how):
    args = ["run", "--target", "http://127.0.0.1:9", "--auth", "none"]
    env = None
    if how == "flag":
        args += ["--fail-on", "server_error,5xx"]
    else:
        from tests.harness import cli_env  # noqa: PLC0415

        env = {**cli_env(), "AIRFLOW_CONFORMANCE_FAIL_ON": "5xx"}
    proc = cli(*args, timeout=60, env=env)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "--fail-on" in lines[0] and "unknown failure class(es) 5xx" in lines[0] and "server_error" in lines[0]
