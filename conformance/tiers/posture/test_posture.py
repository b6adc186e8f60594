"""Posture: is the deployment set up safely? Exposures fail the run; notes only inform."""

from __future__ import annotations

from conformance.checks.metadata import posture


@posture(
    "authentication_enforced",
    "Authentication is enforced on the API",
    "Anonymous requests MUST NOT read DAGs, variables or connections.",
    operations=["get_dags", "get_variables", "get_connections"],
    exposure=True,
    anonymous=True,
)
def test_auth_enforced(anon, verdict):
    open_paths = [rel for rel in ("/dags", "/variables", "/connections") if anon.call("GET", rel).status_code == 200]
    verdict.that(not open_paths, f"anonymous requests can read {open_paths}: authentication is not enforced")


@posture(
    "experimental_api_off",
    "The experimental API is off or authenticated",
    "The legacy experimental API MUST be disabled or require authentication.",
    until="3.0",
    exposure=True,
)
def test_experimental(anon, verdict):
    resp = anon.request("GET", "/api/experimental/test")
    verdict.that(
        resp.status_code != 200, "the experimental API answers anonymous requests (/api/experimental/test is 200)"
    )


@posture(
    "config_not_exposed",
    "The configuration is not exposed",
    "GET /config MUST be refused (expose_config off): it can reveal secrets.",
    operations=["get_config"],
    exposure=True,
)
def test_config(api, verdict):
    resp = api.call("GET", "/config")
    verdict.that(resp.status_code != 200, "GET /config answers 200: [webserver]/[api] expose_config is on")


@posture(
    "swagger_ui_noted",
    "Whether the interactive API documentation is served",
    "The interactive API documentation SHOULD be a deliberate choice; its exposure is noted, never failed.",
)
def test_swagger(anon, verdict, dialect):
    resp = anon.request("GET", dialect["docs_path"])
    served = resp.status_code == 200
    verdict.notes.append(
        f"interactive API docs at {dialect['docs_path']}: {'served' if served else 'not served'} "
        f"(HTTP {resp.status_code})"
    )
