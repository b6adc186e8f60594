"""The mutation corpus: how a server can break each hand-written check's contract.

One entry per way of breaking the contract; every scenario and posture check
that a server can break has at least one. Each entry names the check id(s) it
must trip; `tests/system/test_detection.py` runs those checks (`run -k <ids>`)
through the proxy against a real Airflow 2.10.5 and 3.3.2 and requires each to
end `failed`. `versions` limits an entry to one API generation.

Checks without an entry, and why:
- `posture.swagger_ui_noted` only records a note, it never fails by design;
- `scenario.auth.deny_all_default` applies to Airflow 2.0-2.2 started with
  Airflow's default auth settings, not to the releases these tests run.
"""

from __future__ import annotations

import re
from typing import Any

from .mutation import (
    Mutation,
    as_int,
    drop_field,
    edit_items,
    edit_json,
    edit_query,
    edit_request_json,
    has_key,
    lacks_key,
    no_param,
    param,
    pretend_applied,
    replace_body,
    reply,
    set_content_type,
    set_fields,
    set_query,
    set_status,
    when_caller,
    with_real_credentials,
)
from .proxy import Exchange, Reply, Response

PROBE_DAG = "conformance_probe"
BROKEN_FILE = "conformance_broken.py"

# Paths, as regexes over the URL path (`{api}` = /api/v1 or /api/v2).
DAGS = r"{api}/dags"
DAG = r"{api}/dags/[^/]+"
RUNS = r"{api}/dags/[^/]+/dagRuns"
RUN = r"{api}/dags/[^/]+/dagRuns/[^/]+"
TASK_INSTANCE = RUN + r"/taskInstances/[^/]+"
HEALTH = r"{api}(/monitor)?/health"
SERVED_SPEC = r"/api/v1/openapi\.yaml|/openapi\.json"
PROTECTED = r"{api}/(dags|variables|connections)"

# What a lenient 2.x server would keep of an unknown query string (see `unknown_query_param_accepted`).
KNOWN_LIST_PARAMS = {"limit", "offset", "order_by", "tags", "only_active", "paused", "dag_id_pattern", "fields"}


def _problem(status: int, title: str) -> dict:
    """A 2.x-style problem body; 3.x-style checks look for `detail`, which it also has."""
    return {"type": "about:blank", "title": title, "status": status, "detail": title}


# The role users a local target has (conformance/local/home.py ROLE_USERS): the same names on 2.x and 3.x.
VIEWER, OP = "viewer", "op"


# ----------------------------------------------------------------- custom hooks
# (kept here because each is used by one entry; generic ones live in faultproxy.mutation)


def _accept_any_password(ex: Exchange) -> Reply:
    """Wrong credentials accepted: a wrong Basic password or a wrong login password is replaced by the real one."""
    creds = ex.proxy.credentials
    req = ex.request
    if creds is None:
        return None
    if req.path == "/auth/token" and req.method == "POST":
        body = req.json()
        if isinstance(body, dict) and body.get("password") != creds.password:
            body["password"] = creds.password
            req.set_json(body)
    elif (req.headers.get("Authorization") or "").startswith("Basic ") and req.headers.get(
        "Authorization"
    ) != ex.real_authorization():
        req.headers.set("Authorization", ex.real_authorization())
    return None


def _accept_foreign_tokens(ex: Exchange) -> Reply:
    """Bearer tokens are not verified: any token the server did not issue is treated as the admin's."""
    req = ex.request
    if req.path == "/auth/token":
        return None  # its response is recorded by _remember_issued_token
    auth = req.headers.get("Authorization") or ""
    if auth.startswith("Bearer ") and auth[7:] not in ex.state.setdefault("issued", set()):
        req.headers.set("Authorization", ex.real_authorization())
    return None


def _remember_issued_token(ex: Exchange, resp: Response) -> Response:
    if ex.request.path == "/auth/token":
        body = resp.json()
        if isinstance(body, dict) and isinstance(body.get("access_token"), str):
            ex.state.setdefault("issued", set()).add(body["access_token"])
    return resp


def _remember_connection_password(ex: Exchange) -> Reply:
    """Remember passwords as connections are created (the server "keeps them readable")."""
    body = ex.request.json()
    if ex.request.method == "POST" and isinstance(body, dict) and body.get("password"):
        ex.state.setdefault("passwords", {})[body.get("connection_id")] = body["password"]
    return None


