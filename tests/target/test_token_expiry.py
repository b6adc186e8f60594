"""A run outlives its token: `jwt:` logs in again, `exec:` renews before the expiry; the verdict is unchanged.

A proxy in front of a real Airflow 3.3.2 ends every bearer token LIFETIME_S
seconds after it first sees it (401, as Airflow answers an expired JWT), so a
run of the DAG-run scenarios meets an expired token mid-run.
- `jwt:USER:PASS`: Airflow's own tokens carry a day-long `exp`, so the suite
  meets the 401, logs in again and repeats the request once; the run ends
  conformant, as through a clean proxy, and the proxy did refuse at least once.
  A fresh, idle target can run those scenarios in less than LIFETIME_S, so this
  proxy also ends a token at its USES_AT_MOST-th request: the refusal happens
  whatever the target's speed.
- `exec:COMMAND`: the command logs in itself and prints the token with an
  `expires_in` shorter than the proxy's lifetime; the suite runs it again before
  that expiry, so no request meets a 401 and the command ran more than once.
The tokens never appear in the run's output or reports.
"""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import pytest

from tests import harness, targets
from tests.faultproxy.mutation import Mutation, reply
from tests.faultproxy.proxy import FaultProxy

LIFETIME_S = 8.0
USES_AT_MOST = 12  # the DAG-run scenarios send several times as many requests
CHECKS = "dag_runs"  # the DAG-run scenarios: a probe run triggered and waited for, well over LIFETIME_S
EXPIRED = {"detail": "Token has expired"}


def _expiring(seen: dict, uses_at_most: int | None = None) -> Mutation:
    """Bearer tokens end LIFETIME_S after the proxy first sees them, or at their `uses_at_most`-th request.

    `seen["refused"]` counts the 401s given.
    """

    def expire_old_tokens(ex):
        req = ex.request
        auth = req.headers.get("Authorization") or ""
        if not auth.startswith("Bearer ") or req.path == "/auth/token":
            return None
        first = seen.setdefault("first_seen", {}).setdefault(auth, time.monotonic())
        uses = seen.setdefault("uses", {})
        uses[auth] = uses.get(auth, 0) + 1
        if time.monotonic() - first > LIFETIME_S or (uses_at_most is not None and uses[auth] >= uses_at_most):
            seen["refused"] = seen.get("refused", 0) + 1
            return reply(401, EXPIRED)(ex)
        return None

    return Mutation(
        "tokens_expire",
        (),
        f"bearer tokens end {LIFETIME_S:g} s after first use",
        method=("GET", "POST", "PATCH", "PUT", "DELETE"),
        request=expire_old_tokens,
    )


CREDENTIAL_COMMAND = """
import json, os, pathlib, sys, urllib.request
calls = pathlib.Path(sys.argv[0]).with_name("calls")
calls.write_text(str(int(calls.read_text()) + 1 if calls.exists() else 1))
req = urllib.request.Request(sys.argv[1] + "/auth/token", method="POST", headers={"Content-Type": "application/json"},
                             data=json.dumps({"username": sys.argv[2], "password": os.environ["ACF_TEST_PASSWORD"]}).encode())
token = json.load(urllib.request.urlopen(req, timeout=30))["access_token"]
print(json.dumps({"token": token, "expires_in": float(sys.argv[3])}))
"""


@pytest.fixture(scope="module", params=["3.3.2"])  # the parameter names its target (tests/live_groups.py)
def v3(request, targets):
    return targets.get(request.param)


def _leaked(outcome, report: Path, password: str) -> list[str]:
    """Secrets seen in the run's output or reports: the password, or anything shaped like a JWT (`eyJ...`)."""
    written = (
        outcome.stdout
        + outcome.stderr
        + "".join(p.read_text(encoding="utf-8", errors="replace") for p in report.rglob("*") if p.is_file())
    )
    return [what for what, found in (("password", password in written), ("a JWT", "eyJ" in written)) if found]


def test_jwt_run_logs_in_again_when_its_token_expires(v3, tmp_path):
    seen: dict = {}
    with FaultProxy(v3.url, [_expiring(seen, USES_AT_MOST)], credentials=v3.credentials) as proxy:
        outcome = targets.run_suite(proxy.url, v3.auth_spec, tmp_path / "jwt", only="scenarios", keyword=CHECKS)
    assert seen.get("refused", 0) >= 1, "the run did not outlive a token: the test shows nothing"
    assert outcome.results.get("verdict") == "conformant" and outcome.returncode == 0, outcome.stdout[-3000:]
    assert not _leaked(outcome, tmp_path / "jwt", v3.password)


def test_exec_token_is_renewed_before_it_expires(v3, tmp_path):
    script = tmp_path / "login.py"
    script.write_text(CREDENTIAL_COMMAND, encoding="utf-8")
    seen: dict = {}
    with FaultProxy(v3.url, [_expiring(seen)], credentials=v3.credentials) as proxy:
        command = " ".join(
            shlex.quote(a) for a in (sys.executable, str(script), proxy.url, v3.user, str(LIFETIME_S - 3))
        )
        env = {**harness.cli_env(), "ACF_TEST_EXEC": f"exec:{command}", "ACF_TEST_PASSWORD": v3.password}
        outcome = targets.run_suite(
            proxy.url, "env:ACF_TEST_EXEC", tmp_path / "exec", only="scenarios", keyword=CHECKS, env=env
        )
    calls = int((tmp_path / "calls").read_text())
    assert calls >= 2, f"the command ran {calls} time(s): no renewal happened"
    assert seen.get("refused", 0) == 0, f"{seen['refused']} request(s) met an expired token: the renewal came too late"
    assert outcome.results.get("verdict") == "conformant" and outcome.returncode == 0, outcome.stdout[-3000:]
    assert not _leaked(outcome, tmp_path / "exec", v3.password)
