"""DAGs: listing, source, pausing, deletion, and the error contract of the DAG endpoints."""

from __future__ import annotations

from conformance.checks.metadata import scenario
from conformance.context import CheckContext
from conformance.model.reasons import ReasonCode
from conformance.probes.dags import DISPOSABLE_DAG_ID, PROBE_DAG_ID
from conformance.verdict import skip


@scenario(
    "dags.list_fields",
    "DAG listing carries the documented fields",
    "GET /dags MUST return `dags` and `total_entries`, each DAG with the fields its version documents.",
    operations=["get_dags"],
)
def test_list_fields(api, verdict, expect):
    resp = api.call("GET", "/dags", params={"limit": 5})
    verdict.status(resp, 200, "GET /dags")
    body = verdict.json(resp)
    verdict.that(
        isinstance(body.get("dags"), list) and isinstance(body.get("total_entries"), int),
        f"GET /dags body lacks dags[]/total_entries: {sorted(body)}",
    )
    verdict.that(bool(body["dags"]), "GET /dags returned no DAG; the target has none to check")
    for dag in body["dags"]:
        missing = [f for f in expect["fields"] if f not in dag]
        verdict.that(not missing, f"DAG {dag.get('dag_id')} lacks documented field(s) {missing}")
    verdict.schema(resp, "GET /dags", step="list")


@scenario(
    "dags.get_probe",
    "A single DAG reads back with the documented fields",
    "GET /dags/{dag_id} MUST return the DAG with the documented fields and schema.",
    operations=["get_dag"],
    needs=["probe_dags"],
)
def test_get_probe(api, verdict, expect):
    resp = api.call("GET", f"/dags/{PROBE_DAG_ID}")
    verdict.status(resp, 200, f"GET /dags/{PROBE_DAG_ID}")
    body = verdict.json(resp)
    verdict.that(body.get("dag_id") == PROBE_DAG_ID, f"dag_id is {body.get('dag_id')!r}")
    missing = [f for f in expect["fields"] if f not in body]
    verdict.that(not missing, f"DAG lacks documented field(s) {missing}")
    verdict.schema(resp, f"GET /dags/{PROBE_DAG_ID}", step="get")


@scenario(
    "dags.source_readable",
    "The DAG source opens from the DAG",
    "The source of a listed DAG MUST be readable through dagSources (by file_token on 2.x, by dag_id on 3.x).",
    operations=["get_dag_source"],
    needs=["probe_dags"],
)
def test_source(api, verdict, dialect):
    dag = api.call("GET", f"/dags/{PROBE_DAG_ID}").json()
    key = dag.get(dialect["source_key"])
    verdict.that(isinstance(key, str) and key, f"DAG has no {dialect['source_key']} to open its source with")
    resp = api.call("GET", f"/dagSources/{key}", headers={"Accept": "application/json"})
    verdict.status(resp, 200, "GET /dagSources")
    verdict.that(PROBE_DAG_ID in resp.text, "the DAG source does not contain the DAG id")


@scenario(
    "dags.pause_via_update_mask",
    "Pause and unpause through update_mask",
    "PATCH /dags/{dag_id}?update_mask=is_paused MUST answer 200 and change only is_paused.",
    operations=["patch_dag"],
    tier="sandbox",
    needs=["probe_dags"],
)
def test_pause(flows, verdict):
    for paused in (True, False, True):
        resp = flows.set_paused(PROBE_DAG_ID, paused)
        verdict.status(resp, 200, f"PATCH is_paused={paused}")
        verdict.that(
            resp.json().get("is_paused") is paused,
            f"is_paused reads {resp.json().get('is_paused')} after setting {paused}",
        )
        verdict.schema(resp, "PATCH /dags/{dag_id}", step="patch")
        again = flows.api.call("GET", f"/dags/{PROBE_DAG_ID}")
        verdict.that(again.json().get("is_paused") is paused, "GET after PATCH does not show the new is_paused")