def _leak_connection_password(ex: Exchange, resp: Response) -> Response:
    """GET of a connection (or the list) returns the password that was set."""
    if ex.request.method != "GET":
        return resp
    passwords = ex.state.get("passwords", {})
    body = resp.json()
    items = body.get("connections", []) if isinstance(body, dict) and "connections" in body else [body]
    for item in items:
        if isinstance(item, dict) and item.get("connection_id") in passwords:
            item["password"] = passwords[item["connection_id"]]
    resp.set_json(body)
    return resp


def _fabricate_duplicate_run(ex: Exchange, resp: Response) -> Response:
    """A 409 for a duplicate trigger becomes 200 with a made-up run (duplicates silently accepted)."""
    sent = ex.request.json() if isinstance(ex.request.json(), dict) else {}
    dag_id = ex.request.path.rstrip("/").split("/")[-2]
    run = {
        "dag_id": dag_id,
        "dag_run_id": sent.get("dag_run_id") or "manual__duplicate",
        "state": "queued",
        "conf": sent.get("conf") or {},
        "logical_date": sent.get("logical_date"),
        "execution_date": sent.get("execution_date"),
    }
    return Response.of_json(200, run)


def _echo_created(status: int):
    """A 409 for a duplicate object becomes `status` echoing the request body (duplicates overwrite)."""

    def hook(ex: Exchange, resp: Response) -> Response:
        return Response.of_json(status, ex.request.json())

    return hook


def _rename_operation(old: str, new: str):
    """Served spec drift: one operationId is renamed (works on the YAML and the JSON spec)."""
    pattern = re.compile(r'(operationId["\']?\s*:\s*["\']?)' + re.escape(old) + r"\b")

    def hook(ex: Exchange, resp: Response) -> Response:
        resp.body = pattern.sub(lambda m: m.group(1) + new, resp.body.decode()).encode()
        return resp

    return hook


def _drop_broken_file(body: Any) -> None:
    items = body.get("import_errors", [])
    kept = [e for e in items if not str(e.get("filename", "")).endswith(BROKEN_FILE)]
    body["import_errors"] = kept
    body["total_entries"] = body.get("total_entries", 0) - (len(items) - len(kept))


def _drop_own_runs(body: Any) -> None:
    """The suite's own runs (ids starting `acf_`) left out of a list, its total lowered to match."""
    items = body.get("dag_runs", [])
    kept = [r for r in items if not str(r.get("dag_run_id", "")).startswith("acf_")]
    body["dag_runs"] = kept
    body["total_entries"] = len(kept)


def _fabricate_import_error(ex: Exchange, resp: Response) -> Response:
    ident = as_int(ex.request.path.rsplit("/", 1)[-1])
    return Response.of_json(
        200,
        {
            "import_error_id": ident,
            "timestamp": "2024-01-01T00:00:00+00:00",
            "filename": "/dags/ghost.py",
            "stack_trace": "ghost",
        },
    )


def _empty_log(ex: Exchange, resp: Response) -> Response:
    """The task log is served without the task's output."""
    if "json" in (resp.headers.get("Content-Type") or ""):
        resp.set_json({"content": [], "continuation_token": None})
    else:
        resp.body = b"*** log not available\n"
    return resp


def _shift_offset_back(query: dict) -> None:
    """Pages overlap: every page after the first starts one item early."""
    offset = as_int((query.get("offset") or ["0"])[0])
    if offset > 0:
        query["offset"] = [str(offset - 1)]


def _drop_unknown_params(query: dict) -> None:
    for name in [n for n in query if n not in KNOWN_LIST_PARAMS]:
        del query[name]


def _has_unknown_param(query: dict) -> bool:
    return any(n not in KNOWN_LIST_PARAMS for n in query)


def _wrap_non_object_conf(body: Any) -> Any:
    if isinstance(body, dict) and "conf" in body and not isinstance(body["conf"], dict):
        body["conf"] = {"value": body["conf"]}
    return body


def _name_runs_differently(body: Any) -> Any:
    if isinstance(body, dict) and "dag_run_id" not in body:
        import uuid  # noqa: PLC0415

        body["dag_run_id"] = f"api__{uuid.uuid4().hex[:12]}"
    return body


def _strip(field: str):
    def fn(body: Any) -> Any:
        if isinstance(body, dict):
            body.pop(field, None)
        return body

    return fn


def _bump_total(body: Any) -> None:
    body["total_entries"] = body.get("total_entries", 0) + 1


def _failed_once_finished(body: Any) -> None:
    """Only terminal states are rewritten, so the suite still waits for the real run to finish."""
    if body.get("state") in ("success", "failed"):
        body["state"] = "failed"


