"""The command-line contract: help, list, exit codes, one-line errors, auth specs, version detection.

Everything that talks to Airflow talks to a real local Airflow started by
the suite itself (`airflow-conformance up`).
"""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from tests.targets import cli

def _one_plain_line(proc) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert "Traceback" not in proc.stderr, proc.stderr
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_help_lists_every_command():
    proc = cli("--help")
    assert proc.returncode == 0
    for command in ("up", "down", "status", "run", "matrix", "specs", "cleanup", "list", "probe-dags"):
        assert f"  {command}" in proc.stdout, command


def test_list_prints_every_check_with_metadata():
    proc = cli("list", "--format", "json")
    assert proc.returncode == 0
    listed = json.loads(proc.stdout)
    checks = [c for c in listed if c["kind"] != "response"]
    responses = {c["id"]: c["must"] for c in listed if c["kind"] == "response"}
    assert {"auth_not_ignored", "chain_xcom", "limit_honoured", "not_a_server_error"} <= set(responses)
    assert all("MUST" in must for must in responses.values())
    assert len(checks) >= 25
    for check in checks:
        assert check["id"] and check["title"] and check["must"] and check["tier"] in ("readonly", "sandbox", "disruptive")
    ids = {c["result_id"] for c in checks}
    assert "scenario.dag_runs.state_is_read_only" in ids and "posture.config_not_exposed" in ids


def test_readme_table_is_generated_from_metadata():
    from pathlib import Path  # noqa: PLC0415

    from conformance.cli.catalog import README_BEGIN, README_END  # noqa: PLC0415

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    table = readme.split(README_BEGIN, 1)[1].split(README_END, 1)[0].strip()
    assert table == cli("list", "--format", "markdown").stdout.strip(), \
        "README checks table is stale: regenerate it with `airflow-conformance list --format markdown`"


def test_unreachable_target_is_one_line_exit_2():
    proc = cli("run", "--target", "http://127.0.0.1:9", "--auth", "basic:a:b", timeout=120)
    assert proc.returncode == 2
    assert "cannot reach" in _one_plain_line(proc)


@pytest.mark.parametrize("spec", ["nonsense", "basic:onlyuser", "bearer:", "env:ACF_UNSET_VARIABLE", "jwt:"])
def test_malformed_auth_is_exit_2(spec):
    proc = cli("run", "--target", "http://127.0.0.1:9", "--auth", spec, timeout=60)
    assert proc.returncode == 2
    line = _one_plain_line(proc)
    assert "auth" in line


def test_bad_flags_are_exit_2():
    for args in (["run", "--profile", "reckless"], ["run", "--only", "everything"],
                 ["run", "--target", "http://x", "--local", "2.10.5"], ["up", "--airflow", "1.10.15"], ["run", "--max-examples", "0"]):
        proc = cli(*args, timeout=60)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stderr


def test_not_airflow_is_exit_2():
    class NotAirflow(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(404)
            self.end_headers()
            self.wfile.write(b"nothing here")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotAirflow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        proc = cli("run", "--target", f"http://127.0.0.1:{server.server_port}", "--auth", "none", timeout=60)
    finally:
        server.shutdown()
    assert proc.returncode == 2
    assert "does not look like an Airflow API server" in _one_plain_line(proc)


def test_secrets_never_in_auth_errors():
    proc = cli("run", "--target", "http://127.0.0.1:9", "--auth", "basic:someone:Sup3r-Secret-Value", timeout=60)
    assert "Sup3r-Secret-Value" not in proc.stderr + proc.stdout


# -- against real Airflow -----------------------------------------------------
def test_version_detection(live):
    from conformance.safety.session import GuardedSession  # noqa: PLC0415
    from conformance.http.redact import Redactor  # noqa: PLC0415
    from conformance.safety.guard import Guard  # noqa: PLC0415
    from conformance.safety.ledger import Ledger  # noqa: PLC0415
    from conformance.target.detect import detect, normalize_url  # noqa: PLC0415

    guard = Guard("readonly", run_prefix="acf_test_", ledger=Ledger("acf_test_detect"))
    with GuardedSession(live.url, guard, Redactor()) as session:
        for url in (live.url, live.url + "/", f"{live.url}/api/{live.api}"):
            assert detect(session, normalize_url(url)) == (live.version, live.api)


def _posture_run(live, auth: str, tmp_path, env=None):
    return cli("run", "--target", live.url, "--auth", auth, "--only", "posture", "--report-dir", str(tmp_path),
               timeout=300, env=env)


def test_auth_spec_of_the_generation_is_accepted(live, tmp_path):
    proc = _posture_run(live, live.auth_spec, tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["target"]["airflow_version"] == live.version
    assert data["target"]["auth"] == live.kind


def test_env_auth_spec(live, tmp_path):
    import os  # noqa: PLC0415

    env = dict(os.environ, ACF_TEST_AUTH=live.auth_spec)
    proc = _posture_run(live, "env:ACF_TEST_AUTH", tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_environment_variables_stand_in_for_flags(live, tmp_path):
    import os  # noqa: PLC0415

    env = dict(os.environ, AIRFLOW_CONFORMANCE_URL=live.url, AIRFLOW_CONFORMANCE_AUTH=live.auth_spec)
    proc = cli("run", "--only", "posture", "--report-dir", str(tmp_path), timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads((tmp_path / "results.json").read_text())["target"]["url"] == live.url


def test_rejected_credentials_are_exit_2(live, tmp_path):
    kind = live.kind
    proc = _posture_run(live, f"{kind}:admin:wrong-password", tmp_path)
    assert proc.returncode == 2
    assert "credentials rejected" in _one_plain_line(proc)
    assert "wrong-password" not in proc.stderr


def test_none_auth_is_rejected_by_protected_api(live, tmp_path):
    proc = _posture_run(live, "none", tmp_path)
    assert proc.returncode == 2
    assert "credentials rejected" in _one_plain_line(proc)


def test_bearer_token_spec(live, tmp_path):
    import requests  # noqa: PLC0415

    if live.api != "v2":
        pytest.skip("Airflow 2 takes no bearer tokens with the basic_auth backend")
    user, password = live.user, live.password
    token = requests.post(f"{live.url}/auth/token", json={"username": user, "password": password}, timeout=30).json()["access_token"]
    proc = _posture_run(live, f"bearer:{token}", tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for name in ("results.json", "junit.xml", "report.html", "summary.md"):
        assert token not in (tmp_path / name).read_text()


def test_kerberos_without_extra_is_exit_2(live, tmp_path):
    try:
        import requests_kerberos  # noqa: F401, PLC0415
    except ImportError:
        proc = _posture_run(live, "kerberos", tmp_path)
        assert proc.returncode == 2
        assert "kerberos" in _one_plain_line(proc)
    else:
        pytest.skip("requests-kerberos is installed here")
