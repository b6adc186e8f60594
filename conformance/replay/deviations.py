"""Replaying a deviation's reproduction against a target: does the recorded defect still occur?

Each reproduction in the data names an operation (or `each: true`, for every
operation the deviation lists); method and path come from the target's
reference spec, path parameters are bound to the suite's probe objects or to
names of this replay that were never created. A `mutate:` reproduction is
built from the spec (see mutations.py) and meets the target as a run's cases
do: its variable, pool, connection and DAG run are created first (the run's
task awaited), vacant server ids are registered with the guard. Every request
goes through the run's guarded session, so a replay is as safe as a run: a
request the guard refuses is reported as not replayed, never sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import requests

from conformance.checks.documented import operation
from conformance.context import CheckContext
from conformance.expectations.deviations import CLIENT_CHECK, Deviation
from conformance.expectations.judge import verdicts
from conformance.expectations.mutations import NothingToMutate, mutate
from conformance.expectations.mutations import fill as _fill
from conformance.model.resources import BY_PARAM, SANDBOX_KINDS
from conformance.probes import runs
from conformance.probes.dags import (
    DISPOSABLE_DAG_ID,
    PROBE_DAG_ID,
    PROBE_TASK_ID,
    TERMINAL,
    XCOM_KEY,
    unique_logical_date,
)
from conformance.safety.cleanup import bring_back
from conformance.safety.guard import RequestRefused
from conformance.safety.vacancy import VACANT_PARAMS, vacant_id

OCCURS, ABSENT, NOT_REPLAYED = "occurs", "does not occur", "not replayed"
# the answer matches the signature but passes the named checks against the release's spec: not a deviation
PERMITTED = "passes its checks"
# a negative control (the request without the trigger): clean when it does not produce the answer
CONTROL_CLEAN, CONTROL_FAILS = "control clean", "control produces the answer"


@dataclass
class Replay:
    deviation: Deviation
    operation: str
    verdict: str  # OCCURS | ABSENT | NOT_REPLAYED | PERMITTED | CONTROL_CLEAN | CONTROL_FAILS
    detail: str = ""
    curl: str = ""
    control: bool = False  # a replay of the entry's negative control, not of its reproduction

    def line(self) -> str:
        flag = " (intermittent)" if self.deviation.intermittent and self.verdict != OCCURS else ""
        what = f"control {self.operation}" if self.control else self.operation
        return f"{self.deviation.id:<48} {what:<44} {self.verdict}{flag}" + (f": {self.detail}" if self.detail else "")

    @property
    def bad(self) -> bool:
        """Whether this replay contradicts the entry: the defect is absent or permitted, or its control fails."""
        if self.control:
            return self.verdict == CONTROL_FAILS
        return self.verdict != OCCURS and not self.deviation.intermittent


def bindings(ctx: CheckContext) -> dict[str, str]:
    """Values the placeholders of a reproduction stand for on this target."""
    token = (ctx.probe_dags.get(PROBE_DAG_ID) or {}).get("file_token") or f"{ctx.prefix}missing_token"
    vacant = "2147480000"
    for param, rel in VACANT_PARAMS.items():  # registered with the guard, as a run's samples do
        found = vacant_id(ctx.session, ctx.guard, param, rel) if param in _path_params(ctx) else None
        vacant = str(found) if found is not None else vacant
    return {
        "probe_dag": PROBE_DAG_ID,
        "disposable_dag": DISPOSABLE_DAG_ID,
        "task": PROBE_TASK_ID,
        "xcom_key": XCOM_KEY,
        "missing": f"{ctx.prefix}missing",
        "prefix": ctx.prefix,
        "file_token": token,
        "run": f"{ctx.prefix}replay_run",
        "vacant_id": vacant,
        "asset": _listed_asset(ctx) or vacant,
    }


def _listed_asset(ctx: CheckContext) -> str:
    """The id of an asset the target lists (one read), for reproductions that need an existing one ("" if none)."""
    if "get_assets" not in ctx.router.by_id:
        return ""
    try:
        items = ctx.session.call("GET", "/assets", params={"limit": 1}).json().get("assets") or []
    except (requests.RequestException, ValueError, AttributeError, RequestRefused):
        return ""
    return str(items[0].get("id", "")) if items and isinstance(items[0], dict) else ""


def _path_params(ctx: CheckContext) -> set[str]:
    return {p for route in ctx.router.by_id.values() for p in route.params}


DEFAULT_PARAMS = {
    "dag_id": "{probe_dag}",
    "task_id": "{task}",
    "xcom_key": "{xcom_key}",
    "file_token": "{file_token}",
    "map_index": "0",
    "try_number": "1",
    "task_try_number": "1",
    "event_log_id": "{vacant_id}",
    "import_error_id": "{vacant_id}",
    "asset_id": "{vacant_id}",
    "backfill_id": "{vacant_id}",
    "dataset_id": "{vacant_id}",
    "job_id": "{vacant_id}",
}


# Path parameters a `mutate` reproduction binds to objects this replay creates, as a run's samples do:
# a write on a name that does not exist stops at 404 before the server shows how it treats the input.
OWNED_PARAMS = {**{k.param: "{prefix}replay_obj_" + k.short for k in SANDBOX_KINDS}, "dag_run_id": "{run}_obj"}


def _owned(ctx: CheckContext, param: str, names: dict[str, str], for_delete: bool = False) -> str:
    """Create the object a path parameter names and return its name.

    Created before every use: an earlier reproduction (a DELETE) may have removed it, and a
    second create of a name that exists is a harmless 409. DELETEs get objects of their own,
    so that deleting a run's task instance never leaves the shared run without one.
    """
    name = _fill(OWNED_PARAMS[param], names) + ("_del" if for_delete else "")
    date_field = ctx.expectations.logical_date_field()
    if param == "dag_run_id":
        path, body = f"/dags/{PROBE_DAG_ID}/dagRuns", {"dag_run_id": name, date_field: unique_logical_date()}
    else:
        path, body = BY_PARAM[param].collection, BY_PARAM[param].body(name)
    try:
        if param == "dag_run_id":  # its task runs only while the probe DAG is unpaused; `finish` restores the state
            runs.set_paused(ctx.session, PROBE_DAG_ID, False)
        created = _send(ctx.session, {"method": "POST", "path": path, "body": body}).status_code in (200, 201)
        if created and param == "dag_run_id":
            names["owned_try"] = _await_task_instance(ctx, name)
    except (RequestRefused, requests.RequestException):
        pass  # the reproduction then meets a 404 and says so
    return name


def _await_task_instance(ctx: CheckContext, run_id: str) -> str:
    """Wait until the probe task of a new run has run once (bounded); the try number its log is under.

    3.x makes the task instance only when the scheduler picks the run up, and a log
    exists only after the first try: operations on either answer 404 until then.
    The try number is 0-based on some 3.x releases, so it is read, not assumed.
    """
    ti = runs.wait_until_done(ctx.session, f"{runs.run_path(PROBE_DAG_ID, run_id)}/taskInstances/{PROBE_TASK_ID}")
    return str(ti.get("try_number", 1)) if ti.get("state") in TERMINAL else "1"


def expand(dev: Deviation, available: set[str]) -> list[tuple[str, dict]]:
    """(operation, reproduction) pairs to send; `each: true` stands for every listed operation without its own."""
    out = []
    named = {rep.get("operation") for rep in dev.reproduce}
    for rep in dev.reproduce:
        if rep.get("each"):  # an operation with its own reproduction is replayed by that one only
            out += [(op, rep) for op in dev.operations if op in available and op not in named]
        elif rep.get("operation") in available:
            out.append((rep["operation"], rep))
    return out


def _on_top_of(built: dict, rep: dict) -> dict:
    """The reproduction's own query, path and body fields laid over the request `mutate` built."""
    out = {
        **{k: v for k, v in rep.items() if k not in ("body", "data")},
        "query": {**built.get("query", {}), **(rep.get("query") or {})},
        "path": {**built.get("path", {}), **(rep.get("path") or {})},
    }
    if "data" in built:
        out["data"] = built["data"]
    elif isinstance(built.get("body"), dict) and isinstance(rep.get("body"), dict):
        out["body"] = {**built["body"], **rep["body"]}
    elif "body" in rep or "body" in built:
        out["body"] = rep["body"] if "body" in rep else built["body"]  # a body of another shape replaces it
    return out