def _forbidden(ex: Exchange) -> Reply:
    """The release's own refusal for lack of permission (problem details on 2.x, `detail` on 3.x)."""
    if ex.request.path.startswith("/api/v1"):
        return Response.of_json(
            403,
            {"type": "about:blank", "title": "Forbidden", "status": 403, "detail": None},
            "application/problem+json",
        )
    return Response.of_json(403, {"detail": "Forbidden"})


def _zero_total_when_empty(body: Any) -> None:
    if not body.get("dags"):
        body["total_entries"] = 0


# ================================================================= the corpus

CORPUS: list[Mutation] = [
    # ---------------------------------------------------------- posture
    Mutation(
        "auth_bypassed",
        ("posture.authentication_enforced", "scenario.auth.no_credentials_rejected"),
        "anonymous requests are served as if they came from the admin",
        path=PROTECTED,
        anonymous=True,
        request=with_real_credentials,
    ),
    Mutation(
        "experimental_api_open",
        ("posture.experimental_api_off",),
        "the legacy experimental API answers anonymous requests",
        path=r"/api/experimental/.*",
        versions="<3",
        request=reply(200, {"status": "OK"}),
    ),
    Mutation(
        "config_exposed",
        ("posture.config_not_exposed",),
        "GET /config answers 200 with the configuration (expose_config on)",
        path=r"{api}/config",
        request=reply(200, {"sections": [{"name": "core", "options": [{"key": "sql_alchemy_conn", "value": "x"}]}]}),
    ),
    # ---------------------------------------------------------- service
    Mutation(
        "version_mismatch",
        ("scenario.service.version_public",),
        "the version endpoint contradicts the version detected at the start of the run",
        path=r"{api}/version",
        status=(200,),
        skip=1,
        response=edit_json(set_fields(version="0.0.1")),
    ),
    Mutation(
        "version_needs_auth",
        ("scenario.service.version_public",),
        "the version endpoint refuses anonymous requests",
        path=r"{api}/version",
        anonymous=True,
        status=(200,),
        skip=1,
        response=replace_body(401, _problem(401, "Unauthorized")),
    ),
    Mutation(
        "health_component_missing",
        ("scenario.service.health_public",),
        "the health body lacks a component the version documents (triggerer)",
        path=HEALTH,
        status=(200,),
        response=edit_json(drop_field("triggerer")),
    ),
    Mutation(
        "health_needs_auth",
        ("scenario.service.health_public",),
        "the health endpoint refuses anonymous requests",
        path=HEALTH,
        anonymous=True,
        request=reply(401, _problem(401, "Unauthorized")),
    ),
    Mutation(
        "served_spec_drift",
        ("scenario.service.served_spec_matches_reference",),
        "the served OpenAPI spec renames an operation of the reference spec",
        path=SERVED_SPEC,
        status=(200,),
        response=_rename_operation("get_pools", "list_pools"),
    ),
    # ---------------------------------------------------------- auth
    Mutation(
        "anonymous_gets_403",
        ("scenario.auth.no_credentials_rejected", "scenario.auth.error_body_shape"),
        "missing credentials answered 403 instead of 401 (FAB public role)",
        path=PROTECTED,
        anonymous=True,
        status=(401,),
        response=set_status(403),
    ),
    Mutation(
        "unauthorized_body_wrong_shape",
        ("scenario.auth.error_body_shape",),
        "a 401 carries an error body of the wrong shape",
        path=PROTECTED,
        anonymous=True,
        status=(401,),
        response=edit_json(lambda b: {"error": "unauthorized"}),
    ),
    Mutation(
        "unauthorized_content_type_wrong",
        ("scenario.auth.error_body_shape",),
        "a 401 is served with an undocumented content type",
        path=PROTECTED,
        anonymous=True,
        status=(401,),
        response=set_content_type("text/plain"),
    ),
    Mutation(
        "any_password_accepted",
        ("scenario.auth.wrong_password_rejected",),
        "wrong passwords are accepted (Basic on 2.x, token login on 3.x)",
        method=("GET", "POST", "PATCH", "DELETE", "PUT"),
        path=r"{api}/.*|/auth/token",
        request=_accept_any_password,
    ),
    Mutation(
        "token_login_200",
        ("scenario.auth.token_login",),
        "token login answers 200 where 201 is documented",
        method="POST",
        path=r"/auth/token",
        versions=">=3",
        status=(201,),
        response=set_status(200),
    ),
    Mutation(
        "foreign_token_accepted",
        ("scenario.auth.malformed_token_rejected",),
        "bearer tokens the server did not issue are accepted",
        method=("GET", "POST", "PATCH", "DELETE", "PUT"),
        path=r"{api}/.*|/auth/token",
        versions=">=3",
        request=_accept_foreign_tokens,
        response=_remember_issued_token,
    ),
    # ---------------------------------------------------------- DAGs
    Mutation(
        "dag_field_missing",
        ("scenario.dags.list_fields",),
        "DAGs in the listing lack a documented field (fileloc)",
        path=DAGS,
        status=(200,),
        response=edit_items("dags", drop_field("fileloc")),
    ),
    Mutation(
        "dag_field_mistyped",
        ("scenario.dags.get_probe",),
        "a DAG's owners come back as a string instead of a list",
        path=DAG,
        anonymous=False,
        status=(200,),
        response=edit_json(set_fields(owners="airflow-conformance")),
    ),
    Mutation(
        "dag_source_missing",
        ("scenario.dags.source_readable",),
        "the DAG source cannot be opened from the DAG's token",
        path=r"{api}/dagSources/.+",
        request=reply(404, _problem(404, "DAG source not found")),
    ),
    Mutation(
        "pause_ignored",
        ("scenario.dags.pause_via_update_mask",),
        "PATCH is_paused answers 200 but does not change the DAG",
        method="PATCH",
        path=DAG,
        query=param("update_mask", lambda v: v == "is_paused"),
        request=pretend_applied(200),
    ),
    Mutation(
        "other_update_mask_accepted",
        ("scenario.dags.other_update_mask_rejected",),
        "PATCH with an update_mask other than is_paused is accepted",
        method="PATCH",
        path=DAG,
        query=param("update_mask", lambda v: v != "is_paused"),
        request=pretend_applied(200),
    ),
    Mutation(
        "not_found_body_wrong_shape",
        ("scenario.dags.unknown_dag_not_found",),
        "a 404 for an unknown DAG carries an error body of the wrong shape",
        path=DAG,
        status=(404,),
        response=edit_json(lambda b: {"error": "not found"}),
    ),
    Mutation(
        "unknown_query_param_ignored",
        ("scenario.dags.unknown_query_parameter",),
        "unknown query parameters are silently ignored where 2.x documents 400",
        path=DAGS,
        versions="<3",
        query=_has_unknown_param,
        request=edit_query(_drop_unknown_params),
    ),
    Mutation(
        "unknown_query_param_rejected",
        ("scenario.dags.unknown_query_parameter",),
        "unknown query parameters are rejected where 3.x ignores them",
        path=DAGS,
        versions=">=3",
        query=_has_unknown_param,
        request=reply(422, {"detail": [{"type": "extra_forbidden", "loc": ["query"], "msg": "unknown parameter"}]}),
    ),
    Mutation(
        "dag_not_deleted",
        ("scenario.dags.delete_disposable",),
        "DELETE of a DAG answers 204 and leaves the DAG in place",
        method="DELETE",
        path=DAG,
        request=pretend_applied(204),
    ),
    Mutation(
        "reparse_refused",
        ("scenario.dags.reparse_accepted",),
        "a re-parse request for a deployed DAG file is refused",
        method="PUT",
        path=r"{api}/parseDagFile/.+",
        request=reply(404, _problem(404, "File not found")),
    ),
    # ---------------------------------------------------------- DAG runs (the completed probe run)
    Mutation(
        "trigger_state_not_queued",
        ("scenario.dag_runs.trigger_queued",),
        "a triggered run is reported in state running instead of queued",
        method="POST",
        path=RUNS,
        status=(200,),
        response=edit_json(set_fields(state="running")),
    ),
    Mutation(
        "run_id_not_manual",
        ("scenario.dag_runs.default_run_id",),
        "runs triggered without an id are not named manual__<date>",
        method="POST",
        path=RUNS,
        body=lacks_key("dag_run_id"),
        request=edit_request_json(_name_runs_differently),
    ),
    Mutation(
        "conf_not_round_tripped",
        ("scenario.dag_runs.conf_round_trip",),
        "the run reads back without the conf it was triggered with",
        path=RUN,
        status=(200,),
        response=edit_json(set_fields(conf={})),
    ),
    Mutation(
        "run_reports_failed",
        ("scenario.dag_runs.reaches_success",),
        "a run of the probe DAG that finished is reported failed",
        path=RUN,
        status=(200,),
        response=edit_json(_failed_once_finished),
    ),
    Mutation(
        "xcom_missing",
        ("scenario.task_instances.xcom_readable",),
        "the XCom pushed by the probe task is not listed",
        path=TASK_INSTANCE + r"/xcomEntries",
        status=(200,),
        response=edit_json(lambda b: {"xcom_entries": [], "total_entries": 0}),
    ),
    Mutation(
        "log_missing_output",
        ("scenario.task_instances.log_readable",),
        "the task log is served without what the task logged",
        path=TASK_INSTANCE + r"/logs/\d+",
        status=(200,),
        response=_empty_log,
    ),
    Mutation(
        "task_instances_missing",
        ("scenario.task_instances.list_for_run",),
        "the run's task instances are not listed",
        path=RUN + r"/taskInstances",
        status=(200,),
        response=edit_json(lambda b: {"task_instances": [], "total_entries": 0}),
    ),
    # ---------------------------------------------------------- DAG runs (contract of the endpoints)
    Mutation(
        "read_only_state_accepted",
        ("scenario.dag_runs.state_is_read_only",),
        "a trigger body setting the read-only `state` is accepted (the field is dropped, the run created)",
        method="POST",
        path=RUNS,
        body=has_key("state"),
        request=edit_request_json(_strip("state")),
    ),
    Mutation(
        "duplicate_run_accepted",
        ("scenario.dag_runs.duplicate_logical_date_conflict", "scenario.dag_runs.duplicate_run_id_conflict"),
        "a duplicate trigger answers 200 with a made-up run instead of 409",
        method="POST",
        path=RUNS,
        status=(409,),
        response=_fabricate_duplicate_run,
    ),
    Mutation(
        "duplicate_run_500",
        ("scenario.dag_runs.duplicate_logical_date_conflict", "scenario.dag_runs.duplicate_run_id_conflict"),
        "a duplicate trigger fails with 500 (like apache/airflow#15150, recorded only for 2.0.x)",
        method="POST",
        path=RUNS,
        status=(409,),
        response=replace_body(500, _problem(500, "Internal Server Error")),
    ),
    Mutation(
        "run_not_deleted",
        ("scenario.dag_runs.delete_then_not_found",),
        "DELETE of a run answers 204 and the run still reads back",
        method="DELETE",
        path=RUN,
        times=1,
        request=pretend_applied(204),
    ),
    Mutation(
        "run_state_patch_ignored",
        ("scenario.dag_runs.patch_state",),
        "PATCH of a run's state answers 200 and changes nothing",
        method="PATCH",
        path=RUN,
        body=lambda b: isinstance(b, dict) and b.get("state") in ("failed", "success"),
        request=pretend_applied(200),
    ),
    Mutation(
        "invalid_run_state_accepted",
        ("scenario.dag_runs.patch_invalid_state_rejected",),
        "PATCH of a run to a state outside the enum is accepted",
        method="PATCH",
        path=RUN,
        body=lambda b: isinstance(b, dict) and b.get("state") not in (None, "failed", "success", "queued"),
        request=pretend_applied(200, state="running"),
    ),
    Mutation(
        "non_object_conf_accepted",
        ("scenario.dag_runs.conf_must_be_object",),
        "a trigger whose conf is not an object is accepted",
        method="POST",
        path=RUNS,
        body=lambda b: isinstance(b, dict) and "conf" in b and not isinstance(b["conf"], dict),
        request=edit_request_json(_wrap_non_object_conf),
    ),
    # ---------------------------------------------------------- paging
    Mutation(
        "default_page_size_wrong",
        ("scenario.paging.default_page_size",),
        "without `limit` the server uses a page size other than the documented default",
        path=DAGS,
        query=no_param("limit"),
        request=set_query(limit="3"),
    ),  # below any default page (local: 10/20)
    Mutation(
        "large_limit_rejected",
        ("scenario.paging.limit_above_maximum_clamped",),
        "a limit above the maximum is an error instead of being clamped",
        path=r"{api}/(dags|eventLogs)",
        query=param("limit", lambda v: as_int(v) > 1000),
        request=reply(400, _problem(400, "limit too large")),
    ),
    Mutation(
        "limit_zero_misread",
        ("scenario.paging.limit_zero",),
        "limit=0 returns one item",
        path=DAGS,
        query=param("limit", lambda v: v == "0"),
        request=set_query(limit="1"),
    ),
    Mutation(
        "negative_limit_accepted",
        ("scenario.paging.negative_limit_rejected",),
        "a negative limit is ignored instead of rejected",
        path=DAGS,
        query=param("limit", lambda v: as_int(v) < 0),
        request=set_query(limit=None),
    ),
    Mutation(
        "total_zero_past_end",
        ("scenario.paging.offset_past_end",),
        "total_entries drops to 0 on a page past the end",
        path=DAGS,
        query=param("offset", lambda v: as_int(v) > 0),
        status=(200,),
        response=edit_json(_zero_total_when_empty),
    ),
    Mutation(
        "limit_ignored",
        ("scenario.paging.pages_partition_list",),
        "`limit` is ignored: every page holds the default page size",
        path=DAGS,
        query=param("limit", lambda v: as_int(v) < 50),
        request=set_query(limit=None),
    ),
    Mutation(
        "total_entries_off_by_one",
        ("scenario.paging.pages_partition_list",),
        "total_entries counts one item more than the list holds",
        path=DAGS,
        status=(200,),
        response=edit_json(_bump_total),
    ),
    Mutation(
        "pages_overlap",
        ("scenario.paging.pages_partition_list",),
        "consecutive pages overlap by one item",
        path=DAGS,
        query=param("offset", lambda v: as_int(v) > 0),
        request=edit_query(_shift_offset_back),
    ),
    Mutation(
        "offset_ignored",
        ("scenario.paging.pages_partition_list",),
        "`offset` is ignored: every page of GET /dags is the first page (the full listing must end, not loop)",
        path=DAGS,
        query=param("offset", lambda v: as_int(v) > 0),
        request=set_query(offset=None),
    ),
    # ---------------------------------------------------------- variables, pools, connections
    Mutation(
        "variable_not_deleted",
        ("scenario.variables.crud",),
        "DELETE of a variable answers 204 and the variable stays",
        method="DELETE",
        path=r"{api}/variables/[^/]+",
        times=1,
        request=pretend_applied(204),
    ),
    Mutation(
        "variable_duplicate_accepted",
        ("scenario.variables.crud",),
        "creating an existing variable answers 201 instead of 409",
        method="POST",
        path=r"{api}/variables",
        versions=">=3",
        status=(409,),
        response=_echo_created(201),
    ),
    Mutation(
        "variable_mask_patch_ignored",
        ("scenario.variables.patch_update_mask",),
        "PATCH ?update_mask=value answers 200 and leaves the value unchanged",
        method="PATCH",
        path=r"{api}/variables/[^/]+",
        query=param("update_mask"),
        request=pretend_applied(200),
    ),
    Mutation(
        "pool_duplicate_accepted",
        ("scenario.pools.crud",),
        "creating an existing pool answers 200 instead of 409",
        method="POST",
        path=r"{api}/pools",
        status=(409,),
        response=_echo_created(200),
    ),
    Mutation(
        "pool_partial_patch_ignored",
        ("scenario.pools.partial_patch",),
        "PATCH of a pool's slots answers 200 and changes nothing",
        method="PATCH",
        path=r"{api}/pools/[^/]+",
        body=lambda b: isinstance(b, dict) and set(b) == {"slots"},
        request=pretend_applied(200),
    ),
    Mutation(
        "connection_patch_ignored",
        ("scenario.connections.crud",),
        "PATCH of a connection answers 200 and changes nothing",
        method="PATCH",
        path=r"{api}/connections/[^/]+",
        request=pretend_applied(200),
    ),
    Mutation(
        "connection_password_leaked",
        ("scenario.connections.password_write_only",),
        "GET returns the password a connection was created with",
        method=("POST", "GET"),
        path=r"{api}/connections(/[^/]+)?",
        status=(200, 201),
        request=_remember_connection_password,
        response=_leak_connection_password,
    ),
    # ---------------------------------------------------------- import errors
    Mutation(
        "import_error_missing",
        ("scenario.import_errors.broken_probe_listed", "scenario.import_errors.by_id"),
        "the broken probe file is not listed as an import error",
        path=r"{api}/importErrors",
        status=(200,),
        response=edit_json(_drop_broken_file),
    ),
    Mutation(
        "import_error_fields_missing",
        ("scenario.import_errors.broken_probe_listed",),
        "import errors are listed without their stack trace",
        path=r"{api}/importErrors",
        status=(200,),
        response=edit_items("import_errors", drop_field("stack_trace")),
    ),
    Mutation(
        "unknown_import_error_found",
        ("scenario.import_errors.by_id",),
        "an unknown import error id answers 200 with a made-up entry",
        path=r"{api}/importErrors/\d+",
        status=(404,),
        response=_fabricate_import_error,
    ),
    # ---------------------------------------------------------- documented effects (the effects tier)
    Mutation(
        "order_by_ignored",
        ("effect.get_pools",),
        "order_by is ignored: pools come in the server's default order",
        path=r"{api}/pools",
        query=param("order_by"),
        request=set_query(order_by=None),
    ),
    Mutation(
        "filter_ignored",
        ("effect.get_event_logs",),
        "the event filter of the event log is ignored: every entry comes back",
        path=r"{api}/eventLogs",
        query=param("event"),
        request=set_query(event=None),
    ),
    Mutation(
        "update_mask_ignored",
        ("effect.patch_connection",),
        "a patch applies every field of its body whatever update_mask names",
        method="PATCH",
        path=r"{api}/connections/[^/]+",
        query=param("update_mask"),
        request=set_query(update_mask=None),
    ),
    Mutation(
        "write_answers_but_keeps",
        ("effect.patch_connection",),
        "a patch without a mask answers 200 with the object but changes nothing",
        method="PATCH",
        path=r"{api}/connections/[^/]+",
        query=no_param("update_mask"),
        request=pretend_applied(200),
    ),
    Mutation(
        "dry_run_applied",
        ("effect.post_clear_task_instances",),
        "a clear with dry_run true is carried out for real",
        method="POST",
        path=r"{api}/dags/[^/]+/clearTaskInstances",
        body=lambda b: isinstance(b, dict) and b.get("dry_run") is True,
        request=edit_request_json(lambda b: {**b, "dry_run": False}),
    ),
    Mutation(
        "valid_state_change_500",
        ("effect.patch_task_instance",),
        "a valid state change of an existing task instance answers 500",
        method="PATCH",
        path=TASK_INSTANCE,
        body=lambda b: isinstance(b, dict) and "new_state" in b and b.get("dry_run") is not True,
        request=reply(500, _problem(500, "Internal Server Error")),
    ),
    Mutation(
        "valid_create_500",
        ("effect.post_pool",),
        "a valid create of a pool answers 500",
        method="POST",
        path=r"{api}/pools",
        body=has_key("name", "slots"),
        request=reply(500, _problem(500, "Internal Server Error")),
    ),
    Mutation(
        "excluded_filter_ignored",
        ("effect.get_event_logs",),
        "the excluded_events filter of the event log is ignored: the excluded events come back",
        path=r"{api}/eventLogs",
        query=param("excluded_events"),
        request=set_query(excluded_events=None),
    ),
    Mutation(
        "filter_leaves_out_matching",
        ("effect.get_dag_runs",),
        "a filtered DAG-run list leaves out the suite's own matching runs (its total lowered to match)",
        path=RUNS,
        query=param("state"),
        status=(200,),
        response=edit_json(_drop_own_runs),
    ),
    Mutation(
        "body_filter_ignored",
        ("effect.get_dag_runs_batch",),
        "a list body's `states` filter is ignored: runs of every state come back",
        method="POST",
        path=RUNS + r"/list",
        versions="<3",
        body=has_key("states"),
        request=edit_request_json(lambda b: {k: v for k, v in b.items() if k != "states"}),
    ),
    Mutation(
        "body_filter_ignored_v2",
        ("effect.get_list_dag_runs_batch",),
        "a list body's `states` filter is ignored: runs of every state come back",
        method="POST",
        path=RUNS + r"/list",
        versions=">=3",
        body=has_key("states"),
        request=edit_request_json(lambda b: {k: v for k, v in b.items() if k != "states"}),
    ),
    Mutation(
        "map_index_ignored",
        ("effect.get_xcom_entry",),
        "an XCom read ignores map_index: a map index the entry does not have answers the entry",
        path=TASK_INSTANCE + r"/xcomEntries/[^/]+",
        query=param("map_index"),
        request=set_query(map_index=None),
    ),
    Mutation(
        "fields_ignored",
        ("effect.get_dag",),
        "a DAG read ignores `fields`: every field comes back",
        path=DAG,
        versions="<3",
        query=param("fields"),
        request=set_query(fields=None),
    ),
    Mutation(
        "include_future_ignored",
        ("effect.post_clear_task_instances",),
        "a clear ignores include_future: the later runs' task instances are left out",
        method="POST",
        path=r"{api}/dags/[^/]+/clearTaskInstances",
        body=lambda b: isinstance(b, dict) and b.get("include_future") is True and b.get("dry_run") is True,
        request=edit_request_json(lambda b: {**b, "include_future": False}),
    ),
    Mutation(
        "trigger_field_dropped",
        ("effect.post_dag_run",),
        "a trigger drops the note of its body: the run reads back without it",
        method="POST",
        path=RUNS,
        versions="<3",
        body=has_key("note", "dag_run_id"),
        request=edit_request_json(lambda b: {k: v for k, v in b.items() if k != "note"}),
    ),
    Mutation(
        "trigger_field_dropped_v2",
        ("effect.trigger_dag_run",),
        "a trigger drops the note of its body: the run reads back without it",
        method="POST",
        path=RUNS,
        versions=">=3",
        body=has_key("note", "dag_run_id"),
        request=edit_request_json(lambda b: {k: v for k, v in b.items() if k != "note"}),
    ),
    Mutation(
        "bulk_skip_overwrites",
        ("effect.bulk_variables",),
        "a bulk create with action_on_existence=skip overwrites the existing variable",
        method="PATCH",
        path=r"{api}/variables",
        versions=">=3",
        body=lambda b: (
            isinstance(b, dict)
            and any(isinstance(a, dict) and a.get("action_on_existence") == "skip" for a in b.get("actions") or ())
        ),
        request=edit_request_json(
            lambda b: {
                "actions": [
                    {**a, "action_on_existence": "overwrite"} if a.get("action_on_existence") == "skip" else a
                    for a in b["actions"]
                ]
            }
        ),
    ),
    # ---------------------------------------------------------- authorization (role identities of the local target)
    Mutation(
        "viewer_write_applied",
        ("authorization.patch_variable",),
        "a viewer's update of a variable is answered 200 and applied (served with the admin's credentials)",
        method="PATCH",
        path=r"{api}/variables/[^/]+",
        request=when_caller(VIEWER, with_real_credentials),
    ),
    Mutation(
        "refusal_turned_into_200",
        ("authorization.get_variable",),
        "a 403 refusal of a variable read is turned into 200 with an empty body",
        path=r"{api}/variables/[^/]+",
        status=(403,),
        response=lambda ex, resp: Response(200),
    ),
    Mutation(
        "anonymous_served",
        ("authorization.get_connections",),
        "a request for the connections without credentials is served (as the admin)",
        path=r"{api}/connections",
        anonymous=True,
        request=with_real_credentials,
    ),
    Mutation(
        "op_refused_read",
        ("authorization.get_pools",),
        "an op is refused the pool listing it may read (403 with the release's refusal body)",
        path=r"{api}/pools",
        request=when_caller(OP, _forbidden),
    ),
]


