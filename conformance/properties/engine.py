"""The property engine: one operation of the reference spec, generated, sent and checked.

For each operationId, hypothesis draws `--max-examples` cases from
schemathesis' strategies (mostly positive data aimed at real objects,
some negative data, a few with fully generated path parameters to
explore). Each case is sent through the run's guarded session (a case the
guard refuses is skipped and counted), and its response is checked by
schemathesis' checks and by the Airflow checks of
`conformance.checks.registry`. Once per protected operation the first
sendable case is also sent without credentials: it must not succeed.

Failures are collected, never raised inside hypothesis (so nothing is
shrunk or re-sent), and summarised into one verdict per operation.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, reject, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from conformance.checks.registry import content_type_of, registered_checks, run_all
from conformance.expectations.deviations import Observation
from conformance.http.client import SAFE_METHODS
from conformance.http.redact import mask_fields
from conformance.probes.dags import DISPOSABLE_DAG_ID, PROBE_DAG_ID
from conformance.properties.samples import Samples
from conformance.safety.guard import READONLY_POSTS, RequestRefused
from conformance.target.auth import make_auth
from conformance.validation import _nullable_as_validators_read_it

log = logging.getLogger(__name__)
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\d+")

SCHEMATHESIS_CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
)
AUTH_CHECK = "auth_not_ignored"
HTTP_METHODS = ("get", "put", "post", "patch", "delete")

# POSTs whose body names the object they create: relative path -> body field
NAMED_CREATES = {
    "/variables": "key", "/pools": "name", "/connections": "connection_id", "/connections/test": "connection_id",
    "/connections/enqueue-test": "connection_id",
    "/users": "username", "/roles": "name", "/datasets/events": "dataset_uri",
}
# PATCH/PUT of one object: the body field naming it follows the path (no renames)
NAMED_UPDATES = {
    "/variables/{variable_key}": ("key", "variable_key"), "/pools/{pool_name}": ("name", "pool_name"),
    "/connections/{connection_id}": ("connection_id", "connection_id"), "/users/{username}": ("username", "username"),
    "/roles/{role_name}": ("name", "role_name"),
}
# 3.x bulk endpoints: entity field naming each object
BULK_FIELDS = {"/variables": "key", "/pools": "name", "/connections": "connection_id",
               "/dags/{dag_id}/dagRuns": "dag_run_id", "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances": "task_id"}
TRIGGERS = ("/dags/{dag_id}/dagRuns",)
# operations that invalidate the credentials they are sent with
REVOKES_CREDENTIALS = ("/auth/logout",)
RUN_SCOPED = ("dag_run_id", "task_id", "map_index", "xcom_key", "task_try_number", "try_number", "group_id")
# ratio of generated cases: explore (generated path parameters), negative data, positive data (out of 10)
EXPLORE, NEGATIVE = 1, 3
MAX_LISTED = 5


# -- the spec's operations ----------------------------------------------------
@dataclass
class OperationInfo:
    op_id: str
    method: str
    rel: str  # path template relative to the API base (`/dags/{dag_id}`)
    operation: object  # schemathesis APIOperation
    protected: bool
    path_params: tuple[str, ...]

    @property
    def title(self) -> str:
        return f"{self.method} {self.rel}"

    @property
    def writes(self) -> bool:
        return self.method not in SAFE_METHODS and self.op_id not in READONLY_POSTS

    @property
    def order(self) -> tuple:
        """Reads first, then creates/updates, then deletes (DAG runs and DAGs last), so shared objects live long."""
        if not self.writes:
            return (0,)
        if self.method != "DELETE":
            return (1,)
        if self.rel == "/dags/{dag_id}":
            return (2, -1)  # first, so the disposable DAG is parsed again while the other deletes run
        if self.rel == "/dags/{dag_id}/dagRuns/{dag_run_id}":
            return (2, 2)
        return (2, 1 if "dagRuns" in self.rel else 0)


def _is_protected(raw_op: dict, spec: dict) -> bool:
    """Documented as needing credentials: declares a 401, or a non-empty security requirement."""
    if "401" in (raw_op.get("responses") or {}):
        return True
    security = raw_op.get("security", spec.get("security"))
    return bool(security) and all(req for req in security)


def spec_operations(spec: dict, router) -> list[tuple[str, str, str, dict]]:
    """(operationId, METHOD, template relative to the API prefix, raw operation) in spec order (no schemathesis)."""
    out = []
    for path, item in (spec.get("paths") or {}).items():
        for method in HTTP_METHODS:
            op = item.get(method) if isinstance(item, dict) else None
            if isinstance(op, dict) and op.get("operationId"):
                rel = router.relative(router.base_path + path)
                out.append((op["operationId"], method.upper(), rel, op))
    return out


def ordered_operations(spec: dict, router) -> list[tuple[str, str, str, dict]]:
    ops = spec_operations(spec, router)

    def key(item):
        op_id, method, rel, _ = item
        probe = OperationInfo(op_id, method, rel, None, False, ())
        return probe.order

    return sorted(ops, key=key)  # stable: spec order within a phase


# -- what one operation produced ----------------------------------------------
@dataclass
class Failure:
    check: str
    status: int
    content_type: str
    message: str  # for people: the check's words, the server's answer, the request
    curl: str
    request: requests.PreparedRequest | None = None
    count: int = 1
    deviation: object = None  # the known upstream deviation that explains it, if any
    operation: str = ""  # operationId of the request (chains span several operations)
    facts: Observation | None = None  # what deviations are matched on (the answer, structured request facts)

    @property
    def key(self) -> tuple:
        """Occurrences with the same key are one distinct failure (counted)."""
        headline, _, detail = self.message.partition(" | response: ")
        if self.deviation is not None:
            return (self.check, self.status, self.content_type, self.deviation.id, self.operation)
        shape = _QUOTED.sub("'…'", _NUMBER.sub("N", detail))[:120]
        return (self.check, self.status, self.content_type, headline[:160], shape)

    def describe(self) -> str:
        headline, _, rest = self.message.partition(" | response: ")
        answer, _, request = rest.partition(" | request: ")
        first = headline[:300] + (f" | response: {answer[:200]}" if answer else "") + \
            (f" | request: {request[:300]}" if request else "")
        times = f" (x{self.count})" if self.count > 1 else ""
        return f"[{self.check}] HTTP {self.status} {self.content_type or '-'}{times}: {first}"


@dataclass
class Outcome:
    op_id: str
    seed: int
    sent: int = 0
    refused: list[str] = field(default_factory=list)
    failures: dict[tuple, Failure] = field(default_factory=dict)
    transport_errors: list[BaseException] = field(default_factory=list)
    internal_errors: list[str] = field(default_factory=list)  # a case the suite itself could not handle
    seen: set = field(default_factory=set, repr=False)  # reads already sent (not sent twice)
    repeats: int = 0
    over_budget: int = 0  # cases not generated because the operation's share of --time-budget was spent
    anon_checked: bool = False
    statuses: dict[int, int] = field(default_factory=dict)
    classify: Callable | None = None  # failure -> known deviation or None
    check_runs: dict[str, int] = field(default_factory=dict)  # check -> responses it judged
    check_errors: list[tuple[str, str]] = field(default_factory=list)  # (check, why it could not judge)

    def judged(self, check: str) -> None:
        self.check_runs[check] = self.check_runs.get(check, 0) + 1

    def add(self, failure: Failure) -> None:
        if self.classify is not None:
            failure.deviation = self.classify(failure)
        known = self.failures.get(failure.key)
        if known is None:
            self.failures[failure.key] = failure
        else:
            known.count += 1


# -- the engine ------------------------------------------------------------------
class PropertyEngine:
    """Shared by all property items of a run: schema, samples, sessions, strategies."""

    def __init__(self, ctx, samples_factory: Callable[[], Samples]) -> None:
        self.ctx = ctx
        self.base_path = ctx.router.base_path
        self.base_url = ctx.target.url.rstrip("/") + self.base_path
        self._samples_factory = samples_factory
        self._samples: Samples | None = None
        self._lock = threading.Lock()
        self._local = threading.local()
        self._worker_ids = iter(range(10_000))
        spec = copy.deepcopy(ctx.spec)
        if str(spec.get("openapi", "")).startswith("3.0"):
            spec = _keep_read_only(spec, _nullable_as_validators_read_it(copy.deepcopy(spec)))
        config = schemathesis.Config()
        config.projects.default.generation.update(with_security_parameters=False, allow_x00=False)
        self.schema = schemathesis.openapi.from_dict(spec, config=config)
        self.ops: dict[str, OperationInfo] = {}
        for op_id, method, rel, raw in spec_operations(spec, ctx.router):
            operation = self._find(op_id)
            params = tuple(p.name for p in operation.path_parameters)
            self.ops[op_id] = OperationInfo(op_id, method, rel, operation, _is_protected(raw, spec), params)
        self._negatable: dict[str, bool] = {}
        self._reshaped: set[int] = set()  # negative cases whose body the suite rewrote (see shape_body)
        self._strategies: dict[tuple, object] = {}
        self.counter = iter(range(1, 10**9))

    def _find(self, op_id: str):
        if not hasattr(self, "_by_id"):
            self._by_id = {}
            for result in self.schema.get_all_operations():
                operation = result.ok()
                self._by_id[operation.definition.raw.get("operationId")] = operation
        return self._by_id[op_id]

    # -- shared state ------------------------------------------------------------
    @property
    def samples(self) -> Samples:
        with self._lock:
            if self._samples is None:
                self._samples = self._samples_factory()
            return self._samples

    def worker(self) -> tuple[int, object, object]:
        """(worker number, guarded session, anonymous guarded session) of the calling thread."""
        local = self._local
        if not hasattr(local, "session"):
            with self._lock:
                local.number = next(self._worker_ids)
            local.session = self.ctx.session if local.number == 0 else self.ctx.new_session()
            local.anon = self.ctx.session_as(None)
        return local.number, local.session, local.anon

    def owned_name(self, label: str) -> str:
        """A fresh name for an object a generated case creates: run prefix + worker number."""
        number, _, _ = self.worker()
        return f"{self.ctx.prefix}w{number}_{label}{next(self.counter)}"

    def op_seed(self, op_id: str) -> int:
        return (int(self.ctx.options.seed or 0) ^ zlib.crc32(op_id.encode())) & 0xFFFFFFFF

    # -- path parameters -------------------------------------------------------
    def path_choices(self, info: OperationInfo) -> list[dict]:
        """Realistic path-parameter sets for this operation (empty: nothing to aim at)."""
        if not info.path_params:
            return [{}]
        s = self.samples
        write = info.writes
        combos: list[dict] = []
        run_scoped = any(p in RUN_SCOPED for p in info.path_params)
        anchor = {} if write else dict(s.run_anchor)
        width = 1
        per_param: dict[str, list] = {}
        fixed = {p.name: (p.definition.get("schema") or {}) for p in info.operation.path_parameters}
        for p in info.path_params:
            if "const" in fixed.get(p, {}):  # e.g. 3.x batch lists: dag_id is always "~"
                per_param[p] = [fixed[p]["const"]]
                continue
            if p in ("dag_id", "dag_run_id", "task_id") and run_scoped and anchor:
                per_param[p] = [anchor.get(p)]
                continue
            values = s.values(p, write=write)
            if p == "dag_id" and info.method == "DELETE" and info.rel == "/dags/{dag_id}":
                values = [DISPOSABLE_DAG_ID]
            if not values:
                return []
            per_param[p] = values
            width = max(width, len(values))
        for i in range(min(width, 6)):
            combos.append({p: vals[i % len(vals)] for p, vals in per_param.items()})
        return combos

    def strategy(self, info: OperationInfo, mode: GenerationMode, combo_index: int | None, combos: list[dict]):
        key = (info.op_id, mode, combo_index)
        with self._lock:
            strat = self._strategies.get(key)
        if strat is None:
            path = combos[combo_index] if combo_index is not None else None
            strat = info.operation.as_strategy(mode, path_parameters=path or None)
            with self._lock:
                self._strategies[key] = strat
        return strat

    def negatable(self, info: OperationInfo, combos: list[dict]) -> bool:
        """Whether schemathesis can produce negative data once the path parameters are fixed."""
        with self._lock:
            known = self._negatable.get(info.op_id)
        if known is not None:
            return known
        strat = self.strategy(info, GenerationMode.NEGATIVE, 0 if combos and combos[0] else None, combos)

        @settings(max_examples=1, database=None, deadline=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @seed(0)
        @given(strat)
        def probe(case):
            pass

        try:
            probe()
            ok = True
        except Unsatisfiable:
            ok = False
        except Exception as exc:  # a schema schemathesis cannot negate
            log.info("no negative data for %s: %s", info.op_id, exc)
            ok = False
        with self._lock:
            self._negatable[info.op_id] = ok
        return ok

    # -- bodies: keep generated writes on this run's objects --------------------
    def shape_body(self, info: OperationInfo, case) -> None:
        negative = bool(case.meta and case.meta.generation.mode.is_negative)
        body = getattr(case, "body", None)
        if not info.writes or not isinstance(body, (dict, list)):
            return
        body = copy.deepcopy(body)
        path = dict(case.path_parameters or {})
        if info.method == "POST" and info.rel in NAMED_CREATES and isinstance(body, dict):
            field_name = NAMED_CREATES[info.rel]
            if field_name in body or not negative:  # a negative body may lack it on purpose
                body[field_name] = self.owned_name(field_name.split("_")[0])
        if info.rel in NAMED_UPDATES and isinstance(body, dict):
            field_name, param = NAMED_UPDATES[info.rel]
            for name in (field_name, "pool") if field_name == "name" else (field_name,):  # 3.x pools: alias `pool`
                if name in body and param in path:
                    body[name] = path[param]
        if info.method == "PATCH" and info.rel in BULK_FIELDS and isinstance(body, dict):
            self._shape_bulk(body, BULK_FIELDS[info.rel])
        vacant = self.samples.values("asset_id", write=True)
        if info.method == "POST" and info.rel == "/assets/events" and isinstance(body, dict) and vacant \
                and ("asset_id" in body or not negative):  # an event only for an asset proven absent
            body["asset_id"] = vacant[0]
        trigger = info.method == "POST" and info.rel in TRIGGERS
        self._pin_dag_refs(body, path, trigger=trigger)
        if trigger and isinstance(body, dict) and body.get("dag_run_id") is None and not negative:
            body["dag_run_id"] = self.owned_name("run")  # the server's own name (manual__<date>) has no prefix
        if negative and body != case.body:
            # the suite replaced generated values (names, DAG refs): the invalid part may be gone, so
            # whether the server "accepted invalid data" can no longer be judged for this case
            self._reshaped.add(id(case))
        case.body = body

    def shape_query(self, info: OperationInfo, case) -> None:
        """A collection-wide DAG update matches the probe DAGs (disruptive) or nothing at all (the run prefix)."""
        if info.writes and info.rel == "/dags" and isinstance(case.query, dict):
            pattern = PROBE_DAG_ID if self.ctx.options.profile == "disruptive" else f"{self.ctx.prefix}no_such_dag"
            case.query = {**case.query, "dag_id_pattern": pattern}

    def _shape_bulk(self, body: dict, field_name: str) -> None:
        actions = body.get("actions")
        for action in actions if isinstance(actions, list) else []:
            if not isinstance(action, dict) or not isinstance(action.get("entities"), list):
                continue
            entities = []
            for entity in action["entities"]:
                if isinstance(entity, dict):
                    entity = {**entity, field_name: self.owned_name("bulk")} if field_name in entity or \
                        action.get("action") == "create" else entity
                elif isinstance(entity, str):
                    entity = self.owned_name("bulk")
                entities.append(entity)
            action["entities"] = entities

    def _pin_dag_refs(self, node, path: dict, *, trigger: bool) -> None:
        """Body fields naming a DAG or run point at the probe DAG and this run's objects."""
        s = self.samples
        if isinstance(node, list):
            for item in node:
                self._pin_dag_refs(item, path, trigger=trigger)
            return
        if not isinstance(node, dict):
            return
        for key_name in list(node):
            value = node[key_name]
            if key_name == "dag_id" and value is not None:
                node[key_name] = path.get("dag_id", PROBE_DAG_ID) if path.get("dag_id") not in (None, "~") else PROBE_DAG_ID
            elif key_name == "dag_ids" and isinstance(value, list):
                node[key_name] = [PROBE_DAG_ID for _ in value]
            elif key_name in ("dag_run_id", "run_id") and isinstance(value, str):
                if trigger:
                    node[key_name] = self.owned_name("run")
                elif not value.startswith(self.ctx.prefix):
                    node[key_name] = path.get("dag_run_id") or s.owned.get("dag_run") or f"{self.ctx.prefix}prop_missing_run"
            else:
                self._pin_dag_refs(value, path, trigger=trigger)

    # -- one operation ----------------------------------------------------------
    def run(self, op_id: str, max_examples: int, deadline: float | None = None) -> Outcome:
        """Generate, send and check up to `max_examples` cases; after `deadline` (monotonic) send no more."""
        info = self.ops[op_id]
        outcome = self.new_outcome(op_id)
        combos = self.path_choices(info)
        has_negative = self.negatable(info, combos)

        @settings(max_examples=max_examples, database=None, deadline=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck), derandomize=False, print_blob=False, report_multiple_bugs=False)
        @seed(outcome.seed)
        @given(data=st.data())
        def examples(data):
            roll = data.draw(st.integers(0, 9), label="kind")
            explore = roll < EXPLORE and not info.writes  # writes always aim at the run's own objects
            mode = GenerationMode.NEGATIVE if (EXPLORE <= roll < EXPLORE + NEGATIVE and has_negative) \
                else GenerationMode.POSITIVE
            index = None
            if combos and info.path_params and not explore:
                index = data.draw(st.integers(0, len(combos) - 1), label="objects")
            case = data.draw(self.strategy(info, mode, index, combos), label="case")
            if _case_beyond_int64(case):
                reject()
            if mode is GenerationMode.POSITIVE and not explore:
                _drop_undeclared_properties(info, case)
            # after the draws: hypothesis requires the same draws for the same choices, whatever the clock says
            if deadline is not None and outcome.sent and time.monotonic() > deadline:
                outcome.over_budget += 1
                return
            try:
                self.exchange(info, case, outcome)
            except Exception as exc:  # noqa: BLE001 - kept per case; raising would make hypothesis retry it
                log.debug("case of %s could not be handled", op_id, exc_info=True)
                outcome.internal_errors.append(_describe_exception(exc))

        examples()
        if outcome.sent == 0 and outcome.refused:
            self.missing_field_probe(info, combos, outcome)
        return outcome

    def missing_field_probe(self, info: OperationInfo, combos: list[dict], outcome: Outcome) -> None:
        """When no generated case may be sent: one body without its required fields, which must be refused.

        The guard decides as for any write (an invalid body is still a write to a server that does
        not validate), so it goes only where the run may write; elsewhere it is refused like the rest.
        """
        required = self.ctx.router.required_fields.get(info.op_id, ())
        if not required or not info.writes:
            return
        path = combos[0] if combos and combos[0] else {}
        if info.path_params and not path:
            read = {p: self.samples.values(p, write=False) for p in info.path_params}
            if not all(read.values()):
                return
            path = {p: values[0] for p, values in read.items()}
        case = info.operation.Case(path_parameters=path or None, body={}, media_type="application/json")
        _, session, _ = self.worker()
        response = self.send(case, session, outcome)
        if response is None:
            return
        if not 400 <= response.status_code < 500:
            outcome.add(self.failure("required_fields_enforced", response,
                                     f"{info.title} with an empty body (missing {', '.join(required)}) answered "
                                     f"{response.status_code}; invalid input must be refused with 4xx", info.op_id))

    def send(self, case, session, outcome: Outcome):
        """Send one case, count it and check the answer; None when refused or not answered."""
        try:
            response = case.call(session=session, base_url=self.base_url)
        except RequestRefused as exc:
            outcome.refused.append(exc.reason)
            return None
        except requests.RequestException as exc:
            outcome.transport_errors.append(exc)
            return None
        outcome.sent += 1
        outcome.statuses[response.status_code] = outcome.statuses.get(response.status_code, 0) + 1
        self.check(case, response, outcome)
        return response

    def new_outcome(self, name: str) -> Outcome:
        """An empty outcome whose failures are matched against the known deviations of `property.<name>`."""
        return Outcome(name, self.op_seed(name),
                       classify=lambda f: self.ctx.expectations.known(f.facts) if f.facts is not None else None)

    def exchange(self, info: OperationInfo, case, outcome: Outcome) -> None:
        """Send one case (and, once, the same case without credentials) and check the answers."""
        _, session, anon = self.worker()
        self.shape_body(info, case)
        self.shape_query(info, case)
        _strip_credentials(case)
        if not info.writes:  # the same read again tells nothing new; a repeated write may (conflicts)
            key = _case_key(case)
            if key in outcome.seen:
                outcome.repeats += 1
                return
            outcome.seen.add(key)
        if info.rel in REVOKES_CREDENTIALS:
            session = self.sacrificial_session()
        response = self.send(case, session, outcome)
        if response is None:
            return
        if info.protected and not outcome.anon_checked:
            self.check_anonymous(info, case, anon, outcome)

    def sacrificial_session(self):
        """A session whose credentials may be revoked: a freshly minted JWT, never the run's own.

        `GET /auth/logout` revokes the bearer token it is sent with (3.x answers 403 "Invalid JWT
        token" to it afterwards), so it must not see the token the rest of the run (and its cleanup)
        depends on. A user-supplied fixed token is never risked: then the request goes anonymous.
        """
        auth = self.ctx.target.auth
        if auth.kind != "jwt":
            return self.ctx.session_as(None)
        session = self.ctx.session_as(make_auth(auth, self.ctx.target.url, lambda: self.ctx.session_as(None)))
        session.disposable_credentials = True
        return session

    def check(self, case, response, outcome: Outcome, *, schemathesis_checks=SCHEMATHESIS_CHECKS) -> None:
        """Every check judges the answer; a check that crashes is recorded (an `error`), never a pass."""
        op_id = case.operation.definition.raw.get("operationId", "")
        reshaped = id(case) in self._reshaped
        self._reshaped.discard(id(case))  # ids are reused once a case is gone: judge each case once
        for fn in schemathesis_checks:
            name = fn.__name__
            if reshaped and fn is negative_data_rejection:
                continue
            outcome.judged(name)
            try:
                case.validate_response(response, checks=[fn])
            except FailureGroup as group:
                for failure in group.exceptions:
                    message = failure.title + (": " + failure.message if failure.message else "")
                    outcome.add(self.failure(name, response, message, op_id, case=case,
                                             schema_error=_schema_error_of(failure)))
            except AssertionError as exc:
                outcome.add(self.failure(name, response, str(exc), op_id, case=case))
            except Exception as exc:  # noqa: BLE001 - a check that cannot judge is reported, not passed
                outcome.check_errors.append((name, _describe_exception(exc)))
        for name, message in run_all(response, case, errors=outcome.check_errors):
            outcome.add(self.failure(name, response, message, op_id, case=case))
        for name in registered_checks():
            outcome.judged(name)

    def check_anonymous(self, info: OperationInfo, case, anon, outcome: Outcome) -> None:
        anon.cookies.clear()  # a cookie picked up from an earlier answer must not stand in for credentials
        try:
            response = case.call(session=anon, base_url=self.base_url)
        except RequestRefused:
            return
        except requests.RequestException as exc:
            outcome.transport_errors.append(exc)
            return
        outcome.anon_checked = True
        outcome.sent += 1
        if 200 <= response.status_code < 300:
            outcome.add(self.failure(AUTH_CHECK, response,
                                     f"{info.title} answered {response.status_code} to a request without credentials; "
                                     "a protected operation must refuse it (401/403)", info.op_id))
        self.check(case, response, outcome, schemathesis_checks=(not_a_server_error, status_code_conformance,
                                                                 content_type_conformance, response_schema_conformance))

    def failure(self, check: str, response, message: str, operation: str = "", *, case=None,
                schema_error: str = "") -> Failure:
        """A failure of `check` on `response`, with the server's words, the request and a redacted curl."""
        ctype = content_type_of(response)
        request = getattr(response, "request", None)
        curl = self.ctx.redactor.curl(request) if isinstance(request, requests.PreparedRequest) else ""
        text = " ".join(message.split())
        body = _excerpt(response)
        if body:
            text += f" | response: {body}"
        if isinstance(request, requests.PreparedRequest):
            text += f" | request: {request.method} {unquote(urlsplit(request.url or '').path)}"
            query = unquote(urlsplit(request.url or "").query)
            if query:
                text += "?" + query[:2000]
            sent = request.body
            if isinstance(sent, bytes):
                sent = sent.decode("utf-8", "replace")
            if sent is not None:
                text += f" body {_compact_body(sent)[:4000]}"
        facts = observe(f"property.{operation}", check, response, operation, schema_error=schema_error,
                        invalid=_invalid_facts(case) if check == "negative_data_rejection" else frozenset(),
                        backend=self.ctx.expectations.backend)
        return Failure(check, int(response.status_code), ctype, self.ctx.redactor.redact(text), curl, request,
                       operation=operation, facts=facts)