def replay_one(
    ctx: CheckContext, dev: Deviation, op_id: str, rep: dict, names: dict[str, str], read_answer=None
) -> Replay:
    """Send the setup requests and the reproduction; compare the answer with the recorded signature.

    An entry that excuses only the official clients' reading (`client_parse`) is judged on what a client
    makes of the answer: `read_answer(deviation, route, response)` gives its errors ("<field>: <error>").
    """
    route = ctx.router.by_id[op_id]
    if rep.get("mutate"):
        try:
            built = mutate(rep["mutate"], ctx.spec, route, ctx.prefix)
        except NothingToMutate as exc:
            return Replay(dev, op_id, NOT_REPLAYED, str(exc))
        rep = _on_top_of(built, rep)
    rel = ctx.router.relative(route.template)
    params = {p: _fill((rep.get("path") or {}).get(p, DEFAULT_PARAMS.get(p, "{missing}")), names) for p in route.params}
    if rep.get("mutate"):
        params.update(
            {
                p: _owned(ctx, p, names, route.method == "DELETE")
                for p in route.params
                if p in OWNED_PARAMS and p not in (rep.get("path") or {})
            }
        )
        params.update(
            {
                p: names.get("owned_try", "1")
                for p in route.params
                if p in ("try_number", "task_try_number")
                and "dag_run_id" in route.params
                and p not in (rep.get("path") or {})
            }
        )
    path = rel.format(**{k: requests.utils.quote(str(v), safe="") for k, v in params.items()})
    session = ctx.session_as(None) if rep.get("anonymous") else ctx.session
    if DISPOSABLE_DAG_ID in json.dumps(
        [params, _fill(rep, names)], default=str
    ):  # an earlier replay may have deleted it
        bring_back(ctx.session, ctx.probe_dags, DISPOSABLE_DAG_ID)
    try:
        for step in rep.get("setup") or []:
            if step.get("owned") == "dag_run":  # data the defect needs: a run of its own whose probe task has run
                _owned(ctx, "dag_run_id", names)
                continue
            _send(ctx.session, _fill(step, names))
        request = {
            "method": route.method,
            "path": path,
            **{k: _fill(v, names) for k, v in rep.items() if k in ("query", "body", "headers", "data", "content_type")},
        }
        try:
            resp = _send(session, request)
        except requests.ConnectionError:  # a kept-alive connection the server dropped after its last 500: once more
            resp = _send(session, request)
    except RequestRefused as exc:
        return Replay(dev, op_id, NOT_REPLAYED, f"refused by the safety guard: {exc.reason}")
    except requests.RequestException as exc:
        return Replay(dev, op_id, NOT_REPLAYED, f"no answer: {type(exc).__name__}")
    ctype = (resp.headers.get("Content-Type") or "").split(";")[0].strip()
    try:
        doc = resp.json()
    except ValueError:
        doc = None
    curl = ctx.redactor.curl(resp.request) if resp.request is not None else ""
    if dev.checks == (CLIENT_CHECK,):  # a defect an official client shows: its own reading of the answer decides
        if read_answer is None:
            return Replay(dev, op_id, NOT_REPLAYED, "judged by an official client's reading; none was given", curl)
        errors = read_answer(dev, route, resp) or [""]
    else:  # a signature on the response-schema error needs the error, as the run's validation reports it
        errors = (ctx.validator.errors(resp) or [""]) if dev.response.schema_error else [""]
    if any(dev.response.matches(resp.status_code, ctype, resp.text[:8000], doc, error) for error in errors):
        passed = _passed_checks(ctx, dev, op_id, rep, resp, ctype)
        if passed:
            return Replay(
                dev,
                op_id,
                PERMITTED,
                f"HTTP {resp.status_code} {ctype or '-'} matches, but passes "
                f"{', '.join(passed)} against the {ctx.spec_version} spec: behaviour the spec permits",
                curl,
            )
        return Replay(dev, op_id, OCCURS, f"HTTP {resp.status_code} {ctype}", curl)
    seen = " ".join(resp.text[:160].split())
    return Replay(dev, op_id, ABSENT, f"HTTP {resp.status_code} {ctype or '-'}: {seen}", curl)