# ================================================================= what the official clients must refuse


def _drop_cron_value(dag: dict) -> None:
    """A CronExpression without its required `value` (2.x: the only required fields of a DAG are its schedule's)."""
    if isinstance(dag.get("schedule_interval"), dict) and dag["schedule_interval"].get("__type") == "CronExpression":
        dag["schedule_interval"].pop("value", None)


def _health_status_as_number(body: Any) -> None:
    if isinstance(body, dict) and isinstance(body.get("metadatabase"), dict):
        body["metadatabase"]["status"] = 1


# Answers that break the contract in one field: the official client of the release must refuse them,
# so `client.<operationId>` (the client check, conformance.clients) must end `failed`. Each targets one
# operation and no two share one, so they can run together: a client result depends only on the answers
# of its own operation. CLIENT_VIA are the checks whose requests (with the run's own start-up reads of
# GET /dags and the probe DAG) carry those answers; tests/system/test_detection.py runs only those.
CLIENT_VIA = ("scenario.dags.list_fields", "scenario.dags.get_probe", "scenario.service.health_public")
CLIENT_CORPUS: list[Mutation] = [
    Mutation(
        "client_null_required_field",
        ("client.get_dag",),
        "a field the spec marks required and not nullable (`fileloc`) is null",
        path=DAG,
        status=(200,),
        response=edit_json(set_fields(fileloc=None)),
    ),
    Mutation(
        "client_required_field_dropped_v1",
        ("client.get_dags",),
        "a DAG's CronExpression schedule lacks its required `value`",
        path=DAGS,
        versions="<3",
        status=(200,),
        response=edit_items("dags", _drop_cron_value),
    ),
    Mutation(
        "client_required_field_dropped_v2",
        ("client.get_dags",),
        "listed DAGs lack their required `dag_id`",
        path=DAGS,
        versions=">=3",
        status=(200,),
        response=edit_items("dags", drop_field("dag_id")),
    ),
    Mutation(
        "client_type_changed",
        ("client.get_health",),
        "the metadatabase's health `status` is a number where the spec has a string",
        path=HEALTH,
        status=(200,),
        response=edit_json(_health_status_as_number),
    ),
]
# the field each client case breaks: the client's refusal must name it
CLIENT_FIELD = {
    "client_null_required_field": "fileloc",
    "client_required_field_dropped_v1": "value",
    "client_required_field_dropped_v2": "dag_id",
    "client_type_changed": "status",
}
