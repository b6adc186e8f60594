"""Service metadata: version, health, the served spec. Readable without side effects."""

from __future__ import annotations

from conformance.checks.metadata import scenario
from conformance.context import CheckContext
from conformance.specs.catalog import operations
from conformance.specs.extract import load_yaml


@scenario(
    "service.version_public",
    "Version endpoint answers without credentials",
    "GET /version MUST answer 200 without credentials with a body matching the documented schema.",
    operations=["get_version"],
)
def test_version_public(api, anon, target, verdict):
    resp = anon.call("GET", "/version")
    verdict.status(resp, 200, "GET /version without credentials")
    body = verdict.json(resp)
    verdict.that(
        body.get("version") == target.airflow_version,
        f"version endpoint says {body.get('version')!r}, detection said {target.airflow_version!r}",
    )
    verdict.schema(api.call("GET", "/version"), "GET /version")


@scenario(
    "service.health_public",
    "Health answers without credentials with the components of the version",
    "The health endpoint MUST answer 200 without credentials and report every component the version documents.",
    operations=["get_health"],
)
def test_health_public(ctx: CheckContext, anon, verdict, dialect, expect):
    resp = anon.request("GET", dialect["health_path"])
    verdict.status(resp, 200, f"GET {dialect['health_path']} without credentials")
    body = verdict.json(resp)
    missing = [k for k in expect["components"] if k not in body]
    verdict.that(not missing, f"health body lacks component(s) {missing}: {sorted(body)}")
    for name in expect["components"]:
        status = (body.get(name) or {}).get("status")
        verdict.that(status in ("healthy", "unhealthy", None), f"health component {name} has status {status!r}")
    verdict.schema(ctx.session.request("GET", dialect["health_path"]), "health")


@scenario(
    "service.served_spec_matches_reference",
    "The served OpenAPI spec has the reference operations",
    "The spec the server publishes MUST list the same operations as the release's reference spec.",
    operations=["get_version"],
)
def test_served_spec(ctx: CheckContext, api, dialect, verdict):
    resp = api.request("GET", dialect["served_spec_path"])
    verdict.status(resp, 200, f"GET {dialect['served_spec_path']}")
    served = load_yaml(resp.text)  # libyaml when there is one: the served 3.x spec takes pure-Python YAML seconds
    served_ops = {o.operation_id for o in operations(served)}
    reference_ops = {o.operation_id for o in operations(ctx.spec)}
    missing, extra = sorted(reference_ops - served_ops), sorted(served_ops - reference_ops)
    verdict.that(
        not missing and not extra,
        f"served spec drifts from reference {ctx.spec_version}: missing {missing[:10]}, extra {extra[:10]}",
        step="served_spec",
    )
