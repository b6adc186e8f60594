"""Realistic path parameter values from the live target, so generated requests reach server logic.

Random path parameters mostly produce 404s. Before the property tier runs,
this module finds (readonly) or creates (sandbox, disruptive) real objects:
a finished run of the probe DAG (its task instance, XCom and log), a
variable, a pool and a connection named with the run prefix, and the ids
of import errors, event logs, datasets/assets, backfills and so on that
the target already has. Property tests draw most path parameters from
these values; a few cases keep schemathesis' generated values to explore.

Every request goes through the run's guarded session, so readonly never
creates anything and sandbox only creates objects named with the prefix.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import requests

from conformance.context import CheckContext
from conformance.model.resources import ADMIN_KINDS, BY_KIND, CONNECTION, POOL, SANDBOX_KINDS, VARIABLE
from conformance.probes.dags import (
    ASSETS_DAG_ID,
    DISPOSABLE_DAG_ID,
    PROBE_DAG_ID,
    PROBE_TASK_ID,
    QUEUED_ASSET,
    TERMINAL,
    XCOM_KEY,
    queued_asset_id,
    unique_logical_date,
)
from conformance.probes.runs import RUN_WAIT_S, SchedulerNotRunning, is_paused, run_path, set_paused, wait_until_done
from conformance.safety.guard import RequestRefused
from conformance.safety.vacancy import VACANT_PARAMS, vacant_id

log = logging.getLogger(__name__)

# The probe runs the tiers aim at, by the name after the run prefix: the property tier's own (its generated
# cases patch, clear and at last delete it) and the authorization tier's, which the property tier triggers
# ahead of time so that no tier after it waits for a scheduler (trigger_ahead).
PROPERTY_RUN = "prop_run"
ACCESS_RUN = "authz_run"

# Reads that answer 200 only for a DAG or asset with a queued asset event on Airflow 3.0 (404 otherwise)
QUEUED_EVENT_READS = (
    "/assets/{asset_id}/queuedEvents",
    "/dags/{dag_id}/assets/queuedEvents",
    "/dags/{dag_id}/assets/{asset_id}/queuedEvents",
)


@dataclass
class Samples:
    """Values for path parameters, per parameter name.

    `read` values may name anything that exists (reads are safe); `write`
    values name only objects this run owns or the probe DAGs, so a generated
    write is one the guard lets through.
    """

    read: dict[str, list] = field(default_factory=dict)
    write: dict[str, list] = field(default_factory=dict)
    # coherent (dag_id, dag_run_id, task_id, ...) sets: a run id only makes sense with its DAG
    run_anchor: dict = field(default_factory=dict)
    # (dag_id, task_id) of a task outside the probe DAG, for reads of a task that need no run: a server
    # defect that only the probe's task meets (2.2.x get_task after its log was read) must not hide every answer
    task_anchors: list[dict] = field(default_factory=list)
    owned: dict[str, str] = field(default_factory=dict)  # kind -> name of the stable object this run created
    notes: list[str] = field(default_factory=list)
    unpaused: dict[str, bool] = field(default_factory=dict)  # probe DAG -> is_paused while properties run
    # route -> parameter -> values that replace `read` for that route's reads (the one object worth reading)
    focus: dict[str, dict[str, list]] = field(default_factory=dict)

    def values(self, param: str, *, write: bool, rel: str = "") -> list:
        if not write and param in self.focus.get(rel, {}):
            return list(self.focus[rel][param])
        source = self.write if write else self.read
        return list(source.get(param) or [])


def _get(session, rel: str, **params) -> dict | list | None:
    try:
        resp = session.call("GET", rel, params=params or None)
    except (RequestRefused, requests.RequestException):
        return None
    if resp.status_code != 200:
        return None
    try:
        return resp.json()
    except ValueError:
        return None


def _items(body, key: str) -> list[dict]:
    if isinstance(body, dict) and isinstance(body.get(key), list):
        return [i for i in body[key] if isinstance(i, dict)]
    return []


def _add(target: dict[str, list], name: str, *values) -> None:
    bucket = target.setdefault(name, [])
    for v in values:
        if v is not None and v not in bucket:
            bucket.append(v)


class SampleBuilder:
    """Finds or creates the objects property tests aim at."""

    def __init__(self, ctx: CheckContext, dialect: dict, run_name: str = PROPERTY_RUN) -> None:
        self.ctx = ctx
        self.run_name = run_name
        self.session = ctx.session
        self.dialect = dialect
        self.v2 = ctx.target.api == "v2"
        self.writes = ctx.options.profile in ("sandbox", "disruptive")
        self.prefix = ctx.prefix

    # -- creation (sandbox/disruptive) -------------------------------------
    def _post(self, rel: str, body: dict) -> requests.Response | None:
        try:
            return self.session.call("POST", rel, json=body)
        except (RequestRefused, requests.RequestException) as exc:
            log.info("could not create %s: %s", rel, exc)
            return None

    def ensure(self, kind: str, name: str) -> None:
        """Create the run's object of an owned `kind` (conformance.model.resources) called `name`."""
        owned = BY_KIND[kind]
        self._post(owned.collection, owned.body(name, **self._extra(kind)))

    def _extra(self, kind: str) -> dict:
        """What the property tier's objects carry beyond a minimal create body."""
        if kind == VARIABLE.kind:
            return {"value": "acf-property-value"}
        if kind == POOL.kind:
            return {"description": "airflow-conformance property tests"}
        if kind == CONNECTION.kind:
            return {"host": "example.invalid", "login": "acf", "password": self.connection_secret()}
        return {}

    def connection_secret(self) -> str:
        secret = f"acf-secret-{self.ctx.options.run_id}-props"
        self.ctx.redactor.add(secret)
        return secret

    def unpause(self, dag_id: str) -> bool:
        """Whether the DAG is now unpaused by this call; a refusal or no answer leaves it as it was."""
        try:
            return set_paused(self.session, dag_id, False).status_code == 200
        except (RequestRefused, requests.RequestException):
            return False

    def trigger(self, run_id: str) -> str | None:
        body = {
            self.dialect.get("logical_date_field", "execution_date"): unique_logical_date(),
            "dag_run_id": run_id,
            "conf": {"acf": "property"},
        }
        resp = self._post(f"/dags/{PROBE_DAG_ID}/dagRuns", body)
        if resp is not None and resp.status_code == 409 and self._exists(run_id):
            return run_id  # triggered ahead (the id carries this run's prefix): the run waits for that one
        if resp is None or resp.status_code not in (200, 201):
            return None
        return (resp.json() or {}).get("dag_run_id") or run_id

    def _exists(self, run_id: str) -> bool:
        return isinstance(_get(self.session, run_path(PROBE_DAG_ID, run_id)), dict)

    def trigger_ahead(self, run_name: str, samples: Samples) -> None:
        """Trigger the run a later tier's samples will use (`run_name`), without waiting for it.

        The scheduler runs it while this tier's checks go on, so the later tier finds it finished instead of
        waiting for a run of its own (on a 2.x SequentialExecutor, about 15 s). Only while the probe DAG is
        unpaused for this tier's own run (`samples.unpaused`, which this tier keeps it in): a run triggered on
        a paused DAG would only wait in the queue.
        """
        if self.writes and samples.unpaused.get(PROBE_DAG_ID) is False:
            self.trigger(f"{self.prefix}{run_name}")

    # -- the whole picture -------------------------------------------------
    def build(self) -> Samples:
        s = Samples()
        probe = self.ctx.probe_dags.get(PROBE_DAG_ID)
        if self.writes:
            self._create_owned(s, probe is not None)
        self._discover(s, probe)
        self._fill_write_values(s)
        return s

    def _create_owned(self, s: Samples, has_probe: bool) -> None:
        names = {k.kind: f"{self.prefix}prop_{k.short}" for k in SANDBOX_KINDS}
        for kind, name in names.items():
            self.ensure(kind, name)
        s.owned.update(names)
        if not has_probe:
            s.notes.append("the probe DAGs are not deployed; DAG-run operations get generated ids (mostly 404)")
            return
        if not self._unpaused_for_run(s, PROBE_DAG_ID):
            s.notes.append(
                f"the probe DAG {PROBE_DAG_ID} stays paused (unpausing it did not take), so a run of it "
                "would never start: none is triggered"
            )
            return
        run_id = self.trigger(f"{self.prefix}{self.run_name}")
        if run_id is None:
            s.notes.append("could not trigger a run of the probe DAG")
            return
        try:
            state = wait_until_done(self.session, run_path(PROBE_DAG_ID, run_id)).get("state", "")
        except SchedulerNotRunning as exc:  # the samples go on without a finished run; the reason goes with them
            s.notes.append(str(exc))
        else:
            if state not in TERMINAL:
                s.notes.append(f"the probe DAG run {run_id} did not finish within {RUN_WAIT_S:.0f} s (state {state!r})")
        s.owned["dag_run"] = run_id
        s.run_anchor = {"dag_id": PROBE_DAG_ID, "dag_run_id": run_id, "task_id": PROBE_TASK_ID}

    def _unpaused_for_run(self, s: Samples, dag_id: str) -> bool:
        """Whether the DAG now reads unpaused; `s.unpaused` holds that state (the tier keeps the DAG so).

        The state now, not at the start of the run: the scenarios run first and leave it paused, and generated
        cases may pause it too. A state that cannot be read counts as paused, and an unpause is read back and
        tried once more: a 2.10.5 run once triggered on a DAG it believed unpaused (no PATCH reached the
        server) and waited its whole 120 s on a queued run.
        """
        current = _get(self.session, f"/dags/{dag_id}")
        paused = bool(current.get("is_paused")) if isinstance(current, dict) else True
        for _ in range(2):
            if not paused:
                break
            self.unpause(dag_id)
            try:
                paused = is_paused(self.session, dag_id) is not False
            except (RequestRefused, requests.RequestException):
                break  # unreadable: no run is triggered on a DAG whose state is unknown
        s.unpaused[dag_id] = paused
        return not paused

    def _discover(self, s: Samples, probe: dict | None) -> None:
        r = s.read
        sess = self.session
        # DAGs: the probe first, then a few others (reads only)
        if probe is not None:
            _add(r, "dag_id", PROBE_DAG_ID)
            _add(r, "file_token", probe.get("file_token"))
        for d in _items(_get(sess, "/dags", limit=5), "dags"):
            _add(r, "dag_id", d.get("dag_id"))
            if not self.v2:
                _add(r, "file_token", d.get("file_token"))
        s.task_anchors = self._other_task(r.get("dag_id", []))
        if not s.run_anchor:
            s.run_anchor = self._existing_run(probe is not None)
        a = s.run_anchor
        if a:
            _add(r, "dag_run_id", a["dag_run_id"])
            _add(r, "task_id", a["task_id"])
        else:
            _add(r, "task_id", PROBE_TASK_ID)
        _add(r, "map_index", -1, 0)
        _add(r, "task_try_number", 1)
        _add(r, "try_number", 1)
        _add(r, "xcom_key", XCOM_KEY)
        # named objects: ours first, then what exists
        for owned in SANDBOX_KINDS:
            _add(r, owned.param, s.owned.get(owned.kind))
            for item in _items(_get(sess, owned.collection, limit=3), owned.list_field):
                _add(r, owned.param, item.get(owned.field))
        _add(
            r,
            "import_error_id",
            *[i.get("import_error_id") for i in _items(_get(sess, "/importErrors", limit=3), "import_errors")],
        )
        _add(
            r, "event_log_id", *[i.get("event_log_id") for i in _items(_get(sess, "/eventLogs", limit=3), "event_logs")]
        )
        _add(r, "section", "core")
        _add(r, "option", "dags_folder")
        if self.v2:
            _add(r, "asset_id", *[i.get("id") for i in _items(_get(sess, "/assets", limit=3), "assets")])
            self._focus_queued_event(s)
            _add(
                r,
                "asset_alias_id",
                *[i.get("id") for i in _items(_get(sess, "/assets/aliases", limit=3), "asset_aliases")],
            )
            _add(
                r,
                "backfill_id",
                *[i.get("id") for i in _items(_get(sess, "/backfills", dag_id=PROBE_DAG_ID, limit=3), "backfills")],
            )
            _add(r, "version_number", 1)
            _add(r, "key", f"{self.prefix}prop_key")
            _add(r, "group_id", f"{self.prefix}prop_group")
        else:
            _add(r, "uri", *[i.get("uri") for i in _items(_get(sess, "/datasets", limit=3), "datasets")])
            for admin in ADMIN_KINDS:
                _add(
                    r,
                    admin.param,
                    *[i.get(admin.field) for i in _items(_get(sess, admin.collection, limit=2), admin.list_field)],
                )

    def _focus_queued_event(self, s: Samples) -> None:
        """Aim the queued-event reads at the asset probe DAG while it holds a queued event (reads only).

        `up` leaves one event of its first asset queued on a local 3.x target (conformance.local.fixtures):
        the one object of which Airflow 3.0 answers the queued-event reads with 200 instead of 404. Any
        other DAG or asset would only answer 404 (as generated values do), so these three reads take the
        pair alone. Never the writes: they keep to the probe DAG and vacant asset ids, and the guard
        refuses any write to this DAG or to an asset that exists, so no sandbox run clears the queue.
        """
        body = _get(self.session, f"/dags/{ASSETS_DAG_ID}/assets/queuedEvents")
        queued = {e.get("asset_id") for e in _items(body, "queued_events")}
        asset_id = queued_asset_id(_items(_get(self.session, "/assets", name_pattern=QUEUED_ASSET, limit=10), "assets"))
        if asset_id is None or asset_id not in queued:
            return
        for rel in QUEUED_EVENT_READS:
            s.focus[rel] = {"dag_id": [ASSETS_DAG_ID], "asset_id": [asset_id]}

    def _other_task(self, dag_ids: list) -> list[dict]:
        """The first task of the first listed DAG that is not a probe DAG (reads only), or nothing."""
        for dag_id in dag_ids:
            if dag_id in (PROBE_DAG_ID, DISPOSABLE_DAG_ID, ASSETS_DAG_ID):
                continue
            tasks = _items(_get(self.session, f"/dags/{dag_id}/tasks"), "tasks")
            if tasks and tasks[0].get("task_id"):
                return [{"dag_id": dag_id, "task_id": tasks[0]["task_id"]}]
        return []

    def _existing_run(self, has_probe: bool) -> dict:
        """A run that already exists (readonly): the probe DAG's newest, else any DAG's."""
        candidates = []
        if has_probe:
            candidates += _items(_get(self.session, f"/dags/{PROBE_DAG_ID}/dagRuns", limit=25), "dag_runs")
        if not candidates:
            candidates += _items(_get(self.session, "/dags/~/dagRuns", limit=25), "dag_runs")
        finished = [c for c in candidates if c.get("state") == "success"] or candidates
        for run in reversed(finished):
            dag_id, run_id = run.get("dag_id"), run.get("dag_run_id")
            tis = _items(
                _get(self.session, f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=5), "task_instances"
            )
            if tis:
                return {"dag_id": dag_id, "dag_run_id": run_id, "task_id": tis[0].get("task_id")}
        return {}

    def _fill_write_values(self, s: Samples) -> None:
        """Writes aim only at the probe DAGs and objects named with the run prefix."""
        w = s.write
        p = self.prefix
        _add(w, "dag_id", PROBE_DAG_ID)
        if s.owned.get("dag_run"):
            _add(w, "dag_run_id", s.owned["dag_run"])
        else:
            _add(w, "dag_run_id", f"{p}prop_missing_run")
        _add(w, "task_id", PROBE_TASK_ID)
        for param in (
            "map_index",
            "task_try_number",
            "try_number",
            "xcom_key",
            "file_token",
            "section",
            "option",
            "version_number",
        ):
            _add(w, param, *s.read.get(param, []))
        probe = self.ctx.probe_dags.get(PROBE_DAG_ID) or {}
        w["file_token"] = [t for t in [probe.get("file_token")] if t] or list(s.read.get("file_token", [])[:1])
        for owned in SANDBOX_KINDS:
            _add(w, owned.param, s.owned.get(owned.kind) or f"{p}prop_{owned.short}")
        _add(w, "key", f"{p}prop_key")
        _add(w, "group_id", f"{p}prop_group")
        _add(w, "uri", f"{p}prop_dataset")
        for admin in ADMIN_KINDS:
            _add(w, admin.param, f"{p}prop_{admin.short}")
        _add(
            w, "backfill_id", *[int(e.key) for e in self.ctx.ledger.live() if e.kind == "backfill" and e.key.isdigit()]
        )
        if self.writes and self.v2:
            for param, rel in VACANT_PARAMS.items():
                _add(w, param, self._vacant_id(param, rel))
        # other server-assigned ids (import errors, event logs, ...) are never write targets: left generated

    def _vacant_id(self, param: str, rel: str) -> int | None:
        return vacant_id(self.session, self.ctx.guard, param, rel)

    def disposable_dag(self) -> str:
        return DISPOSABLE_DAG_ID
