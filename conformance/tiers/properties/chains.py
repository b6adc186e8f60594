"""Stateful chains: create -> read -> update -> list -> delete -> read-404, with generated bodies.

Each chain draws its create body from the spec's request schema (hypothesis,
positive data, only declared properties), names the object with the run
prefix, and walks the object's life through the guarded session. Every
response is checked like in the per-operation property tests (status,
content type, schema, Airflow checks); each step also checks what the step
promises (the object reads back as written, is listed, is gone after DELETE).

The DAG-run chain triggers the probe DAG with a generated `conf`, waits
for the run, and reaches its task instance, XCom and log on the way: the log
also as JSON (2.x answers text/plain unless asked, and the official client
reads only the JSON form), the probe's mapped task instance where the DAG has
one (2.3+), a dry-run state change of its task instance where the release's body
has `dry_run` (2.x), and a dry-run clear of the run where the release has bulk clears.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from conformance.context import CheckContext
from conformance.expectations.mutations import body_schema
from conformance.generation import generation_settings
from conformance.model.resources import BY_KIND, CONNECTION, POOL, VARIABLE, OwnedKind
from conformance.probes.dags import MAPPED_TASK_ID, PROBE_DAG_ID, PROBE_TASK_ID, XCOM_KEY, unique_logical_date
from conformance.probes.runs import SchedulerNotRunning, run_path, wait_until_done
from conformance.tiers.properties.outcome import Outcome
from conformance.tiers.properties.shaping import drop_undeclared_properties, strip_credentials

CHAIN_EXAMPLES = 3
PAGE = 100
MAX_PAGES = 25  # pages of up to PAGE items; a target with a low maximum_page_limit serves fewer per page

# what a lifecycle of each owned kind needs beyond its routes: fields a create needs, the update and its mask
LIFECYCLES: dict[str, dict[str, Any]] = {
    VARIABLE.kind: {"defaults": {"value": "acf-chain-value"}, "change": {"value": "acf-chain-changed"}},
    POOL.kind: {"defaults": {"slots": 1}, "change": {"slots": 3}, "mask": "slots"},
    CONNECTION.kind: {"defaults": {"conn_type": "http"}, "change": {"host": "changed.example.invalid"}, "mask": "host"},
}


def _crud(kind: OwnedKind) -> dict[str, Any]:
    """A chain's routes (relative), identifying field and list key, read from the owned kind, and its lifecycle."""
    return {
        "create": ("POST", kind.collection),
        "read": ("GET", kind.item),
        "update": ("PATCH", kind.item),
        "list": ("GET", kind.collection),
        "delete": ("DELETE", kind.item),
        "param": kind.param,
        "field": kind.field,
        "list_key": kind.list_field,
        **LIFECYCLES[kind.kind],
    }


# chain name (the collection's list key) -> its routes and lifecycle
CRUD: dict[str, dict[str, Any]] = {BY_KIND[kind].list_field: _crud(BY_KIND[kind]) for kind in LIFECYCLES}
# fields a generated body may not bring into a lifecycle: multi-team ownership, JSON-in-a-string
DROPPED = ("team_name", "extra")
RUN_ROUTES = {
    "trigger": ("POST", "/dags/{dag_id}/dagRuns"),
    "read": ("GET", "/dags/{dag_id}/dagRuns/{dag_run_id}"),
    "list": ("GET", "/dags/{dag_id}/dagRuns"),
    "delete": ("DELETE", "/dags/{dag_id}/dagRuns/{dag_run_id}"),
    "tis": ("GET", "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances"),
    "ti": ("GET", "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}"),
    "xcoms": ("GET", "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/xcomEntries"),
    "xcom": ("GET", "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/xcomEntries/{xcom_key}"),
    "log_v1": ("GET", "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/logs/{task_try_number}"),
    "log_v2": ("GET", "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/logs/{try_number}"),
    "note_v1": ("PATCH", "/dags/{dag_id}/dagRuns/{dag_run_id}/setNote"),
    "note_v2": ("PATCH", "/dags/{dag_id}/dagRuns/{dag_run_id}"),
    "mapped_ti": ("GET", "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/{map_index}"),
    "mapped_try": (
        "GET",
        "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/{map_index}/tries/{task_try_number}",
    ),
    "clear_runs": ("POST", "/dags/{dag_id}/clearDagRuns"),
    "patch_ti": ("PATCH", "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}"),
}
CHAINS = (*CRUD, "dag_runs")


