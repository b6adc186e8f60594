"""Authentication: what the API refuses, and what it serves to anyone."""

from __future__ import annotations

from requests.auth import HTTPBasicAuth

from conformance.checks.metadata import scenario
from conformance.context import CheckContext
from conformance.model.reasons import ReasonCode
from conformance.target.auth import BearerAuth
from conformance.verdict import skip

MALFORMED_JWT = "eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJhY2YifQ.bm90LWEtc2lnbmF0dXJl"


@scenario(
    "auth.no_credentials_rejected",
    "Protected operations refuse anonymous requests",
    "A protected operation MUST answer 401 to a request without credentials.",
    operations=["get_dags", "get_variables", "get_connections"],
    anonymous=True,
)
def test_no_credentials(anon, verdict, expect):
    for rel in ("/dags", "/variables", "/connections"):
        resp = anon.call("GET", rel)
        verdict.status(resp, expect["status"], f"GET {rel} without credentials")


@scenario(
    "auth.error_body_shape",
    "An authentication error has the documented error body",
    "A 401 MUST carry the version's error body (problem details on 2.x, `detail` on 3.x).",
    operations=["get_dags"],
    anonymous=True,
)
def test_error_body(anon, verdict, expect):
    resp = anon.call("GET", "/dags")
    verdict.status(resp, 401, "GET /dags without credentials")
    body = verdict.json(resp, "401 body")
    missing = [k for k in expect["keys"] if k not in (body if isinstance(body, dict) else {})]
    verdict.that(not missing, f"401 body lacks {missing}: {str(body)[:200]}")
    ctype = resp.headers.get("Content-Type", "").split(";")[0]
    verdict.that(
        ctype in expect["content_types"],
        f"401 content type {ctype!r}, documented {expect['content_types']}",
        step="content_type",
        resp=resp,
    )


@scenario(
    "auth.wrong_password_rejected",
    "Wrong credentials are refused",
    "Credentials with a wrong password MUST be refused with 401.",
    operations=["get_dags"],
    anonymous=True,
)
def test_wrong_password(ctx: CheckContext, verdict, dialect):
    user = ctx.target.auth.user or "admin"
    if dialect["auth"] == "basic":
        resp = ctx.session_as(HTTPBasicAuth(user, "acf-wrong-password")).call("GET", "/dags")
        verdict.status(resp, 401, "GET /dags with a wrong Basic password")
    else:
        resp = ctx.session_as(None).request(
            "POST", "/auth/token", json={"username": user, "password": "acf-wrong-password"}
        )
        verdict.status(resp, 401, "POST /auth/token with a wrong password")


@scenario(
    "auth.token_login",
    "Token login mints a bearer JWT",
    "POST /auth/token with valid credentials MUST answer 201 with an access_token usable as Bearer.",
    since="3.0",
)
def test_token_login(ctx: CheckContext, verdict):
    if ctx.target.auth.kind != "jwt":
        skip("needs --auth jwt:USER:PASS to log in", ReasonCode.AUTH_SCHEME)
    anon = ctx.session_as(None)
    resp = anon.request(
        "POST", "/auth/token", json={"username": ctx.target.auth.user, "password": ctx.target.auth.password}
    )
    verdict.status(resp, 201, "POST /auth/token")
    token = verdict.json(resp).get("access_token")
    verdict.that(isinstance(token, str) and token.count(".") == 2, "access_token is not a JWT")
    ctx.redactor.add(token)
    check = ctx.session_as(BearerAuth(token)).call("GET", "/dags", params={"limit": 1})
    verdict.status(check, 200, "GET /dags with the minted token")


@scenario(
    "auth.malformed_token_rejected",
    "A malformed or foreign-signed token is refused",
    "A request with a JWT the server did not sign MUST be refused (403 Invalid JWT token).",
    operations=["get_dags"],
    since="3.0",
    anonymous=True,
)
def test_malformed_token(ctx: CheckContext, verdict, expect):
    resp = ctx.session_as(BearerAuth(MALFORMED_JWT)).call("GET", "/dags")
    verdict.status(resp, expect["status"], "GET /dags with a malformed bearer token")


@scenario(
    "auth.deny_all_default",
    "The default auth backend of 2.0-2.2 refuses every API client",
    "With Airflow's default [api] auth_backend (deny_all) valid credentials MUST still get 401.",
    operations=["get_dags"],
    until="2.3",
    needs=["auth_default"],
)
def test_deny_all(api, verdict):
    resp = api.call("GET", "/dags")
    verdict.status(resp, 401, "GET /dags with valid credentials under deny_all")
