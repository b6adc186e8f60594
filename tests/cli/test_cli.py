"""The command-line contract: help, list, exit codes, one-line errors, auth specs, version detection.

Everything that talks to Airflow talks to a real local Airflow started by
the suite itself (`airflow-conformance up`).
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shlex
import signal
import ssl
import subprocess
import threading
import time
from html import unescape
from pathlib import Path

import pytest

from tests.faultproxy.corpus import CORPUS
from tests.faultproxy.mutation import Mutation, delay
from tests.faultproxy.proxy import FaultProxy, Response
from tests.harness import caller_env, cli, cli_start, pytest_child
from tests.stub_airflow import POLL_S
from tests.targets import no_traceback, run_suite


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
        assert (
            check["id"] and check["title"] and check["must"] and check["tier"] in ("readonly", "sandbox", "disruptive")
        )
    ids = {c["result_id"] for c in checks}
    assert "scenario.dag_runs.state_is_read_only" in ids and "posture.config_not_exposed" in ids


def test_checks_table_is_generated_from_metadata():
    from pathlib import Path  # noqa: PLC0415

    from conformance.cli.catalog import CHECKS_BEGIN, CHECKS_END, CHECKS_PAGE  # noqa: PLC0415

    page = (Path(__file__).resolve().parents[2] / CHECKS_PAGE).read_text()
    table = page.split(CHECKS_BEGIN, 1)[1].split(CHECKS_END, 1)[0].strip()
    assert table == cli("list", "--format", "markdown").stdout.strip(), (
        f"the checks table of {CHECKS_PAGE} is stale: regenerate it with `airflow-conformance list --update-readme {CHECKS_PAGE}`"
    )


def test_update_readme_rewrites_only_the_table(tmp_path):
    from conformance.cli.catalog import CHECKS_BEGIN, CHECKS_END  # noqa: PLC0415

    page = tmp_path / "checks.md"
    page.write_text(f"# Checks\nbefore\n\n{CHECKS_BEGIN}\nstale\n{CHECKS_END}\nafter\n")
    proc = cli("list", "--update-readme", str(page))
    assert proc.returncode == 0, proc.stderr
    text = page.read_text()
    assert text.startswith("# Checks\nbefore\n\n") and text.endswith(f"{CHECKS_END}\nafter\n")
    assert "stale" not in text and "| `auth.token_login` |" in text
    older = tmp_path / "README.md"  # the marker of the time the table lived in the README still works
    older.write_text(
        f"<!-- checks:begin (generated: airflow-conformance list --update-readme README.md) -->\nstale\n{CHECKS_END}\n"
    )
    assert cli("list", "--update-readme", str(older)).returncode == 0 and "stale" not in older.read_text()
    assert cli("list", "--update-readme", str(tmp_path / "absent.md")).returncode == 2


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
    for args in (
        ["run", "--profile", "reckless"],
        ["run", "--only", "everything"],
        ["run", "--target", "http://x", "--local", "2.10.5"],
        ["up", "--airflow", "1.10.15"],
        ["run", "--max-examples", "0"],
    ):
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
    threading.Thread(target=server.serve_forever, args=(POLL_S,), daemon=True).start()  # shutdown() within POLL_S
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
    from conformance.http.redact import Redactor  # noqa: PLC0415
    from conformance.safety.guard import Guard  # noqa: PLC0415
    from conformance.safety.ledger import Ledger  # noqa: PLC0415
    from conformance.safety.session import GuardedSession  # noqa: PLC0415
    from conformance.target.detect import detect, normalize_url  # noqa: PLC0415

    guard = Guard("readonly", run_prefix="acf_test_", ledger=Ledger("acf_test_detect"))
    with GuardedSession(live.url, guard, Redactor()) as session:
        for url in (live.url, live.url + "/", f"{live.url}/api/{live.api}"):
            assert detect(session, normalize_url(url)) == (live.version, live.api)


def _posture_run(live, auth: str, tmp_path, env=None):
    return cli(
        "run",
        "--target",
        live.url,
        "--auth",
        auth,
        "--only",
        "posture",
        "--report-dir",
        str(tmp_path),
        timeout=300,
        env=env,
    )


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
    token = requests.post(f"{live.url}/auth/token", json={"username": user, "password": password}, timeout=30).json()[
        "access_token"
    ]
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


# -- the transport flags against a real Airflow (behind the fault proxy: a gateway, TLS) ------------
GATEWAY_KEY = "gw-5e1f-never-shown"


def _gateway() -> Mutation:
    """A gateway in front of Airflow: without its key, every request is refused before Airflow sees it."""

    def hook(ex):
        if ex.request.headers.get("X-Gateway-Key") != GATEWAY_KEY:
            return Response.of_json(401, {"detail": "gateway key missing"})
        return None

    return Mutation("gateway", (), "a gateway wants its own header", method="*", request=hook)


def _files(out: Path) -> str:
    return "".join(p.read_text() for p in out.iterdir() if p.is_file())


@pytest.mark.parametrize("via", ["flag", "environment"])
def test_a_header_reaches_every_request_and_stays_secret(live, tmp_path, via):
    with FaultProxy(live.url, [_gateway()], record_requests=True) as proxy:
        refused = cli(
            "run",
            "--target",
            proxy.url,
            "--auth",
            live.auth_spec,
            "--only",
            "posture",
            "--report-dir",
            str(tmp_path / "without"),
            timeout=300,
        )
        env = dict(os.environ, AIRFLOW_CONFORMANCE_HEADER=f"X-Gateway-Key: {GATEWAY_KEY}")
        args = ["-H", f"X-Gateway-Key: {GATEWAY_KEY}"] if via == "flag" else []
        proc = cli(
            "run",
            "--target",
            proxy.url,
            "--auth",
            live.auth_spec,
            "--only",
            "posture",
            *args,
            "--report-dir",
            str(tmp_path / "with"),
            timeout=300,
            env=env if via == "environment" else None,
        )
    assert refused.returncode == 2, refused.stderr[-2000:]
    assert proc.returncode == 0, proc.stderr[-2000:]
    sent = [request for _, request in proxy.recorded or []]
    keyed = [r for r in sent if r.headers.get("X-Gateway-Key") == GATEWAY_KEY]
    assert len(keyed) >= 10 and len(sent) - len(keyed) <= 3  # the run without the key knocked 1-3 times
    assert any(r.anonymous for r in keyed), "anonymous requests (posture checks) go through the gateway too"
    data = json.loads((tmp_path / "with" / "results.json").read_text())
    assert data["configuration"]["headers"] == ["X-Gateway-Key: ***"]
    assert GATEWAY_KEY not in proc.stdout + proc.stderr + _files(tmp_path / "with")
    assert "X-Gateway-Key: ***" in proc.stderr


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """A CA that signed the proxy's certificate for 127.0.0.1, and another one that did not."""
    trustme = pytest.importorskip("trustme", reason="trustme is a test dependency (pip install '.[test]')")
    folder = tmp_path_factory.mktemp("tls")
    ca, stranger = trustme.CA(), trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    stranger.cert_pem.write_to_path(str(folder / "other-ca.pem"))
    return server, folder