def chain_operations(ctx: CheckContext, name: str) -> list[str]:
    """operationIds a chain exercises on this target (for the marker and coverage)."""
    routes = (
        RUN_ROUTES
        if name == "dag_runs"
        else {k: v for k, v in CRUD[name].items() if k in ("create", "read", "update", "list", "delete")}
    )
    by_route = {(r.method, ctx.router.relative(r.template)): r.operation_id for r in ctx.router.routes}
    ops = [by_route[(m, rel)] for m, rel in routes.values() if (m, rel) in by_route]
    return list(dict.fromkeys(ops))


class ChainRunner:
    def __init__(self, tier) -> None:
        self.tier = tier
        self.engine = tier.engine
        self.ctx = tier.ctx
        self.by_route = {(info.method, info.rel): info for info in self.engine.ops.values()}

    # -- one step -------------------------------------------------------------
    def step(self, outcome: Outcome, route, *, path=None, query=None, body=None, headers=None, expect=(), what=""):
        """Send one request of the chain, check it; returns the response or None."""
        info = self.by_route.get(route)
        if info is None:
            return None
        case = info.operation.Case(
            path_parameters=path or {},
            query=query or None,
            body=body if body is not None else _not_set(),
            media_type="application/json" if body is not None else None,
        )
        strip_credentials(case)
        _, session, _ = self.engine.worker()
        response = self.engine.send(case, session, outcome, headers)
        if response is None:
            return None
        if expect and response.status_code not in expect:
            self.fail(
                outcome,
                "chain_status",
                response,
                info.op_id,
                f"{what or info.title}: expected HTTP {' or '.join(map(str, expect))}, got {response.status_code}",
            )
        return response

    def fail(self, outcome: Outcome, check: str, response, op_id: str, message: str) -> None:
        outcome.add(self.engine.checker.failure(check, response, message, op_id))

    # -- CRUD chains ------------------------------------------------------------
    def crud(self, name: str, max_examples: int) -> Outcome:
        spec = CRUD[name]
        outcome = self.engine.new_outcome(f"chain.{name}")
        create = self.by_route.get(spec["create"])
        if create is None:
            return outcome
        counter = iter(range(1, 10_000))

        @generation_settings(max_examples, outcome.seed, print_blob=False)
        @given(data=st.data())
        def examples(data):
            case = data.draw(create.operation.as_strategy(), label="create body")
            drop_undeclared_properties(create, case)
            body = case.body if isinstance(case.body, dict) else {}
            # nulls and multi-team fields are the per-operation tests' business; a lifecycle needs a plain object
            body = {k: v for k, v in copy.deepcopy(body).items() if k not in DROPPED and v is not None}
            for key, value in spec["defaults"].items():
                if not _usable(body.get(key), value):
                    body[key] = value
            object_name = self.engine.owned_name(f"chain_{name}_") + f"_{next(counter)}"
            body[spec["field"]] = object_name
            secret = None
            if name == CONNECTION.list_field:
                secret = f"acf-chain-secret-{self.ctx.options.run_id}-{object_name[-6:]}"
                self.ctx.redactor.add(secret)
                body["password"] = secret
            self.crud_once(outcome, spec, object_name, body, secret)

        examples()
        return outcome

    def crud_once(self, outcome: Outcome, spec: dict, object_name: str, body: dict, secret: str | None) -> None:
        path = {spec["param"]: object_name}
        field = spec["field"]
        created = self.step(outcome, spec["create"], body=body, expect=(200, 201), what="create")
        if created is None or created.status_code not in (200, 201):
            return
        leaks = [created]
        got = self.step(outcome, spec["read"], path=path, expect=(200,), what="read the created object")
        if got is not None and got.status_code == 200:
            leaks.append(got)
            data = _json(got)
            if not isinstance(data, dict) or data.get(field) != object_name:
                self.fail(
                    outcome,
                    "chain_read_back",
                    got,
                    self.by_route[spec["read"]].op_id,
                    f"read back {field}={_short(data.get(field) if isinstance(data, dict) else data)}, expected {object_name!r}",
                )
        update = {**body, **spec["change"]}
        mask = {"update_mask": spec["mask"]} if spec.get("mask") else None
        patched = self.step(
            outcome,
            spec["update"],
            path=path,
            query=mask,
            body=update,
            expect=(200,),
            what="update" + (f" (update_mask={spec['mask']})" if mask else ""),
        )
        if patched is not None and patched.status_code == 200:
            leaks.append(patched)
            again = self.step(outcome, spec["read"], path=path, expect=(200,), what="read after update")
            key, value = next(iter(spec["change"].items()))
            if again is not None and again.status_code == 200 and _json(again).get(key) != value:
                self.fail(
                    outcome,
                    "chain_update_applied",
                    again,
                    self.by_route[spec["update"]].op_id,
                    f"after PATCH {key}={value!r} the object reads {key}={_short(_json(again).get(key))}",
                )
        listed = self.find_in_list(outcome, spec["list"], spec["list_key"], field, object_name)
        if listed is not None:
            leaks.append(listed[1])
            if not listed[0]:
                self.fail(
                    outcome,
                    "chain_listed",
                    listed[1],
                    self.by_route[spec["list"]].op_id,
                    f"{object_name} is not listed by GET {spec['list'][1]}",
                )
        deleted = self.step(outcome, spec["delete"], path=path, expect=(204,), what="delete")
        if deleted is not None and deleted.status_code == 204:
            self.step(outcome, spec["read"], path=path, expect=(404,), what="read after delete")
        if secret:
            for resp in leaks:
                if secret in (resp.text or ""):
                    self.fail(
                        outcome,
                        "connection_password_hidden",
                        resp,
                        "",
                        "a response of the connection chain contains the password that was set",
                    )

    def find_in_list(self, outcome: Outcome, route, list_key: str, field: str, name: str, path=None):
        """(found, last page response) paging with limit/offset, bounded; None if the list could not be read."""
        offset, last = 0, None
        for _ in range(MAX_PAGES):
            resp = self.step(
                outcome, route, path=path, query={"limit": PAGE, "offset": offset}, expect=(200,), what="list"
            )
            if resp is None or resp.status_code != 200:
                return None if last is None else (False, last)
            last = resp
            data = _json(resp)
            items = data.get(list_key) or [] if isinstance(data, dict) else []
            if any(isinstance(i, dict) and i.get(field) == name for i in items):
                return True, resp
            total = data.get("total_entries") if isinstance(data, dict) else None
            # a server may serve fewer than asked ([api] maximum_page_limit): advance by what came back
            if not items or (isinstance(total, int) and offset + len(items) >= total):
                return False, resp
            offset += len(items)
        return (False, last) if last is not None else None

    # -- the DAG-run chain --------------------------------------------------------
    def dag_runs(self, max_examples: int) -> Outcome:
        outcome = self.engine.new_outcome("chain.dag_runs")
        trigger = self.by_route.get(RUN_ROUTES["trigger"])
        if trigger is None:
            return outcome
        date_field = self.tier.dialect.get("logical_date_field", "execution_date")
        counter = iter(range(1, 10_000))

        @generation_settings(max_examples, outcome.seed, print_blob=False)
        @given(data=st.data())
        def examples(data):
            case = data.draw(
                trigger.operation.as_strategy(path_parameters={"dag_id": PROBE_DAG_ID}), label="trigger body"
            )
            generated = case.body if isinstance(case.body, dict) else {}
            conf = generated.get("conf") if isinstance(generated.get("conf"), dict) else {}
            run_id = self.engine.owned_name("chain_run_") + f"_{next(counter)}"
            body = {date_field: unique_logical_date(), "dag_run_id": run_id, "conf": conf}
            if isinstance(generated.get("note"), str):
                body["note"] = generated["note"][:200]
            self.run_once(outcome, run_id, body)

        examples()
        return outcome

    def run_once(self, outcome: Outcome, run_id: str, body: dict) -> None:
        r = RUN_ROUTES
        run_params = {"dag_id": PROBE_DAG_ID, "dag_run_id": run_id}
        created = self.step(
            outcome,
            r["trigger"],
            path={"dag_id": PROBE_DAG_ID},
            body=body,
            expect=(200, 201),
            what="trigger the probe DAG",
        )
        if created is None or created.status_code not in (200, 201):
            return
        got = self.step(outcome, r["read"], path=run_params, expect=(200,), what="read the run")
        if got is not None and got.status_code == 200 and _json(got).get("conf") != body["conf"]:
            self.fail(
                outcome,
                "chain_conf_round_trip",
                got,
                self.by_route[r["read"]].op_id,
                f"the run's conf reads {_short(_json(got).get('conf'))}, sent {_short(body['conf'])}",
            )
        _, session, _ = self.engine.worker()  # polling is bookkeeping, not a checked step of the chain
        try:
            state = wait_until_done(session, run_path(PROBE_DAG_ID, run_id)).get("state", "")
        except SchedulerNotRunning as exc:  # not the API's failure: what follows the run's end is not judged
            outcome.waits_given_up.append(str(exc))
            state = ""
        ti_path = {**run_params, "task_id": PROBE_TASK_ID}
        listed = self.expect_listed(
            outcome,
            r["tis"],
            run_params,
            ("task_instances", "task_id", PROBE_TASK_ID),
            "chain_task_instances",
            "list the run's task instances",
            f"task instance {PROBE_TASK_ID!r} is not listed for the run",
        )
        self.step(outcome, r["ti"], path=ti_path, expect=(200,), what="read the task instance")
        if state == "success":
            self.expect_listed(
                outcome,
                r["xcoms"],
                ti_path,
                ("xcom_entries", "key", XCOM_KEY),
                "chain_xcom",
                "list the XComs",
                f"XCom {XCOM_KEY!r} pushed by the probe task is not listed",
            )
            self.step(outcome, r["xcom"], path={**ti_path, "xcom_key": XCOM_KEY}, expect=(200,), what="read the XCom")
            v1 = bool(self.by_route.get(r["log_v1"]))
            log_route, attempt = (r["log_v1"], "task_try_number") if v1 else (r["log_v2"], "try_number")
            self.step(outcome, log_route, path={**ti_path, attempt: 1}, expect=(200,), what="read the log")
            self.step(
                outcome,
                log_route,
                path={**ti_path, attempt: 1},
                query={"full_content": "true"},
                headers={"Accept": "application/json"},
                expect=(200,),
                what="read the log as JSON",
            )
        if MAPPED_TASK_ID in listed:  # the 2.x probe DAG maps a task from 2.3 on (3.x: not part of the probe)
            mapped = {**run_params, "task_id": MAPPED_TASK_ID, "map_index": 0}
            self.step(outcome, r["mapped_ti"], path=mapped, expect=(200,), what="read the mapped task instance")
            if state == "success":
                self.step(
                    outcome,
                    r["mapped_try"],
                    path={**mapped, "task_try_number": 1},
                    expect=(200,),
                    what="read the mapped task instance's first try",
                )
        if state == "success" and _takes_field(
            self.by_route.get(r["patch_ti"]), "dry_run"
        ):  # 2.5-2.11: a dry run changes nothing
            self.step(
                outcome,
                r["patch_ti"],
                path=ti_path,
                body={"dry_run": True, "new_state": "success"},
                expect=(200,),
                what="set the task instance's state (dry run)",
            )
        self.step(
            outcome,
            r["clear_runs"],
            path={"dag_id": PROBE_DAG_ID},
            expect=(200,),
            body={"dag_runs": [{"dag_run_id": run_id}], "dry_run": True},
            what="clear the run (dry run)",
        )
        note = r["note_v1"] if self.by_route.get(r["note_v1"]) else r["note_v2"]  # 3.x: the run's own PATCH
        if _takes_field(
            self.by_route.get(note), "note"
        ):  # run notes exist from 2.5 on; before, PATCH sets only the state
            self.step(
                outcome,
                note,
                path=run_params,
                body={"note": "acf chain note"},
                expect=(200,),
                what="set the run's note",
            )
        found = self.find_in_list(outcome, r["list"], "dag_runs", "dag_run_id", run_id, path={"dag_id": PROBE_DAG_ID})
        if found is not None and not found[0]:
            self.fail(
                outcome,
                "chain_listed",
                found[1],
                self.by_route[r["list"]].op_id,
                f"run {run_id} is not listed by GET /dags/{PROBE_DAG_ID}/dagRuns",
            )
        deleted = self.step(outcome, r["delete"], path=run_params, expect=(204,), what="delete the run")
        if deleted is not None and deleted.status_code == 204:
            self.step(outcome, r["read"], path=run_params, expect=(404,), what="read the deleted run")

    def expect_listed(
        self, outcome: Outcome, route, path: dict, wanted: tuple[str, str, str], check: str, what: str, missing: str
    ) -> list:
        """One page of the run's task instances or XComs must hold what the probe task made; returns what it listed.

        `wanted` is (list key, item field, value); unlike `find_in_list` these lists are short: no paging.
        """
        list_key, field, value = wanted
        resp = self.step(outcome, route, path=path, expect=(200,), what=what)
        if resp is None or resp.status_code != 200:
            return []
        found = [item.get(field) for item in _json(resp).get(list_key) or [] if isinstance(item, dict)]
        if value not in found:
            self.fail(outcome, check, resp, self.by_route[route].op_id, f"{missing} (got {found[:5]})")
        return found


def _takes_field(info, field: str) -> bool:
    """Whether the operation's JSON request body declares `field` in this release's spec."""
    if info is None:
        return False
    schema = body_schema(info.operation.schema.raw_schema, info.operation.definition.raw) or {}
    return field in (schema.get("properties") or {})


def _usable(value, default) -> bool:
    """A generated value a lifecycle can use in place of the default (same kind, sensible)."""
    if isinstance(default, str):
        return isinstance(value, str) and value.isprintable() and 0 < len(value) <= 200
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 1000
    return False


def _json(resp):
    try:
        data = resp.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _short(value) -> str:
    return json.dumps(value, default=str)[:120]


def _not_set():
    from schemathesis.core import NOT_SET  # noqa: PLC0415

    return NOT_SET