@scenario(
    "dags.other_update_mask_rejected",
    "Only is_paused may be patched",
    "PATCH /dags/{dag_id} with an update_mask other than is_paused MUST be rejected with 400.",
    operations=["patch_dag"],
    tier="sandbox",
    needs=["probe_dags"],
)
def test_other_mask(api, verdict, expect):
    resp = api.call("PATCH", f"/dags/{PROBE_DAG_ID}", params={"update_mask": "description"}, json={"is_paused": True})
    verdict.status(resp, expect["status"], "PATCH with update_mask=description")


@scenario(
    "dags.unknown_dag_not_found",
    "An unknown DAG is 404 with an error body",
    "GET /dags/{dag_id} for a DAG that does not exist MUST answer 404 with the version's error body.",
    operations=["get_dag"],
)
def test_unknown_dag(api, verdict, expect, ctx: CheckContext):
    resp = api.call("GET", f"/dags/{ctx.prefix}no_such_dag")
    verdict.status(resp, 404, "GET an unknown DAG")
    body = verdict.json(resp, "404 body")
    missing = [k for k in expect["keys"] if k not in body]
    verdict.that(not missing, f"404 body lacks {missing}: {str(body)[:200]}")


@scenario(
    "dags.unknown_query_parameter",
    "Unknown query parameters are handled as the version documents",
    "An unknown query parameter MUST be rejected with 400 on 2.x (strict validation) and ignored on 3.x.",
    operations=["get_dags"],
)
def test_unknown_query(api, verdict, expect):
    resp = api.call("GET", "/dags", params={"acf_no_such_parameter": "1", "limit": 1})
    verdict.status(resp, expect["status"], "GET /dags with an unknown query parameter")


@scenario(
    "dags.delete_disposable",
    "Deleting a DAG answers 204, then 404",
    "DELETE /dags/{dag_id} MUST answer 204 with an empty body and the DAG MUST then be gone (404).",
    operations=["delete_dag", "get_dag"],
    since="2.2",
    tier="sandbox",
    needs=["probe_dags"],
)
def test_delete_dag(ctx: CheckContext, api, verdict, expect):
    if DISPOSABLE_DAG_ID not in ctx.probe_dags:
        skip(f"the disposable probe DAG {DISPOSABLE_DAG_ID} is not deployed (or not parsed yet)", ReasonCode.PROBE_DAGS)
    resp = api.call("DELETE", f"/dags/{DISPOSABLE_DAG_ID}")
    verdict.status(resp, expect["status"], f"DELETE /dags/{DISPOSABLE_DAG_ID}")
    verdict.that(resp.content == b"" or resp.status_code != 204, f"204 with a body: {resp.text[:100]}")
    gone = api.call("GET", f"/dags/{DISPOSABLE_DAG_ID}")
    verdict.status(gone, 404, "GET the deleted DAG")
    token = ctx.probe_dags[DISPOSABLE_DAG_ID].get("file_token")
    if "reparse_dag_file" in ctx.router.by_id and token:  # bring it back now rather than at the next file scan
        api.call("PUT", f"/parseDagFile/{token}")


@scenario(
    "dags.reparse_accepted",
    "A DAG file re-parse request is accepted",
    "PUT /parseDagFile/{file_token} for a deployed DAG's file MUST be accepted and leave the DAG in place.",
    operations=["reparse_dag_file", "get_dag"],
    since="2.10",
    tier="sandbox",
    needs=["probe_dags"],
)
def test_reparse(ctx: CheckContext, api, verdict, expect):
    token = ctx.probe_dags[PROBE_DAG_ID]["file_token"]
    resp = api.call("PUT", f"/parseDagFile/{token}")
    verdict.status(resp, expect["status"], "PUT /parseDagFile/{file_token}")
    verdict.status(api.call("GET", f"/dags/{PROBE_DAG_ID}"), 200, "GET the DAG after the re-parse request")
