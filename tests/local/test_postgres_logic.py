"""PostgreSQL targets without Airflow: names, ports, settings, matrix columns and bad input (the fast layer)."""

from __future__ import annotations

import json

import pytest

from conformance.cli import main
from conformance.errors import ConfigError
from conformance.local import home as home_mod
from conformance.local import instance, postgres
from conformance.local.target import LocalTarget, target_key
from conformance.local.venv import venv_dir
from conformance.local.versions import resolve
from conformance.matrix import build, collect, databases
from conformance.run.context import _backend
from tests.harness import caller_env, cli


def test_a_postgres_target_has_its_own_key_home_venv_and_port(monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW_CONFORMANCE_CACHE", str(tmp_path))
    assert target_key("2.10.5") == "2.10.5" and target_key("2.10.5", "postgres") == "2.10.5-postgres"
    assert home_mod.home_dir("2.10.5") != home_mod.home_dir("2.10.5", "postgres")
    assert home_mod.home_dir("2.10.5", "postgres").name == "airflow-2.10.5-postgres"
    assert venv_dir("2.10.5", ("postgres",)).name == "airflow-2.10.5-postgres" != venv_dir("2.10.5").name
    spec = resolve("2.10.5")
    monkeypatch.setattr(instance, "port_is_free", lambda port: True)
    assert (
        instance._choose_port(spec, None, "postgres")
        == instance._choose_port(spec, None) + instance.POSTGRES_PORT_OFFSET
    )
    assert spec.requirements_with(("postgres",))[0] == "apache-airflow[postgres]==2.10.5"
    old = LocalTarget.from_json({"version": "2.10.5", "url": "http://127.0.0.1:1", "api": "v1", "auth": {}})
    assert old.database == "sqlite" and old.key == "2.10.5"  # a state file written before databases existed


@pytest.mark.parametrize(
    "version, key, other",
    [
        ("2.2.5", "AIRFLOW__CORE__SQL_ALCHEMY_CONN", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"),
        ("2.3.4", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CORE__SQL_ALCHEMY_CONN"),
        ("3.3.2", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CORE__SQL_ALCHEMY_CONN"),
    ],
)
def test_the_connection_goes_to_the_section_the_release_reads(monkeypatch, tmp_path, version, key, other):
    monkeypatch.setenv("AIRFLOW_CONFORMANCE_CACHE", str(tmp_path))
    spec = resolve(version)
    home = home_mod.prepare(spec, "postgres")
    url = postgres.connection_url(home.path, 5999)
    env = home_mod.environment(spec, home, port=1, log_ports=(2, 3), venv=tmp_path, sql_conn=url)
    assert env[key] == url and other not in env
    assert url.startswith("postgresql+psycopg2://airflow:") and url.endswith("@127.0.0.1:5999/airflow")
    sqlite_home = home_mod.prepare(spec)
    sqlite_env = home_mod.environment(spec, sqlite_home, port=1, log_ports=(2, 3), venv=tmp_path)
    # the SQLite target names Airflow's own file, with a busy timeout, in the same section
    assert sqlite_env[key] == f"sqlite:///{sqlite_home.path / 'airflow.db'}?timeout=20" and other not in sqlite_env


def test_the_sqlite_busy_wait_ends_before_the_suite_stops_waiting_for_an_answer():
    """A 60 s busy timeout made API calls wait behind the scheduler's lock past the 30 s request timeout
    (CI: two ReadTimeouts, a run ended in `error`); the server must answer, even with its own 500, first."""
    from conformance.options import DEFAULT_REQUEST_TIMEOUT  # noqa: PLC0415

    assert home_mod.SQLITE_BUSY_TIMEOUT_S + 5 <= DEFAULT_REQUEST_TIMEOUT


def test_passwords_are_generated_once_and_kept_private(tmp_path):
    first = postgres.credentials(tmp_path)
    assert first == postgres.credentials(tmp_path) and first["postgres"] != first["airflow"]
    assert (tmp_path / postgres.CREDENTIALS_FILE).stat().st_mode & 0o777 == 0o600
    record = postgres.Server(1, 2, 3, "/d").to_json()
    assert not any(p in json.dumps(record) for p in first.values())  # the state file gets no password
    assert postgres.Server.from_json(record) == postgres.Server(1, 2, 3, "/d")
    assert postgres.Server.from_json({"pid": "x"}) is None


def test_bad_combinations_are_config_errors():
    with pytest.raises(ConfigError, match="--database must be one of"):
        instance._check_choices("conformance", "mysql")
    with pytest.raises(ConfigError, match="only available with --database sqlite"):
        instance._check_choices("default", "postgres")


@pytest.mark.parametrize(
    "args, words",
    [
        (["up", "--airflow", "3.3.2", "--database", "oracle"], "oracle"),
        (["run", "--target", "http://127.0.0.1:9", "--database", "oracle"], "oracle"),
        (["matrix", "--target", "http://127.0.0.1:9", "--database", "postgres"], "--database applies to releases"),
    ],
)
def test_database_misuse_is_one_line_exit_2(args, words):
    proc = cli(*args, timeout=60, env=caller_env())
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in proc.stderr


def test_database_flag_reads_its_environment_variable():
    for name in ("up", "down", "run", "matrix"):
        option = next(p for p in main.commands[name].params if p.name == "database")
        assert "AIRFLOW_CONFORMANCE_DATABASE" in (
            option.envvar if isinstance(option.envvar, list) else [option.envvar]
        ), name
        assert option.help


def test_matrix_labels_and_run_folders():
    label = databases.column_label("2.10.5", "postgres")
    assert label == "2.10.5 · PostgreSQL" and databases.column_label("2.10.5") == "2.10.5"
    assert databases.split_label(label) == ("2.10.5", "postgres") and databases.split_label("3.3.2") == (
        "3.3.2",
        "sqlite",
    )
    assert databases.run_dir_name(label) == "2.10.5-postgres" and databases.run_dir_name("2.10.5") == "2.10.5"
    assert databases.label_of_dir("2.10.5-postgres", "2.10.5") == label and databases.label_of_dir("2.10.5") == "2.10.5"
    ordered = sorted(
        [databases.column_label("3.3.2", "postgres"), "3.3.2", label, "2.10.5", "http_x"], key=databases.sort_key
    )
    assert ordered == ["2.10.5", label, "3.3.2", "3.3.2 · PostgreSQL", "http_x"]


def _stored_run(report_dir, folder: str, version: str) -> None:
    out = report_dir / "runs" / folder
    out.mkdir(parents=True)
    (out / "results.json").write_text(
        json.dumps(
            {
                "target": {"airflow_version": version},
                "verdict": "conformant",
                "summary": {},
                "results": [],
                "operations": {},
            }
        )
    )


def test_a_postgres_matrix_adds_columns_beside_the_stored_sqlite_ones(tmp_path):
    _stored_run(tmp_path, "2.10.5", "2.10.5")
    _stored_run(tmp_path, "2.10.5-postgres", "2.10.5")  # an older PostgreSQL run: this invocation replaces it
    fresh = [collect.Column("2.10.5 · PostgreSQL", status="ran", exit_code=0)]
    shown = collect.with_stored(fresh, tmp_path, "postgres")
    assert [c.version for c in shown] == ["2.10.5 · PostgreSQL", "2.10.5"]
    assert shown[0] is fresh[0]
    doc = build.build(shown)
    assert [v["version"] for v in doc["versions"]] == ["2.10.5", "2.10.5 · PostgreSQL"]
    assert [c.version for c in collect.load_runs(tmp_path)] == ["2.10.5", "2.10.5 · PostgreSQL"]
    # a SQLite matrix keeps the stored PostgreSQL columns, and replaces its own
    assert [c.version for c in collect.with_stored([collect.Column("2.10.5")], tmp_path, "sqlite")] == [
        "2.10.5",
        "2.10.5 · PostgreSQL",
    ]


def test_declared_database_of_a_deployed_target():
    """A deployed target's database is what the user declares (unknown without it); the suite's own target's is its own."""
    own = LocalTarget(version="3.3.2", url="http://127.0.0.1:9", api="v2", auth={}, database="sqlite")
    assert _backend(None, None) == "" and _backend(None, "postgres") == "postgres"
    assert _backend(own, None) == "sqlite" == _backend(own, "sqlite")
    with pytest.raises(ConfigError, match="suite's own Airflow 3.3.2 on sqlite"):
        _backend(own, "postgres")