def observe(result_id: str, check: str, response, operation: str, *, schema_error: str = "",
            invalid: frozenset = frozenset(), backend: str = "") -> Observation:
    """The facts a deviation may match: the server's answer, and structured facts of the request.

    The request contributes only the names of query parameters and body fields it carried and
    whether the body was empty, never its text.
    """
    raw = getattr(response, "content", b"") or b""
    text = raw[:8000].decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)[:8000]
    try:
        doc = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        doc = None
    request = getattr(response, "request", None)
    query: frozenset = frozenset()
    fields: frozenset = frozenset()
    empty = None
    if isinstance(request, requests.PreparedRequest):
        query = frozenset(k for k, _ in parse_qsl(urlsplit(request.url or "").query, keep_blank_values=True))
        sent = request.body
        if isinstance(sent, bytes):
            sent = sent.decode("utf-8", "replace")
        if sent in (None, ""):
            empty = True
        else:
            try:
                parsed = json.loads(sent)
            except ValueError:
                parsed = sent
            empty = parsed in ({}, [], "")
            if isinstance(parsed, dict):
                fields = frozenset(parsed)
    return Observation(result_id=result_id, check=check, status=int(response.status_code),
                       content_type=content_type_of(response), body=text, json=doc, operation=operation,
                       schema_error=schema_error, invalid=invalid, query=query, body_fields=fields,
                       body_empty=empty, backend=backend)


