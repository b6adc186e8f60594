"""The one request per operation that an identity should or should not be allowed to make.

The request is the operation's smallest valid request (required query parameters and body,
built from the reference spec as the deviation replays build theirs), so a validator that
runs before the permission check has nothing to object to. Where it points differs by what
the identity is expected to get:

- `real`: at objects that exist and belong to this run (its variable, pool, connection and
  finished probe-DAG run; the probe DAGs; a create names a fresh object with the run prefix).
  Identities that must be refused get this one: a server that wrongly lets the request through
  changes something the run can read back, and only the run's own objects.
- `harmless`: at names this run never created and ids proven vacant, so the write cannot
  change anything even when it is allowed. Identities that may write get this one where the
  guard accepts it (a permission check never depends on the object existing, except where
  noted in the data), and the real one otherwise.

Reads always use `real`. Every request still goes through the guard, like any other.
"""

from __future__ import annotations

import copy
import functools
import secrets
from dataclasses import dataclass
from urllib.parse import quote

import requests

from conformance.context import CheckContext
from conformance.expectations.mutations import base_request, body_schema, fill, operation_spec
from conformance.http.client import SAFE_METHODS
from conformance.model.resources import ADMIN_KINDS, SANDBOX_KINDS, USER, OwnedKind
from conformance.probes.dags import DISPOSABLE_DAG_ID, PROBE_DAG_ID, PROBE_TASK_ID, XCOM_KEY
from conformance.safety.guard import READONLY_POSTS
from conformance.safety.vacancy import VACANT_ID_BASE
from conformance.specs.catalog import resolve
from conformance.tiers.shared.operations import BULK_FIELDS, NAMED_CREATES, NAMED_UPDATES

MARKER = "acf-authorization-probe"  # a value no run object holds: a denied update that was applied shows it
# path parameters whose harmless value is a name this run never created
HARMLESS_NAMES = ("dag_id", "dag_run_id", *(k.param for k in SANDBOX_KINDS))


@dataclass(frozen=True)
class ReadBack:
    """How the run's own identity sees whether a refused write changed anything."""

    path: str
    absent: bool = False  # a create: the named object must not exist afterwards
    fields: tuple[str, ...] = ()  # an update: these fields must read back as before (a delete: the object stays)


@dataclass
class Probe:
    op_id: str
    method: str
    path: str  # API-relative, parameters filled in
    query: dict
    body: object = None
    has_body: bool = False
    read_back: ReadBack | None = None
    harmless: bool = False

    @property
    def writes(self) -> bool:
        return self.method not in SAFE_METHODS and self.op_id not in READONLY_POSTS

    def send(self, session) -> requests.Response:
        """Send as `session`; redirects are answers (never followed), streamed bodies are read within bounds."""
        kwargs: dict = {"params": self.query or None, "allow_redirects": False, "stream": True}
        if self.has_body:
            kwargs["json"] = self.body
        return session.call(self.method, self.path, **kwargs)

    def observable(self, before: object) -> None:
        """Make an update's body differ from what the object holds, so an update applied against the rules shows."""
        if not isinstance(self.body, dict) or self.read_back is None or not self.read_back.fields:
            return
        for name in self.read_back.fields:
            current = before.get(name) if isinstance(before, dict) else None
            if isinstance(current, bool):
                self.body[name] = not current
            elif name == "slots" and isinstance(current, int):
                self.body[name] = current + 1
            elif name in ("value", "description", "note"):
                self.body[name] = MARKER