def _passed_checks(
    ctx: CheckContext, dev: Deviation, op_id: str, rep: dict, resp: requests.Response, ctype: str
) -> list[str]:
    """The named checks the replayed answer passes when judged against the release's reference spec."""
    mutations = rep.get("mutate") or []
    needs_schema = any(c in ("response_schema_conformance", "response_schema") for c in dev.checks)
    judged = verdicts(
        dev.checks,
        ctx.spec,
        operation(ctx.spec, op_id),
        resp.status_code,
        ctype,
        resp.content,
        schema_errors=ctx.validator.errors(resp) if needs_schema else (),
        mutations=[mutations] if isinstance(mutations, str) else mutations,
    )
    return [check for check, fails in judged.items() if fails is False]


def controls(dev: Deviation, available: set[str]) -> list[tuple[str, dict]]:
    """(operation, control reproduction) pairs: the same requests without the trigger."""
    return [(rep["operation"], rep) for rep in dev.control if rep.get("operation") in available]


def _as_control(replay: Replay) -> Replay:
    """A control is clean when its answer is not the recorded defect (absent, or permitted by the spec)."""
    verdict = {OCCURS: CONTROL_FAILS, NOT_REPLAYED: NOT_REPLAYED}.get(replay.verdict, CONTROL_CLEAN)
    return Replay(replay.deviation, replay.operation, verdict, replay.detail, replay.curl, control=True)


