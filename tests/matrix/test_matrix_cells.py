"""Matrix cells, scores, the second passes' selection and merge, and the page-limit expectations (no Airflow needed).

The matrix must not over-state coverage: a check that applies and was not decided is
`undecided` with its reason, never the same mark as one that is not part of the release;
a merge of a second pass (deny_all, disruptive) never turns a failure into a pass, and takes only
the checks waiting for it; and the paging checks judge a target by the page limits it runs with.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from conformance.cli import main as cli_main
from conformance.expectations import load as load_expectations
from conformance.expectations.page_limits import PageLimits, from_record, page_size, parse
from conformance.matrix import cells, passes
from conformance.matrix.build import build, render_html, render_markdown
from conformance.matrix.collect import Column
from conformance.model.reasons import ReasonCode
from conformance.options import RunOptions
from conformance.run.context import page_limits_of
from conformance.run.selection import AUTH_DEFAULT_REASON, NOT_APPLICABLE_PREFIX
from conformance.safety.guard import FORBIDDEN_AREA_REASON, WHOLE_COLLECTION_REASON


def _r(cid: str, status: str, message: str = "", kind: str = "scenario", code: str = "") -> dict:
    return {
        "id": cid,
        "kind": kind,
        "title": cid,
        "status": status,
        "message": message,
        "operation_ids": [],
        **({"reason_code": code} if code else {}),
    }


def _col(version: str, results: list[dict], operations: dict | None = None, verdict: str = "conformant") -> Column:
    summary: dict[str, int] = {}
    for r in results:
        summary[r["status"]] = summary.get(r["status"], 0) + 1
    data = {
        "results": results,
        "operations": operations or {},
        "verdict": verdict,
        "summary": summary,
        "configuration": {"only": ["scenarios", "properties", "posture", "authorization"]},
        "target": {"airflow_version": version},
    }
    return Column(version, status="ran", exit_code=0 if verdict == "conformant" else 1, results=data)


def test_a_skip_outside_the_version_range_is_not_applicable_and_any_other_skip_is_undecided():
    assert cells.classify("skipped", ReasonCode.NOT_APPLICABLE) == cells.NOT_APPLICABLE
    for code in set(ReasonCode) - {ReasonCode.NOT_APPLICABLE}:  # profile, auth_default, client_no_model, ...
        assert cells.classify("skipped", code) == cells.UNDECIDED, code
    assert cells.classify("skipped", "") == cells.UNDECIDED  # no code is no licence to call it not applicable
    for status in ("passed", "failed", "known_deviation", "error"):
        assert cells.classify(status, ReasonCode.NOT_APPLICABLE) == status


def test_score_is_passed_over_decided_and_undecided_checks_never_count():
    tally = cells.counts(
        [
            _r("a", "passed"),
            _r("b", "failed"),
            _r("c", "known_deviation"),
            _r("d", "skipped", "x"),
            _r("e", "skipped", NOT_APPLICABLE_PREFIX + "2.0.2", code="not_applicable"),
            _r("f", "error"),
        ]
    )
    assert tally == {
        "passed": 1,
        "failed": 1,
        "known_deviation": 1,
        "error": 1,
        cells.NOT_APPLICABLE: 1,
        cells.UNDECIDED: 1,
    }
    assert cells.score(tally) == {"passed": 1, "decided": 3, "ratio": 0.3333}
    assert cells.score_text(cells.score(tally)) == "1/3 (33.3%)"
    assert cells.score_text(cells.score(cells.counts([_r("d", "skipped", "x")]))) == "–"


def test_every_cell_of_the_matrix_says_decided_not_applicable_or_undecided_with_a_label():
    old = _col(
        "2.0.2",
        [_r("scenario.only_old", "passed"), _r("scenario.both", "skipped", "probe DAGs missing")],
        {"get_dags": {"status": "passed", "requests": 3}},
    )
    new = _col(
        "3.3.2",
        [
            _r(
                "scenario.only_old",
                "skipped",
                NOT_APPLICABLE_PREFIX + "3.3.2 (applies to < 2.3)",
                code="not_applicable",
            ),
            _r("scenario.both", "failed", "wrong"),
            _r("scenario.only_new", "passed"),
        ],
        {
            "get_dags": {"status": "failed", "requests": 5, "reason": "500"},
            "get_assets": {"status": "skipped", "requests": 0, "reason": "needs the disruptive profile"},
        },
    )
    broken = Column("2.10.5", status="error", reason="could not provision: no python")
    doc = build([new, broken, old])
    checks = {cid: {v: c["status"] for v, c in row["cells"].items()} for cid, row in doc["checks"].items()}
    assert checks["scenario.only_old"] == {"2.0.2": "passed", "2.10.5": "undecided", "3.3.2": "not_applicable"}
    assert checks["scenario.both"] == {"2.0.2": "undecided", "2.10.5": "undecided", "3.3.2": "failed"}
    assert checks["scenario.only_new"]["2.0.2"] == "not_applicable"  # not among 2.0.2's checks
    assert "could not provision" in doc["checks"]["scenario.both"]["cells"]["2.10.5"]["message"]
    ops = {op: {v: c["status"] for v, c in row.items()} for op, row in doc["operations"].items()}
    assert ops["get_assets"] == {"2.0.2": "not_applicable", "2.10.5": "undecided", "3.3.2": "undecided"}
    assert ops["get_dags"]["3.3.2"] == "failed"
    rows = {v["version"]: v for v in doc["versions"]}
    assert rows["3.3.2"]["score"] == {"passed": 1, "decided": 2, "ratio": 0.5}
    md = render_markdown(doc)
    assert "| `scenario.only_old` | ✅ passed | ❔ undecided | n/a |" in md
    assert "| `get_assets` | n/a | ❔ undecided | ❔ undecided |" in md
    assert "| 3.3.2 | conformant | 1/2 (50.0%) |" in md
    grid = md.split("## Checks")[1].split("## Spec changes")[0]
    assert "| · " not in grid and "|  |" not in grid  # no cell is a bare dot or blank
    html = render_html(doc)
    assert "s-undecided" in html and "s-not_applicable" in html and "probe DAGs missing" in html


DENY_ALL, DISRUPTIVE = passes.PASSES


def test_the_default_auth_run_decides_its_checks_and_never_turns_a_failure_into_a_pass():
    main = _col(
        "2.0.2",
        [
            _r("scenario.auth.deny_all_default", "skipped", AUTH_DEFAULT_REASON, code="auth_default"),
            _r("scenario.x", "failed"),
        ],
        verdict="not conformant",
    )
    assert passes.waiting(main.results, DENY_ALL) == ["scenario.auth.deny_all_default"]
    assert passes.waiting(main.results, DISRUPTIVE) == []
    flags = passes.flags(
        main.results, DENY_ALL, ["--profile", "sandbox", "--only", "scenarios,posture", "--time-budget", "60"]
    )
    assert flags == ["--profile", "sandbox", "--only", "scenarios", "--client", "none"]  # the matrix's profile stays
    second = {
        "run_id": "acf_1",
        "results": [
            _r("scenario.auth.deny_all_default", "passed"),
            _r("scenario.x", "skipped", "refused by configuration"),
        ],
    }
    merged = passes.merge(main.results, second, DENY_ALL)
    statuses = {r["id"]: r["status"] for r in merged["results"]}
    assert statuses == {"scenario.auth.deny_all_default": "passed", "scenario.x": "failed"}  # only the waiting check
    assert merged["summary"] == {"skipped": 0, "failed": 1, "passed": 1}
    assert merged["verdict"] == "not conformant"
    assert merged["second_passes"]["deny_all"]["checks"] == ["scenario.auth.deny_all_default"]

    clean = _col("2.1.4", [_r("scenario.auth.deny_all_default", "skipped", AUTH_DEFAULT_REASON, code="auth_default")])
    failed = passes.merge(clean.results, {"results": [_r("scenario.auth.deny_all_default", "failed", "200")]}, DENY_ALL)
    assert failed["verdict"] == "not conformant" and failed["summary"]["failed"] == 1
    still = passes.merge(
        clean.results,
        {"results": [_r("scenario.auth.deny_all_default", "skipped", AUTH_DEFAULT_REASON, code="auth_default")]},
        DENY_ALL,
    )
    assert still["results"][0]["status"] == "skipped" and still["second_passes"]["deny_all"]["checks"] == []


def _guard_skip(op: str, reason: str, code: str = "disruptive_only") -> dict:
    return _r(
        f"authorization.{op}", "skipped", f"refused by the safety guard: {reason}", kind="authorization", code=code
    )


def _with_client(col: Column, ops: list[str]) -> Column:
    """A column whose official client read the run, and read an answer of `ops` (not of the other operations)."""
    col.results["clients"] = {"readings": [{"client": "2.10.0"}], "off": ""}
    col.results["results"] += [_r(f"client.{op}", "passed", kind="client") for op in ops]
    return col


def test_the_disruptive_pass_waits_for_guard_refusals_outside_disruptive_and_the_client_of_a_disabled_operation():
    main = _with_client(
        _col(
            "2.10.5",
            [
                _guard_skip("post_user", FORBIDDEN_AREA_REASON),
                _guard_skip("post_role", FORBIDDEN_AREA_REASON),
                _guard_skip(
                    "patch_dag", "DAG 'x' is not one of the suite's probe DAGs", "refused_by_guard"
                ),  # no restart lifts it
                _r("authorization.get_dags", "passed", kind="authorization"),
                _r("scenario.auth.deny_all_default", "skipped", AUTH_DEFAULT_REASON, code="auth_default"),
            ],
            {"test_connection": {}, "get_connection": {}, "post_user": {}},
        ),
        ["get_connection"],
    )
    assert passes.waiting(main.results, DISRUPTIVE) == [
        "authorization.post_user",
        "authorization.post_role",
        "client.test_connection",
    ]
    flags = passes.flags(main.results, DISRUPTIVE, ["--profile", "sandbox", "--only", "scenarios", "--seed", "1"])
    assert flags == [
        "--seed",
        "1",
        "--only",
        "authorization",
        "--client",
        "auto",
        "--profile",
        "disruptive",
        "-k",
        "test_authorization[post_role] or test_authorization[post_user] or test_authorization[test_connection]",
    ]
    assert (
        DISRUPTIVE.settings == {"AIRFLOW__CORE__TEST_CONNECTION": "Enabled"} and DISRUPTIVE.auth_config == "conformance"
    )
    v3 = _col(
        "3.3.2",
        [_guard_skip("create_default_connections", f"POST /connections/defaults {WHOLE_COLLECTION_REASON}")],
        {"test_connection": {}},
    )
    assert passes.waiting(v3.results, DISRUPTIVE) == [
        "authorization.create_default_connections"
    ]  # no client read the run
    assert "--client" in (f := passes.flags(v3.results, DISRUPTIVE, [])) and f[f.index("--client") + 1] == "none"
    enabled = _with_client(_col("2.5.3", [], {"test_connection": {}}), ["test_connection"])  # on by default before 2.7
    assert passes.waiting(enabled.results, DISRUPTIVE) == []
    posture = _with_client(_col("2.10.5", [], {"test_connection": {}}), [])
    posture.results["configuration"]["only"] = ["posture"]  # the tier that would send it was not asked for
    assert passes.waiting(posture.results, DISRUPTIVE) == []


def test_the_disruptive_pass_decides_the_property_tier_of_a_refused_operation_and_its_operations_row():
    refused = f"refused by the safety guard (20 generated cases): {FORBIDDEN_AREA_REASON}"
    main = _col(
        "2.10.5",
        [
            _r("property.post_user", "skipped", refused, kind="property", code="disruptive_only"),
            _r(
                "property.patch_dag",
                "skipped",
                "refused by the safety guard (3 generated cases): DAG 'x' is not one of the suite's probe DAGs",
                kind="property",
                code="refused_by_guard",
            ),  # no restart
            _guard_skip("post_user", FORBIDDEN_AREA_REASON),
        ],
        {"post_user": {"status": "skipped", "reason": refused}, "patch_dag": {"status": "skipped"}},
    )
    assert passes.waiting(main.results, DISRUPTIVE) == ["property.post_user", "authorization.post_user"]
    flags = passes.flags(main.results, DISRUPTIVE, [])
    assert flags[flags.index("--only") + 1] == "authorization,properties"
    assert flags[flags.index("-k") + 1] == "test_authorization[post_user] or test_operation[post_user]"
    second = {
        "run_id": "acf_3",
        "results": [
            _r("property.post_user", "failed", "HTTP 500", kind="property"),
            _r("authorization.post_user", "passed", kind="authorization"),
        ],
        "operations": {"post_user": {"status": "failed", "requests": 20, "reason": "HTTP 500"}},
    }
    merged = passes.merge(main.results, second, DISRUPTIVE)
    row = merged["operations"]["post_user"]
    assert row["status"] == "failed" and row["requests"] == 20 and row["second_pass"] == "disruptive"
    assert row["reason"].startswith("decided on the matrix's disruptive pass") and row["reason"].endswith("HTTP 500")
    assert merged["operations"]["patch_dag"] == {"status": "skipped"}  # not the pass's: left as it was
    assert merged["verdict"] == "not conformant"


def test_the_disruptive_merge_takes_only_the_waiting_cells_and_says_so():
    main = _with_client(
        _col(
            "2.10.5",
            [
                _guard_skip("post_user", FORBIDDEN_AREA_REASON),
                _guard_skip("post_role", FORBIDDEN_AREA_REASON),
                _r("authorization.test_connection", "passed", "403 from [core] test_connection", kind="authorization"),
            ],
            {op: {"status": "passed"} for op in ("test_connection", "post_user", "post_role")},
        ),
        [],
    )
    second = {
        "run_id": "acf_2",
        "results": [
            _r("authorization.post_user", "passed", "needs can_create on Users", kind="authorization"),
            _r("authorization.post_role", "failed", "Viewer: unexpected (200)", kind="authorization"),
            _r(
                "authorization.test_connection",
                "failed",
                "a different answer with the setting on",
                kind="authorization",
            ),
            _r("client.test_connection", "passed", "apache-airflow-client 2.10.0 read 2 answer(s)", kind="client"),
            _r("client.get_dags", "failed", "not waiting here", kind="client"),
        ],
    }
    merged = passes.merge(main.results, second, DISRUPTIVE)
    by_id = {r["id"]: r for r in merged["results"]}
    assert {k: r["status"] for k, r in by_id.items()} == {
        "authorization.post_user": "passed",
        "authorization.post_role": "failed",
        "authorization.test_connection": "passed",  # decided under the default config: not replaced
        "client.test_connection": "passed",
    }  # added: the main run had no client cell for it
    assert merged["verdict"] == "not conformant"  # the failure of the pass counts
    assert merged["summary"] == {"skipped": 0, "passed": 3, "failed": 1}
    assert merged["second_passes"]["disruptive"]["checks"] == [
        "authorization.post_user",
        "authorization.post_role",
        "client.test_connection",
    ]
    assert by_id["authorization.post_user"]["message"].startswith(
        "decided on the matrix's disruptive pass (a restart with --profile disruptive"
    )
    assert by_id["authorization.post_user"]["second_pass"] == "disruptive"
    doc = build([Column("2.10.5", status="ran", results=merged)])
    cell = doc["checks"]["authorization.post_user"]["cells"]["2.10.5"]
    assert cell["second_pass"] == "disruptive" and "disruptive pass" in cell["message"]
    assert doc["versions"][0]["second_passes"]["disruptive"]["run_id"] == "acf_2"
    md = render_markdown(doc)
    assert "| `authorization.post_user` | ✅ passed † |" in md and "† decided on a restart" in md
    html = render_html(doc)
    assert "decided on the matrix&#39;s disruptive pass" in html or "decided on the matrix's disruptive pass" in html


def test_a_rebuild_merges_every_stored_pass(tmp_path):
    import json  # noqa: PLC0415

    from conformance.matrix.collect import load_runs  # noqa: PLC0415

    main = _with_client(
        _col(
            "2.2.5",
            [
                _r("scenario.auth.deny_all_default", "skipped", AUTH_DEFAULT_REASON, code="auth_default"),
                _guard_skip("post_role", FORBIDDEN_AREA_REASON),
            ],
            {"post_role": {}},
        ),
        [],
    )
    run = tmp_path / "runs" / "2.2.5"
    for folder, results in (
        ("", main.results),
        ("auth-default", {"run_id": "a", "results": [_r("scenario.auth.deny_all_default", "passed")]}),
        ("disruptive", {"run_id": "b", "results": [_r("authorization.post_role", "passed", kind="authorization")]}),
    ):
        (run / folder).mkdir(parents=True, exist_ok=True)
        (run / folder / "results.json").write_text(json.dumps(results))
    (run / "clients.json").write_text("[]")
    [col] = load_runs(tmp_path)
    assert {r["id"]: r["status"] for r in col.results["results"]} == {
        "scenario.auth.deny_all_default": "passed",
        "authorization.post_role": "passed",
    }
    assert set(col.results["second_passes"]) == {"deny_all", "disruptive"}


def test_page_limits_are_parsed_strictly_and_page_sizes_are_resolved_from_data():
    assert parse("25,10") == PageLimits(25, 10, "--page-limits")
    for bad in ("25", "25,0", "a,b", "25,10,5", "-1,10", ""):
        with pytest.raises(ValueError, match="MAX,FALLBACK"):
            parse(bad)
    limits = PageLimits(20, 10)
    assert (
        page_size([100, "maximum"], limits) == 20
        and page_size(["fallback"], limits) == 10
        and page_size([0], limits) == 0
    )
    for bad in ([], ["minimum"], [True], "maximum"):
        with pytest.raises(ValueError):
            page_size(bad, limits)
    assert from_record({"maximum": 20, "fallback": 10}, "local") == PageLimits(20, 10, "local")
    assert from_record({}, "local") is None and from_record({"maximum": "20", "fallback": 10}, "local") is None


@pytest.mark.parametrize(
    "version, defaults, default_page, zero_page, clamped",
    [
        ("2.0.2", (100, 100), 100, 100, 100),
        ("2.10.5", (100, 100), 100, 100, 100),
        ("3.3.2", (100, 50), 50, 0, 100),
    ],
)
def test_documented_defaults_and_the_paging_expectations_per_release(
    version, defaults, default_page, zero_page, clamped
):
    exp = load_expectations(version)
    limits = exp.default_page_limits()
    assert (limits.maximum, limits.fallback) == defaults
    size = {
        sid: page_size(exp.for_scenario(f"paging.{sid}")["page_size"], limits)
        for sid in ("default_page_size", "limit_zero", "limit_above_maximum_clamped")
    }
    assert size == {"default_page_size": default_page, "limit_zero": zero_page, "limit_above_maximum_clamped": clamped}
    low = PageLimits(20, 10)  # what local targets run with: 2.x's default page is the spec's 100 clamped to 20
    assert page_size(exp.for_scenario("paging.default_page_size")["page_size"], low) == (20 if version < "3" else 10)


def test_the_run_judges_by_the_stated_limits_then_a_local_targets_then_the_documented_defaults():
    exp = load_expectations("2.10.5")
    local = SimpleNamespace(page_limits={"maximum": 20, "fallback": 10})
    assert page_limits_of(RunOptions(page_limits="50,40"), local, exp) == PageLimits(50, 40, "--page-limits")
    assert (page_limits_of(RunOptions(), local, exp).maximum, page_limits_of(RunOptions(), local, exp).fallback) == (
        20,
        10,
    )
    started_before = SimpleNamespace(page_limits={})  # a target started before limits were recorded: Airflow's defaults
    assert page_limits_of(RunOptions(), started_before, exp).maximum == 100
    assert page_limits_of(RunOptions(), None, exp).source == "Airflow 2.10.5's documented defaults"


def test_bad_page_limits_and_time_budget_are_one_line_and_exit_2():
    result = CliRunner().invoke(cli_main, ["run", "--target", "http://127.0.0.1:9", "--page-limits", "100"])
    assert result.exit_code == 2 and "MAX,FALLBACK" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(cli_main, ["matrix", "--airflow", "2.10.5", "--time-budget", "0"])
    assert result.exit_code == 2 and "--time-budget" in result.output


def test_a_per_operation_check_missing_from_a_release_is_na_only_where_its_spec_lacks_the_operation():
    col = _col("2.10.5", [_r("scenario.a", "passed")], {"get_dags": {"status": "passed", "requests": 1}})
    assert cells.missing_cell("client", col, "client.get_assets")["status"] == cells.NOT_APPLICABLE
    assert cells.missing_cell("authorization", col, "authorization.get_assets")["status"] == cells.NOT_APPLICABLE
    no_answer = cells.missing_cell("client", col, "client.get_dags")  # in the spec, but nothing for the client to read
    assert no_answer["status"] == cells.UNDECIDED and "no recorded answer" in no_answer["message"]
    col.results["configuration"]["only"] = ["scenarios"]
    assert (
        "authorization tier was not run"
        in cells.missing_cell("authorization", col, "authorization.get_dags")["message"]
    )
    assert cells.missing_cell("scenario", col, "scenario.b")["status"] == cells.NOT_APPLICABLE


def test_each_release_counts_its_failed_results_per_class_and_older_runs_are_unclassified():
    from tests.sample_run import sample_run  # noqa: PLC0415

    new = Column("3.3.2", status="ran", results=sample_run("3.3.2").as_dict())
    old_data = sample_run("3.2.2").as_dict()
    for r in old_data["results"]:
        r.pop("classes", None)  # a results.json written before 1.1
    doc = build([new, Column("3.2.2", status="ran", results=old_data)])
    rows = {v["version"]: v for v in doc["versions"]}
    assert rows["3.3.2"]["classes"] == {"contract_break": 2, "error_shape": 1}
    assert rows["3.2.2"]["classes"] == {"unclassified": 3}
    md = render_markdown(doc)
    assert "| failed by class |" in md and "contract_break 2 · error_shape 1" in md and "unclassified 3" in md
    assert "contract_break 2 · error_shape 1" in render_html(doc)