def bindings(ctx: CheckContext, samples) -> dict[str, str]:
    """Real path parameter values on this target: the run's own objects, the probe DAGs, vacant ids.

    `map_index` is 0, not -1: Flask's int converter (2.x) does not match a negative number, so a
    route with -1 in it answers 404 to everyone before any handler (or permission check) runs.
    """
    p = ctx.prefix
    owned, read = samples.owned, samples.read
    run = owned.get("dag_run") or samples.run_anchor.get("dag_run_id") or f"{p}authz_missing_run"
    first = lambda param, fallback: str((read.get(param) or [fallback])[0])  # noqa: E731
    vacant = str(VACANT_ID_BASE)
    out = {
        "dag_id": PROBE_DAG_ID,
        "dag_run_id": run,
        "task_id": samples.run_anchor.get("task_id") or PROBE_TASK_ID,
        "map_index": "0",
        "try_number": "1",
        "task_try_number": "1",
        "xcom_key": XCOM_KEY,
        **{k.param: owned.get(k.kind) or first(k.param, f"{p}authz_missing_{k.param}") for k in SANDBOX_KINDS},
        "file_token": first("file_token", f"{p}authz_missing_token"),
        "key": f"{p}authz_key",
        "group_id": f"{p}authz_group",
        "section": "core",
        "option": "dags_folder",
        "version_number": "1",
        **{k.param: f"{p}authz_missing_{k.short}" for k in ADMIN_KINDS},
        "uri": f"{p}authz_missing_uri",
        "event_log_id": first("event_log_id", vacant),
        "import_error_id": first("import_error_id", vacant),
        "asset_alias_id": first("asset_alias_id", vacant),
        "dataset_id": vacant,
        "job_id": vacant,
    }
    for param in ("asset_id", "backfill_id"):  # writes take these only when vacant (or the run's own backfill)
        values = samples.write.get(param) or read.get(param) or [vacant]
        out[param] = str(values[0])
    return out


def harmless(ctx: CheckContext, real: dict[str, str]) -> dict[str, str]:
    """The same parameters, with every name the run could own replaced by one it never created."""
    return {**real, **{param: f"{ctx.prefix}authz_missing_{param}" for param in HARMLESS_NAMES}}


def _placeholders(ctx: CheckContext, values: dict[str, str], is_harmless: bool) -> dict[str, str]:
    """What the placeholders of the spec-built requests stand for (see mutations.BASE_OVERRIDES)."""
    return {
        "probe_dag": values["dag_id"],
        "disposable_dag": values["dag_id"] if is_harmless else DISPOSABLE_DAG_ID,
        "task": PROBE_TASK_ID,
        "xcom_key": XCOM_KEY,
        "missing": f"{ctx.prefix}missing",
        "prefix": ctx.prefix,
        "run": values["dag_run_id"],
        "vacant_id": str(VACANT_ID_BASE),
    }


def build(ctx: CheckContext, op_id: str, values: dict[str, str], *, is_harmless: bool = False) -> Probe:
    """The probe of one operation with these path parameter values."""
    route = ctx.router.by_id[op_id]
    rel = ctx.router.relative(route.template)
    base = fill(copy.deepcopy(base_request(ctx.spec, route, ctx.prefix)), _placeholders(ctx, values, is_harmless))
    params = {p: str((base.get("path") or {}).get(p, values.get(p, f"{ctx.prefix}authz_{p}"))) for p in route.params}
    path = rel.format(**{k: quote(v, safe="") for k, v in params.items()})
    probe = Probe(
        op_id, route.method, path, dict(base.get("query") or {}), base.get("body"), "body" in base, harmless=is_harmless
    )
    _shape_body(ctx, probe, rel, params, values)
    probe.read_back = _read_back(ctx, route, rel, probe)
    return probe