def _send(session, step: dict) -> requests.Response:
    method = str(step.get("method", "GET")).upper()
    # redirects are answers too (a 307 is what the run sees): never followed
    kwargs: dict = {
        "params": step.get("query") or None,
        "headers": step.get("headers") or None,
        "allow_redirects": False,
    }
    if "body" in step:
        kwargs["json"] = step["body"]
    if "data" in step:
        kwargs["data"] = step["data"] if isinstance(step["data"], (str, bytes)) else json.dumps(step["data"])
        kwargs["headers"] = {
            **(kwargs["headers"] or {}),
            "Content-Type": step.get("content_type") or "application/json",
        }
    return session.call(method, step["path"], **kwargs)


def verify(ctx: CheckContext, deviations: list[Deviation], read_answer=None) -> list[Replay]:
    """Replay every reproduction of the deviations that apply to this target (`read_answer`: see replay_one)."""
    names = bindings(ctx)
    available = set(ctx.router.by_id)
    out: list[Replay] = []
    for dev in deviations:
        pairs = expand(dev, available)
        if not pairs:
            out.append(Replay(dev, "-", NOT_REPLAYED, "no listed operation exists in this release's spec"))
        for op_id, rep in pairs:
            out.append(replay_one(ctx, dev, op_id, rep, names, read_answer))
        out += [
            _as_control(replay_one(ctx, dev, op_id, rep, names, read_answer)) for op_id, rep in controls(dev, available)
        ]
    if DISPOSABLE_DAG_ID in ctx.probe_dags:  # leave the probe DAGs as found: a replayed DELETE may have removed it
        bring_back(ctx.session, ctx.probe_dags, DISPOSABLE_DAG_ID)
    return out
