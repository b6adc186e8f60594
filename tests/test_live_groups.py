"""The live layer's worker groups (tests/live_groups.py): a test that names a shared target runs in its worker."""

from __future__ import annotations

import pytest

from tests.live_groups import WorkerLoad, group_of, target_of


@pytest.mark.parametrize(
    ("nodeid", "target"),
    [
        ("tests/system/test_faults.py::test_a_post_is_never_retried[2.10.5-connection-reset]", "2.10.5"),
        ("tests/system/test_detection.py::test_check_catches_mutation[3.3.2-auth_bypassed]", "3.3.2"),
        ("tests/cli/test_cli.py::test_interrupt[2.10.5-installing apache-airflow]", "2.10.5"),
        ("tests/target/test_token_expiry.py::test_jwt_run_logs_in_again[3.3.2]", "3.3.2"),
        # a version that is not a shared target's, or a version inside another parameter, names none
        ("tests/expectations/test_access_extract.py::test_recorded_role_model[2.9.3]", None),
        ("tests/probes/test_probe_dags.py::test_parses[2.10.50-False]", None),
        ("tests/local/test_postgres.py::test_up_names_the_database", None),
    ],
)
def test_a_version_parameter_names_the_target(nodeid: str, target: str | None) -> None:
    assert target_of(nodeid) == target


def test_a_test_without_a_target_runs_with_its_module() -> None:
    assert group_of("tests/local/test_postgres.py::test_up_names_the_database") == "tests/local/test_postgres.py"
    assert group_of("tests/local/test_postgres.py::test_down[x]") == "tests/local/test_postgres.py"
    assert group_of("tests/x.py::test_y[3.3.2]") == "3.3.2"


def test_a_worker_reports_its_time_per_group_largest_first() -> None:
    load = WorkerLoad()
    load.add("tests/system/test_safety.py::test_default_run[2.10.5]", 187.4)
    load.add("tests/matrix/test_matrix.py::test_the_disruptive_pass", 286.6)
    load.add("tests/system/test_detection.py::test_check[2.10.5-auth_bypassed]", 329.0)
    assert load.describe("gw0") == (
        "live worker gw0: 803 s, 3 tests (2.10.5 516 s/2, tests/matrix/test_matrix.py 287 s/1)"
    )