def test_tls_flags_against_a_target_behind_https(live, tmp_path, tls):
    server, folder = tls
    with FaultProxy(live.url, tls=server) as proxy:

        def run(*args):
            return cli(
                "run",
                "--target",
                proxy.url,
                "--auth",
                live.auth_spec,
                "--only",
                "posture",
                *args,
                "--report-dir",
                str(tmp_path),
                timeout=300,
            )

        unknown, wrong = run(), run("--cacert", str(folder / "other-ca.pem"))
        right, unchecked = run("--cacert", str(folder / "ca.pem")), run("--no-tls-verify")
    for proc in (unknown, wrong):
        assert proc.returncode == 2, proc.stderr[-2000:]
        line = _one_plain_line(proc)
        assert "TLS verification failed" in line and "--cacert" in line, line
    assert right.returncode == 0, right.stderr[-2000:]
    assert unchecked.returncode == 0, unchecked.stderr[-2000:]
    assert "InsecureRequestWarning" not in unchecked.stdout + unchecked.stderr
    assert "TLS verification off" in unchecked.stderr


def test_request_timeout_applies_to_every_request(live, tmp_path):
    slow = Mutation("slow_dags", (), "GET /dags takes 4 s", path=r"{api}/dags", request=delay(4))
    with FaultProxy(live.url, [slow]) as proxy:
        quick = cli(
            "run",
            "--target",
            proxy.url,
            "--auth",
            live.auth_spec,
            "--only",
            "posture",
            "--request-timeout",
            "1.5",
            "--report-dir",
            str(tmp_path),
            timeout=300,
        )
    assert quick.returncode == 2, quick.stderr[-2000:]
    assert "within 1.5 s (--request-timeout)" in _one_plain_line(quick)


