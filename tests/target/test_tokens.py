"""Tokens that expire: `--auth exec:COMMAND` and the JWT's own expiry (no Airflow needed).

The credential commands here are real processes (this interpreter with a small
script), so what is tested is what a user's `gcloud auth print-access-token`
meets: output parsing, the renewal before expiry, a failing command as one line.
The run against a real Airflow with short-lived tokens is tests/target/test_token_expiry.py.
"""

from __future__ import annotations

import base64
import json
import shlex
import sys
import time
from pathlib import Path

import pytest

from conformance.errors import ConfigError
from conformance.target.auth import parse_auth
from conformance.target.tokens import ExecAuth, jwt_expiry, parse_credential
from tests import harness
from tests.stub_airflow import StubAirflow


def _jwt(claims: dict) -> str:
    def part(d: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS512'})}.{part(claims)}.c2ln"


def _command(tmp_path: Path, body: str) -> str:
    """A credential command: this interpreter running `body`, which may count its calls in ./calls."""
    script = tmp_path / "cred.py"
    script.write_text(body, encoding="utf-8")
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"


COUNTING = """
import json, pathlib, sys
calls = pathlib.Path(sys.argv[0]).with_name("calls")
n = int(calls.read_text()) + 1 if calls.exists() else 1
calls.write_text(str(n))
print(json.dumps({"token": f"tok{n}", "expires_in": LIFETIME}))
"""


def test_plain_json_and_kubectl_outputs_give_token_and_expiry():
    assert parse_credential("abc.def\n", "exec:x") == ("abc.def", None)
    token, expiry = parse_credential(json.dumps({"access_token": "t1", "expires_in": 100}), "exec:x")
    assert token == "t1" and expiry is not None and 95 < expiry - time.time() <= 100
    kube = {"kind": "ExecCredential", "status": {"token": "t2", "expirationTimestamp": "2030-01-01T00:00:00Z"}}
    assert parse_credential(json.dumps(kube), "exec:x") == ("t2", 1893456000.0)
    assert parse_credential(json.dumps({"token": "t3", "expires_at": 1893456000}), "exec:x")[1] == 1893456000.0


@pytest.mark.parametrize("output", ["", "{not json", json.dumps({"expires_in": 5}), "two words\n"])
def test_output_without_a_token_is_one_config_error(output):
    with pytest.raises(ConfigError) as err:
        parse_credential(output, "exec:x")
    assert "\n" not in str(err.value)


def test_jwt_expiry_is_read_from_the_claims():
    assert jwt_expiry(_jwt({"sub": "1", "exp": 1893456000})) == 1893456000.0
    assert jwt_expiry(_jwt({"sub": "1"})) is None
    assert jwt_expiry("not-a-jwt") is None


def test_exec_token_is_renewed_before_its_expiry_not_on_every_request(tmp_path):
    auth = ExecAuth(_command(tmp_path, COUNTING.replace("LIFETIME", "2")))
    first = auth.current()
    assert auth.current() == first  # still fresh: the command is not run again
    time.sleep(2.0 * 0.8 + 0.2)  # past the renewal point (a fifth of the lifetime before the expiry)
    assert auth.current() != first
    assert (tmp_path / "calls").read_text() == "2"


def test_a_token_without_expiry_is_renewed_only_on_demand(tmp_path):
    auth = ExecAuth(_command(tmp_path, 'print("fixed-token")'))
    assert auth.current() == "fixed-token" and auth.current() == "fixed-token"
    assert auth.refresh() == "fixed-token"


@pytest.mark.parametrize(
    "body,said",
    [
        ("import sys; sys.stderr.write('no account\\n'); sys.exit(3)", "exited 3 (no account)"),
        ("print('')", "printed nothing"),
    ],
)
def test_a_failing_command_is_one_line(tmp_path, body, said):
    with pytest.raises(ConfigError) as err:
        ExecAuth(_command(tmp_path, body)).current()
    assert said in str(err.value) and "\n" not in str(err.value)
    assert str(tmp_path) not in str(err.value)  # the arguments are not shown (they may hold a secret)


def test_exec_spec_shows_the_program_only():
    spec = parse_auth("exec:gettoken --key s3cr3t")
    assert spec.kind == "exec" and spec.redacted == "exec:gettoken ..."
    assert "s3cr3t" not in repr(spec) and spec.as_string() == "exec:gettoken --key s3cr3t"
    with pytest.raises(ConfigError):
        parse_auth("exec:")
    with pytest.raises(ConfigError):
        parse_auth("exec:unclosed 'quote")


def test_run_with_a_failing_credential_command_exits_2_in_one_line(tmp_path):
    command = _command(tmp_path, "import sys; sys.exit(1)")
    with StubAirflow() as stub:
        proc = harness.cli(
            "run",
            "--target",
            stub.url,
            "--auth",
            f"exec:{command}",
            "--only",
            "posture",
            "--report-dir",
            str(tmp_path / "report"),
            timeout=120,
        )
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if "exec:" in line]
    assert len(lines) == 1 and "exited 1" in lines[0], proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr + proc.stdout