def _shape_body(ctx: CheckContext, probe: Probe, rel: str, params: dict[str, str], values: dict[str, str]) -> None:
    """What the spec's minimum leaves out: an update names its own object, a bulk body one entity, a clear one run."""
    body = probe.body
    schema = body_schema(ctx.spec, operation_spec(ctx.spec, ctx.router.by_id[probe.op_id])) or {}
    props = schema.get("properties") or {}
    if isinstance(body, dict):  # a read-only field a spec also calls required (2.0 DAGRun.dag_id) is refused first
        for name in [k for k in body if (resolve(ctx.spec, props.get(k)) or {}).get("readOnly")]:
            del body[name]
    if isinstance(body, dict) and "dag_id" in body:  # a body naming its DAG (backfills) names the probe's DAG
        body["dag_id"] = values["dag_id"]
    if isinstance(body, dict) and "asset_id" in body:  # an asset event names a vacant asset (a negative probe)
        body["asset_id"] = int(values["asset_id"]) if values["asset_id"].isdigit() else values["asset_id"]
    if rel in NAMED_UPDATES and isinstance(body, dict):
        field, param = NAMED_UPDATES[rel]
        body[field] = params[param]
    if probe.method == "PATCH" and rel in BULK_FIELDS:
        probe.body = {
            "actions": [
                {
                    "action": "delete",
                    "entities": [f"{ctx.prefix}authz_missing_entity"],
                    "action_on_non_existence": "skip",
                }
            ]
        }
    elif probe.method == "POST" and rel.endswith("/dagRuns") and isinstance(body, dict):  # a trigger names its run
        body["dag_run_id"] = f"{ctx.prefix}authz_run_{secrets.token_hex(3)}"
    elif rel.endswith("/clearDagRuns") and isinstance(body, dict):
        body.update({"dag_runs": [{"dag_run_id": values["dag_run_id"]}], "dry_run": True})
    elif probe.method == "PATCH" and body == {} and "note" in props:
        probe.body = {"note": MARKER}
    if probe.method == "POST" and isinstance(probe.body, dict) and rel in ADMIN_CREATES:
        probe.body.update(ADMIN_CREATES[rel](ctx.prefix))
    if probe.method == "POST" and isinstance(probe.body, dict) and rel == "/connections/test":
        probe.body.update(HARMLESS_TEST)  # where [core] test_connection is on, this one is tested for real


def _admin_body(kind: OwnedKind, prefix: str) -> dict:
    """A complete user (the spec requires none of its fields; the handler needs them), named with the run prefix;
    a role's body keeps the name the spec's minimum gave it (prefixed) and adds what its create needs.

    The end of the run deletes what an allowed create made (the ledger records it from the answer).
    """
    if kind is USER:
        return kind.body(f"{prefix}authz_user_{secrets.token_hex(3)}")
    return kind.required("")


# 2.x user and role creates (disruptive profile only): bodies the handler accepts, so an allowed role creates
# exactly one object named with the run prefix (a role with no permission), which the run deletes
ADMIN_CREATES = {k.collection: functools.partial(_admin_body, k) for k in ADMIN_KINDS}
# a connection test that needs no network and no file: the filesystem hook of `fs`, no host
HARMLESS_TEST = {"conn_type": "fs"}


def _read_back(ctx: CheckContext, route, rel: str, probe: Probe) -> ReadBack | None:
    """The read that shows a write's effect: the object it updates or deletes, or the one it would create."""
    if not probe.writes:
        return None
    gets = {ctx.router.relative(r.template) for r in ctx.router.routes if r.method == "GET"}
    body = probe.body if isinstance(probe.body, dict) else {}
    if probe.method in ("PATCH", "PUT", "DELETE") and route.params and rel in gets:
        fields = () if probe.method == "DELETE" else tuple(k for k in body if k not in ("actions",))
        return ReadBack(probe.path, fields=fields)
    if probe.method != "POST":
        return None
    name = NAMED_CREATES.get(rel) or (
        "dag_run_id" if rel.endswith("/dagRuns") else "key" if rel.endswith("/xcomEntries") else None
    )
    single = next((g for g in gets if g.startswith(rel + "/{") and g.count("/") == rel.count("/") + 1), None)
    if name and single and isinstance(body.get(name), str):
        return ReadBack(f"{probe.path}/{quote(body[name], safe='')}", absent=True)
    return None