def test_max_failures_stops_the_run_and_still_reports(live, tmp_path):
    breaks = [m for m in CORPUS if m.name in ("auth_bypassed", "config_exposed")]
    with FaultProxy(live.url, breaks, credentials=live.credentials) as proxy:
        every = run_suite(proxy.url, live.auth_spec, tmp_path / "all", only="posture")
        first = run_suite(proxy.url, live.auth_spec, tmp_path / "first", only="posture", extra=("-x",))
    assert every.returncode == 1 and len(every.by_status("failed")) == 2, every.stderr[-2000:]
    assert first.returncode == 1 and len(first.by_status("failed")) == 1, first.stderr[-2000:]
    assert len(first.results["results"]) < len(every.results["results"])
    assert first.results["configuration"]["max_failures"] == 1 and no_traceback(first)


@pytest.mark.airflow
@pytest.mark.parametrize("moment", ["installing apache-airflow", "starting Airflow"])
@pytest.mark.parametrize("version", ["2.10.5"])  # a release of its own cache, run beside that shared target's tests
def test_an_interrupt_while_provisioning_exits_3_and_leaves_nothing_running(tmp_path, moment, version):
    """Ctrl-C while a release is installed, or while its components start: exit 3, nothing of it left running."""
    psutil = pytest.importorskip("psutil")
    cache = tmp_path / "cache"
    env = caller_env({"AIRFLOW_CONFORMANCE_CACHE": str(cache)})
    proc = cli_start("run", "--airflow", version, "--only", "posture", env=env, stdout=subprocess.DEVNULL)
    seen = []
    for line in proc.stderr:  # progress comes line by line; interrupt at the moment named
        seen.append(line)
        if moment in line:
            break
    time.sleep(0.3 if moment.startswith("installing") else 1.5)  # a warm install takes a few seconds only
    proc.send_signal(signal.SIGINT)
    rest = proc.stderr.read()
    proc.wait(timeout=120)
    assert proc.returncode == 3, "".join(seen) + rest
    assert rest.strip().splitlines()[-1] == "airflow-conformance: interrupted" and "Traceback" not in rest
    left = [p.pid for p in psutil.process_iter(["cmdline"]) if str(cache) in " ".join(p.info["cmdline"] or [])]
    assert left == [], f"processes of the interrupted provisioning still run: {left}"


def test_the_plugin_runs_the_suite_with_the_run_flags_spelled_airflow_star(live, tmp_path):
    """`pytest --pyargs conformance --airflow-target ...`: the same run, flags prefixed, a header from the environment."""
    env = dict(
        os.environ,
        AIRFLOW_CONFORMANCE_AUTH=live.auth_spec,
        AIRFLOW_CONFORMANCE_HEADER=f"X-Tenant: {GATEWAY_KEY}",
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
    )
    proc = pytest_child(
        "-q",
        "--pyargs",
        "conformance.tiers.posture",
        "--airflow-target",
        live.url,
        "--airflow-profile",
        "readonly",
        "--airflow-report-dir",
        str(tmp_path),
        "--airflow-request-timeout",
        "20",
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["profile"] == "readonly" and data["configuration"]["request_timeout"] == 20.0
    assert data["configuration"]["headers"] == ["X-Tenant: ***"] and data["summary"]["passed"] >= 3
    assert GATEWAY_KEY not in proc.stdout + proc.stderr + _files(tmp_path)


def test_the_reports_rerun_command_runs_exactly_that_check(live, tmp_path):
    """The command report.html gives for a known deviation runs that check again, and only it."""
    first = run_suite(
        live.url, live.auth_spec, tmp_path / "first", only="scenarios", keyword="patch_update_mask or partial_patch"
    )
    assert first.returncode == 0, first.stderr[-2000:]
    html = (tmp_path / "first" / "report.html").read_text()
    commands = [shlex.split(unescape(c)) for c in re.findall(r'<pre class="rerun">([^<]+)</pre>', html)]
    assert commands, "no re-run command in report.html"
    args = commands[0]
    assert args[:2] == ["airflow-conformance", "run"] and args[args.index("--seed") + 1] == str(first.results["seed"])
    selected = args[args.index("-k") + 1]
    env = dict(
        os.environ, AIRFLOW_CONFORMANCE_AUTH=live.auth_spec
    )  # as the report says: credentials from the environment
    again = cli(*args[1:], "--report-dir", str(tmp_path / "again"), timeout=300, env=env)
    assert again.returncode == 0, again.stderr[-2000:]
    ran = [r["id"] for r in json.loads((tmp_path / "again" / "results.json").read_text())["results"]]
    assert ran == [selected.strip("[]")]