def _schema_error_of(failure) -> str:
    """`<instance path>: <message>` of a response-schema failure (derived from the response)."""
    path = getattr(failure, "instance_path", None)
    raw = getattr(failure, "_raw_message", None) or getattr(failure, "validation_message", None)
    if path is None and raw is None:
        return ""
    where = "/" + "/".join(str(p) for p in (path or []))
    return f"{where}: {raw or ''}"


def _invalid_facts(case) -> frozenset:
    """Kinds of invalid input schemathesis generated for a negative case: `location:keyword`."""
    try:
        mutations = case.meta.phase.data.mutations or ()
    except AttributeError:
        return frozenset()
    out = set()
    for m in mutations:
        location = getattr(getattr(m, "parameter_location", None), "value", "unknown")
        for keyword in getattr(m, "keywords", ()) or ("unknown",):
            out.add(f"{location}:{keyword}")
    return frozenset(out)


INT64 = (-(2**63), 2**63 - 1)


def _beyond_int64(value) -> bool:
    """A number no database column holds; the spec leaves most numbers unbounded.

    Beyond int64 every backend fails in its driver (SQLite: "Python int too large"), which says
    nothing about the API contract, so such cases are not sent (numbers inside the range are).
    """
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return not INT64[0] <= value <= INT64[1]
    if isinstance(value, float):
        return abs(value) >= 2.0**63
    if isinstance(value, str):
        stripped = value.lstrip("-")
        return stripped.isdigit() and len(stripped) > 18 and not INT64[0] <= int(value) <= INT64[1]
    if isinstance(value, dict):
        return any(_beyond_int64(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_beyond_int64(v) for v in value)
    return False


def _case_beyond_int64(case) -> bool:
    return any(_beyond_int64(getattr(case, name, None)) for name in ("path_parameters", "query", "body"))


def _describe_exception(exc: BaseException) -> str:
    """Type, message and the innermost frame: enough to find a defect without a traceback on screen."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f" at {tb.tb_frame.f_code.co_filename.rsplit('/', 2)[-1]}:{tb.tb_lineno}" if tb is not None else ""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}{where}"


def _shorten(value, limit: int = 80):
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + "…"
    if isinstance(value, dict):
        return {k: _shorten(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [_shorten(v, limit) for v in value[:20]] + (["…"] if len(value) > 20 else [])
    return value


def _compact_body(sent: str) -> str:
    """A JSON body with long strings cut short, so every field name stays visible to deviation matching.

    Generated strings are often kilobytes of escaped unicode; cutting the serialized body instead
    would hide the fields after them (the field that made the server fail among them).
    """
    try:
        data = json.loads(sent)
    except ValueError:
        return sent
    # password, extra, token ... fields are masked as in the curl reproduction
    return json.dumps(_shorten(mask_fields(data))) if isinstance(data, (dict, list)) else sent


def _excerpt(response, limit: int = 1000) -> str:
    """The server's own words (error detail or body start), for people and for matching known deviations."""
    raw = response.content or b""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return " ".join(raw[:limit].decode("utf-8", "replace").split())
    if isinstance(body, dict) and ("detail" in body or "title" in body):
        body = {k: body[k] for k in ("title", "detail") if k in body}
    return json.dumps(body, default=str)[:limit]


def _declared_properties(schema: dict, resolve, depth: int = 0) -> set[str] | None:
    """Writable property names an object schema declares (through $ref/allOf); None when it is open-ended.

    Properties marked readOnly are left out: a client does not send them.
    """
    if depth > 8 or not isinstance(schema, dict):
        return None
    if "$ref" in schema:
        return _declared_properties(resolve(schema["$ref"]), resolve, depth + 1)
    props = schema.get("properties") or {}
    names: set[str] = {k for k, v in props.items() if not _read_only(v, resolve)}
    if props and not names:
        names = {""}  # only read-only properties: nothing to send, but the schema is closed
    for part in schema.get("allOf") or []:
        more = _declared_properties(part, resolve, depth + 1)
        if more is None:
            return None
        names |= more
    if any(k in schema for k in ("anyOf", "oneOf")) or (not names and schema.get("additionalProperties") is not False):
        return None
    return names


def _keep_read_only(original, rewritten):
    """The "or null" rewrite wraps `$ref` siblings into anyOf and drops readOnly; put readOnly back."""
    if isinstance(original, dict) and isinstance(rewritten, dict):
        if original.get("readOnly") is True and "readOnly" not in rewritten:
            rewritten = {**rewritten, "readOnly": True}
        return {k: _keep_read_only(original.get(k), v) for k, v in rewritten.items()}
    if isinstance(original, list) and isinstance(rewritten, list) and len(original) == len(rewritten):
        return [_keep_read_only(o, r) for o, r in zip(original, rewritten)]
    return rewritten


def _read_only(schema, resolve, depth: int = 0) -> bool:
    if not isinstance(schema, dict) or depth > 4:
        return False
    if schema.get("readOnly") is True:
        return True
    if "$ref" in schema:
        return _read_only(resolve(schema["$ref"]), resolve, depth + 1)
    return any(_read_only(part, resolve, depth + 1) for part in schema.get("allOf") or [])


def _drop_undeclared_properties(info: OperationInfo, case) -> None:
    """Positive bodies keep to the properties the spec declares.

    The spec leaves request objects open (no `additionalProperties: false`), so generated bodies
    carry random extra keys; Airflow 2 rejects those wholesale, which would stop almost every write
    at validation. Explore cases keep them, so that mismatch is still observed.
    """
    body = getattr(case, "body", None)
    if not isinstance(body, dict) or not case.media_type or "json" not in case.media_type:
        return
    raw = info.operation.definition.raw.get("requestBody") or {}
    spec = info.operation.schema.raw_schema

    def resolve(ref: str):
        node = spec
        for part in ref.lstrip("#/").split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        return node

    if "$ref" in raw:
        raw = resolve(raw["$ref"])
    schema = ((raw.get("content") or {}).get(case.media_type) or {}).get("schema")
    names = _declared_properties(schema, resolve) if schema else None
    if names is None:
        return
    extra = [k for k in body if k not in names]
    if extra:
        case.body = {k: v for k, v in body.items() if k in names}


def _case_key(case) -> str:
    """What goes on the wire for a case, as one comparable string."""
    return json.dumps([case.method, case.formatted_path, case.query, case.headers, getattr(case, "body", None),
                       case.media_type], sort_keys=True, default=repr)


def _strip_credentials(case) -> None:
    """Generated credentials never replace the run's own (Basic on 2.x, JWT on 3.x)."""
    headers = case.headers
    if headers and any(k.lower() in ("authorization", "cookie") for k in headers):
        case.headers = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie")}
    if getattr(case, "cookies", None):
        case.cookies = {}


def summarize(outcome: Outcome) -> str:
    parts = [f"{outcome.sent} requests"]
    if outcome.statuses:
        parts.append("statuses " + ", ".join(f"{k}x{v}" for k, v in sorted(outcome.statuses.items())))
    if outcome.refused:
        parts.append(f"{len(outcome.refused)} cases refused by the guard")
    if outcome.repeats:
        parts.append(f"{outcome.repeats} repeated reads not sent again")
    if outcome.over_budget:
        parts.append(f"{outcome.over_budget} cases not sent (time budget)")
    return "; ".join(parts)
