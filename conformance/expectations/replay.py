"""Replaying a deviation's reproduction against a target: does the recorded defect still occur?

Each reproduction in the data names an operation (or `each: true`, for every
operation the deviation lists); method and path come from the target's
reference spec, path parameters are bound to the suite's probe objects or to
names of this replay that were never created. Every request goes through the
run's guarded session, so a replay is as safe as a run: a request the guard
refuses is reported as not replayed, never sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import requests

from conformance.expectations.deviations import Deviation
from conformance.local.probe_dags import DISPOSABLE_DAG_ID, PROBE_DAG_ID, PROBE_TASK_ID, XCOM_KEY
from conformance.safety.guard import RequestRefused

OCCURS, ABSENT, NOT_REPLAYED = "occurs", "does not occur", "not replayed"


@dataclass
class Replay:
    deviation: Deviation
    operation: str
    verdict: str  # OCCURS | ABSENT | NOT_REPLAYED
    detail: str = ""
    curl: str = ""

    def line(self) -> str:
        flag = " (intermittent)" if self.deviation.intermittent and self.verdict != OCCURS else ""
        return f"{self.deviation.id:<48} {self.operation:<44} {self.verdict}{flag}" + (f": {self.detail}" if self.detail else "")


def bindings(ctx) -> dict[str, str]:
    """Values the placeholders of a reproduction stand for on this target."""
    token = (ctx.probe_dags.get(PROBE_DAG_ID) or {}).get("file_token") or f"{ctx.prefix}missing_token"
    return {"probe_dag": PROBE_DAG_ID, "disposable_dag": DISPOSABLE_DAG_ID, "task": PROBE_TASK_ID,
            "xcom_key": XCOM_KEY, "missing": f"{ctx.prefix}missing", "prefix": ctx.prefix, "file_token": token,
            "run": f"{ctx.prefix}replay_run", "vacant_id": "2147480000"}


def _fill(value, names: dict[str, str]):
    if isinstance(value, str):
        try:
            return value.format(**names)
        except (KeyError, IndexError, ValueError):
            return value
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    return value


DEFAULT_PARAMS = {"dag_id": "{probe_dag}", "task_id": "{task}", "xcom_key": "{xcom_key}", "file_token": "{file_token}",
                  "map_index": "-1", "try_number": "1", "task_try_number": "1", "event_log_id": "{vacant_id}",
                  "import_error_id": "{vacant_id}", "asset_id": "{vacant_id}", "backfill_id": "{vacant_id}",
                  "dataset_id": "{vacant_id}", "job_id": "{vacant_id}"}


def expand(dev: Deviation, available: set[str]) -> list[tuple[str, dict]]:
    """(operation, reproduction) pairs to send; `each: true` stands for every listed operation."""
    out = []
    for rep in dev.reproduce:
        if rep.get("each"):
            out += [(op, rep) for op in dev.operations if op in available]
        elif rep.get("operation") in available:
            out.append((rep["operation"], rep))
    return out


def replay_one(ctx, dev: Deviation, op_id: str, rep: dict, names: dict[str, str]) -> Replay:
    """Send the setup requests and the reproduction; compare the answer with the recorded signature."""
    route = ctx.router.by_id[op_id]
    rel = ctx.router.relative(route.template)
    params = {p: _fill((rep.get("path") or {}).get(p, DEFAULT_PARAMS.get(p, "{missing}")), names) for p in route.params}
    path = rel.format(**{k: requests.utils.quote(str(v), safe="") for k, v in params.items()})
    session = ctx.session_as(None) if rep.get("anonymous") else ctx.session
    if rep.get("number_for_datetime"):  # a number where the spec wants a date-time string
        name = _datetime_query_param(ctx, op_id)
        if name is None:
            return Replay(dev, op_id, NOT_REPLAYED, "the operation has no date-time query parameter to put a number in")
        rep = {**rep, "query": {**(rep.get("query") or {}), name: "5"}}
    try:
        for step in rep.get("setup") or []:
            _send(ctx.session, _fill(step, names))
        resp = _send(session, {"method": route.method, "path": path, **{k: _fill(v, names) for k, v in rep.items()
                                                                       if k in ("query", "body", "headers", "data",
                                                                                "content_type")}})
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
    if dev.response.matches(resp.status_code, ctype, resp.text[:8000], doc, ""):
        return Replay(dev, op_id, OCCURS, f"HTTP {resp.status_code} {ctype}", curl)
    seen = " ".join(resp.text[:160].split())
    return Replay(dev, op_id, ABSENT, f"HTTP {resp.status_code} {ctype or '-'}: {seen}", curl)


def _datetime_query_param(ctx, op_id: str) -> str | None:
    """The first query parameter of the operation whose schema is a date-time string (or null)."""
    route = ctx.router.by_id[op_id]
    raw = (ctx.spec.get("paths") or {}).get(route.template[len(ctx.router.base_path):], {}).get(route.method.lower(), {})
    for param in raw.get("parameters") or []:
        schema = param.get("schema") or {}
        options = [schema, *(schema.get("anyOf") or [])]
        if param.get("in") == "query" and any(isinstance(o, dict) and o.get("format") == "date-time" for o in options):
            return str(param.get("name"))
    return None


def _send(session, step: dict) -> requests.Response:
    method = str(step.get("method", "GET")).upper()
    kwargs: dict = {"params": step.get("query") or None, "headers": step.get("headers") or None}
    if "body" in step:
        kwargs["json"] = step["body"]
    if "data" in step:
        kwargs["data"] = step["data"] if isinstance(step["data"], (str, bytes)) else json.dumps(step["data"])
        kwargs["headers"] = {**(kwargs["headers"] or {}), "Content-Type": step.get("content_type") or "application/json"}
    return session.call(method, step["path"], **kwargs)


def verify(ctx, deviations: list[Deviation]) -> list[Replay]:
    """Replay every reproduction of the deviations that apply to this target."""
    names = bindings(ctx)
    available = set(ctx.router.by_id)
    out: list[Replay] = []
    for dev in deviations:
        pairs = expand(dev, available)
        if not pairs:
            out.append(Replay(dev, "-", NOT_REPLAYED, "no listed operation exists in this release's spec"))
        for op_id, rep in pairs:
            out.append(replay_one(ctx, dev, op_id, rep, names))
    return out
