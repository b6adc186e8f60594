"""Role identities: `--auth-role ROLE=SPEC`, AIRFLOW_CONFORMANCE_AUTH_<ROLE>, and bad input (fast).

A bad `--auth-role` is one plain line and exit 2, before anything connects, and never echoes the
secret; role names are the release's built-in roles, matched case-insensitively.
"""

from __future__ import annotations

import pytest

from conformance.errors import ConfigError
from conformance.expectations import access
from conformance.options import RunOptions, parse_role_assignment, roles_from_env
from conformance.run import identities
from tests.harness import cli

SECRET = "Sup3r-Secret-Role-Value"


def test_role_assignments_parse():
    assert parse_role_assignment("Viewer=env:VIEWER_AUTH") == ("Viewer", "env:VIEWER_AUTH")
    assert parse_role_assignment("op=jwt:op:a=b") == ("op", "jwt:op:a=b")
    for bad in ("Viewer", "=basic:a:b", "Viewer=", "bad role=basic:a:b"):
        with pytest.raises(ValueError):
            parse_role_assignment(bad)


def test_roles_come_from_the_environment_and_flags_win(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONFORMANCE_AUTH_VIEWER", "basic:viewer:from-env")
    monkeypatch.setenv("AIRFLOW_CONFORMANCE_AUTH_OP", "basic:op:from-env")
    assert roles_from_env() == {"viewer": "basic:viewer:from-env", "op": "basic:op:from-env"}
    opts = RunOptions.from_env(auth_roles={"op": "basic:op:from-flag"})
    assert opts.auth_roles == {"viewer": "basic:viewer:from-env", "op": "basic:op:from-flag"}


def test_resolve_uses_the_release_spelling_and_refuses_unknown_roles(monkeypatch):
    model = access.load("2.10.5")
    monkeypatch.setenv("ACF_TEST_VIEWER", f"basic:viewer:{SECRET}")
    opts = RunOptions(auth_roles={"viewer": "env:ACF_TEST_VIEWER", "OP": "basic:op:pw"})
    specs = identities.resolve(opts, None, model, "2.10.5")
    assert set(specs) == {"Viewer", "Op"} and specs["Viewer"].password == SECRET
    with pytest.raises(ConfigError, match="built-in role") as exc:
        identities.resolve(RunOptions(auth_roles={"auditor": "basic:a:b"}), None, model, "2.10.5")
    assert "Admin, Op, User, Viewer" in str(exc.value) or "Public" in str(exc.value)
    with pytest.raises(ConfigError) as bad:
        identities.resolve(RunOptions(auth_roles={"viewer": f"basic:{SECRET}"}), None, model, "2.10.5")
    assert SECRET not in str(bad.value)


@pytest.mark.parametrize("value", ["Viewer", f"=basic:a:{SECRET}", "Viewer="])
def test_bad_auth_role_flag_is_one_line_exit_2(value):
    proc = cli("run", "--target", "http://127.0.0.1:9", "--auth", "basic:a:b", "--auth-role", value, timeout=60)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "--auth-role" in lines[0], proc.stderr
    assert SECRET not in proc.stderr + proc.stdout
