"""The single decision point for every request the suite sends.

Scenario code, property tests, token logins and cleanup all send through
`conformance.safety.session.GuardedSession`, whose `send` asks `Guard.decide`
first; a refused request never leaves the process. The rules follow the
safety model of the design: `readonly` may not change anything, `sandbox`
may change only what the run itself created (named with the run prefix,
recorded in the ledger) and the suite's own probe DAGs, `disruptive` may do
anything but only where the user allowed it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from conformance.errors import ConfigError, RequestRefused  # noqa: F401 (re-exported: refusals are the guard's)
from conformance.http.client import SAFE_METHODS
from conformance.http.router import Match, Router
from conformance.model.reasons import ReasonCode
from conformance.model.resources import ADMIN_KINDS, SANDBOX_KINDS
from conformance.options import PROFILES
from conformance.safety.ledger import PARAM_KINDS, Ledger

GLOBAL_PREFIX = "acf_"

# POST operations that only read (list endpoints taking their filters in a body).
READONLY_POSTS = frozenset({"get_dag_runs_batch", "get_task_instances_batch", "get_list_dag_runs_batch"})
# Administrative areas never written outside the disruptive profile.
FORBIDDEN_AREAS = (*(k.collection for k in ADMIN_KINDS), "/permissions", "/auth/fab")
DISRUPTIVE_ONLY = ReasonCode.DISRUPTIVE_ONLY.value  # the code of the two refusals below: a disruptive run sends them
FORBIDDEN_AREA_REASON = "users, roles and permissions are never written outside the disruptive profile"
# how a collection-wide write the sandbox cannot bind is refused (after "METHOD /path ")
WHOLE_COLLECTION_REASON = "writes a whole collection; the sandbox cannot bind it to this run's objects"
# users and roles a disruptive run created (named with its prefix, in its ledger): the one write any profile
# may make to them is their deletion, so `cleanup` can finish a crashed disruptive run's work
OWN_ADMIN_OBJECTS = {k.item: k.param for k in ADMIN_KINDS}  # path -> naming parameter
# Path parameters that name one of the suite's own objects, and how.
PREFIXED_PARAMS = (*(k.param for k in SANDBOX_KINDS), "uri")  # uri: 2.x dataset (queued events)
BINDABLE_PARAMS = frozenset(
    {
        "dag_id",
        "dag_run_id",
        "task_id",
        "map_index",
        "xcom_key",
        "task_try_number",
        "try_number",
        "backfill_id",
        "group_id",
        "key",
        "file_token",
        *PREFIXED_PARAMS,
    }
)
# Collection-level creates, identified by the body field naming the new object.
BULK_KEYS = {k.collection: k.field for k in SANDBOX_KINDS}
BODY_KEYED_CREATES = {
    **BULK_KEYS,
    **{post: k.field for k in SANDBOX_KINDS for post in k.named_posts},
    "/datasets/events": "dataset_uri",
}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    match: Match | None = None
    code: str = ""  # a refusal's ReasonCode value where it is narrower than refused_by_guard (disruptive_only)

    @property
    def operation_id(self) -> str | None:
        return self.match.operation_id if self.match else None


def _json_body(body: object) -> object:
    """The JSON a request body holds (None without a body, _UNREADABLE when it is no JSON document)."""
    if body is None:
        return None
    if not isinstance(body, (str, bytes, bytearray)):  # a stream or an iterable: json.loads refuses it (TypeError)
        return _UNREADABLE
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, TypeError):
        return _UNREADABLE


_UNREADABLE = object()


class Guard:
    """Decides, per request, whether it may touch what it targets."""

    def __init__(
        self,
        profile: str,
        *,
        run_prefix: str,
        ledger: Ledger,
        probe_dag_ids: tuple[str, ...] = (),
        disposable_dag_ids: tuple[str, ...] = (),
        router: Router | None = None,
        allow_creates: bool = True,
    ) -> None:
        if profile not in PROFILES:
            raise ConfigError(f"unknown --profile '{profile}': expected one of {', '.join(PROFILES)}")
        self.profile = profile
        self.run_prefix = run_prefix
        self.ledger = ledger
        self.probe_dag_ids = tuple(probe_dag_ids)
        self.disposable_dag_ids = tuple(disposable_dag_ids)
        self.router = router
        self.allow_creates = allow_creates
        self.probe_file_tokens: set[str] = set()  # learned from the probe DAGs at the start of a run
        # server-assigned ids (asset_id, backfill_id) a read confirmed absent at the start of a run
        self.vacant_ids: dict[str, set[str]] = {}

    # -- what the run learns about the target -----------------------------
    def learn_probe_file(self, token: str) -> None:
        """The file token of a probe DAG read at the start of the run: reparsing that file is allowed."""
        self.probe_file_tokens.add(token)

    def learn_vacant(self, param: str, value: object) -> None:
        """An id a read just answered 404 for: a write naming it can only be refused, so it may be sent."""
        self.vacant_ids.setdefault(param, set()).add(str(value))

    # -- the decision ----------------------------------------------------
    def decide(self, method: str, url: str, body: object = None, *, revocable: bool = False) -> Decision:
        """May this request be sent? `revocable`: its credentials are not the run's own (a throw-away
        token, or none at all), so a logout cannot cut the run off from the target."""
        method = method.upper()
        path = urlsplit(url).path.rstrip("/")
        match = self.router.match(method, url) if self.router else None
        if path.endswith("/auth/token") and method == "POST":
            return Decision(True, "token login", match)
        if path.endswith("/auth/logout") and revocable:
            return Decision(True, "logout with throw-away or no credentials", match)
        if path.endswith("/auth/logout") and self.profile != "disruptive":
            return Decision(
                False,
                "logging out would revoke the token the suite itself uses (Airflow 3 revokes JWTs on logout)",
                match,
            )
        if method in SAFE_METHODS:
            return Decision(True, "read", match)
        if self.profile == "disruptive":
            return Decision(True, "disruptive profile", match)
        if match is None:
            return Decision(
                False, f"{method} {path} is not an operation of the reference spec; only reads are sent", None
            )
        if match.operation_id in READONLY_POSTS:
            return Decision(True, "read-only list operation", match)
        if self.profile == "readonly":
            return Decision(False, "the readonly profile sends no state-changing request", match)
        return self._sandbox(method, match, body, parse_qs(urlsplit(url).query))

    def _sandbox(self, method: str, match: Match, body: object, query: dict | None = None) -> Decision:
        rel = self.router.relative(match.route.template) if self.router else match.route.template
        probe = self._negative_probe(method, match, body, query or {})
        if probe is not None:
            return probe
        if any(area in rel for area in FORBIDDEN_AREAS):
            return self._admin_object(method, rel, match)
        params = match.path_params
        unknown = [p for p in params if p not in BINDABLE_PARAMS]
        if unknown:
            return Decision(
                False, f"cannot bind path parameter(s) {', '.join(unknown)} to an object of this run", match
            )
        if not params:
            return self._collection_write(method, rel, match, body)
        return self._object_write(method, rel, match, body)

    def _negative_probe(self, method: str, match: Match, body, query: dict) -> Decision | None:
        """A write that provably cannot change anything, so it may test how the server refuses it.

        Never because the request is invalid: a server that does not validate (the kind this
        suite exists to find) would apply it, so an invalid body reaches only this run's objects.

        - Its top-level object is named with this run's prefix but was never
          created (nobody else uses the random prefix): the server can only
          answer 404 or a validation error. PUT is excluded, it may upsert.
        - A bulk DAG patch whose `dag_id_pattern` is the run prefix matches no DAG.
        - A path carries a server-assigned id (asset, backfill) that a read at the start of the run
          found absent; such ids come from a database sequence far below the one chosen.
        """
        params = match.path_params
        for name, value in params.items():
            if value in self.vacant_ids.get(name, ()):
                return Decision(True, f"negative probe: {name} {value} does not exist", match)
        if params and method in ("PATCH", "DELETE", "POST") and self.allow_creates:
            anchor_name = match.route.params[0]
            anchor = params[anchor_name]
            created = self.ledger.contains(PARAM_KINDS.get(anchor_name, ""), anchor)
            if anchor.startswith(self.run_prefix) and not created and anchor_name != "dag_run_id":
                return Decision(True, f"negative probe: {anchor_name} '{anchor}' does not exist", match)
        pattern = (query.get("dag_id_pattern") or [""])[0]
        if method == "PATCH" and not params and pattern.startswith(self.run_prefix):
            return Decision(True, "negative probe: dag_id_pattern matches no DAG", match)
        return None

    def _admin_object(self, method: str, rel: str, match: Match) -> Decision:
        """Only the deletion of a user or role this run created (a disruptive run's, finished by cleanup)."""
        param = OWN_ADMIN_OBJECTS.get(rel, "")
        kind, name = PARAM_KINDS.get(param, ""), match.path_params.get(param, "") if param else ""
        if method == "DELETE" and name.startswith(self.run_prefix) and self.ledger.contains(kind, name):
            return Decision(True, f"deletes the {kind} this run created", match)
        return Decision(False, FORBIDDEN_AREA_REASON, match, DISRUPTIVE_ONLY)

    def _object_write(self, method: str, rel: str, match: Match, body: object = None) -> Decision:
        params = match.path_params
        for name in PREFIXED_PARAMS:
            if name in params and not params[name].startswith(self.run_prefix):
                return Decision(
                    False, f"{name} '{params[name]}' was not created by this run (prefix {self.run_prefix})", match
                )
        collection = rel.rsplit("/", 1)[0]
        if method in ("PATCH", "PUT") and collection in BODY_KEYED_CREATES:
            data = _json_body(body)
            new_name = data.get(BODY_KEYED_CREATES[collection]) if isinstance(data, dict) else None
            if isinstance(new_name, str) and not new_name.startswith(self.run_prefix):
                return Decision(
                    False, "an update may not rename this run's object to a name without the run prefix", match
                )
        dag_id = params.get("dag_id")
        if dag_id is not None:
            if dag_id not in self.probe_dag_ids:
                return Decision(False, f"DAG '{dag_id}' is not one of the suite's probe DAGs", match)
            if method == "DELETE" and rel == "/dags/{dag_id}" and dag_id not in self.disposable_dag_ids:
                return Decision(False, f"only the disposable probe DAG may be deleted, not '{dag_id}'", match)
        run_id = params.get("dag_run_id")
        if run_id is not None:
            owned = run_id.startswith(self.run_prefix) or self.ledger.contains("dag_run", run_id, dag_id or "")
            if not owned:
                return Decision(False, f"DAG run '{run_id}' was not created by this run", match)
        token = params.get("file_token")
        if token is not None and token not in self.probe_file_tokens:
            return Decision(False, "only the probe DAGs' files may be re-parsed", match)
        backfill_id = params.get("backfill_id")
        if backfill_id is not None and not self.ledger.contains("backfill", str(backfill_id)):
            return Decision(False, f"backfill {backfill_id} was not created by this run", match)
        if not self.allow_creates and method in ("POST", "PUT") and rel.endswith("/dagRuns"):
            return Decision(False, "cleanup creates nothing", match)
        return Decision(True, "object of this run or probe DAG", match)

    def _collection_write(self, method: str, rel: str, match: Match, body: object) -> Decision:
        if not self.allow_creates:
            return Decision(False, "cleanup creates nothing", match)
        data = _json_body(body)
        if method == "POST" and rel in BODY_KEYED_CREATES:
            field = BODY_KEYED_CREATES[rel]
            value = data.get(field) if isinstance(data, dict) else None
            if isinstance(value, str) and value.startswith(self.run_prefix):
                return Decision(True, "creates an object named with the run prefix", match)
            return Decision(
                False, f"body field '{field}' must name an object with the run prefix {self.run_prefix}", match
            )
        if method == "POST" and rel in ("/backfills", "/backfills/dry_run"):
            dag_id = data.get("dag_id") if isinstance(data, dict) else None
            if dag_id in self.probe_dag_ids:
                return Decision(True, "backfill of a probe DAG", match)
            return Decision(False, "backfills are only created for probe DAGs", match)
        if method == "PATCH" and rel in BULK_KEYS:
            return self._bulk(rel, match, data)
        asset = data.get("asset_id") if isinstance(data, dict) else None
        if method == "POST" and rel == "/assets/events" and str(asset) in self.vacant_ids.get("asset_id", ()):
            return Decision(True, f"negative probe: asset {asset} does not exist", match)
        return Decision(False, f"{method} {rel} {WHOLE_COLLECTION_REASON}", match, DISRUPTIVE_ONLY)

    def _bulk(self, rel: str, match: Match, data: object) -> Decision:
        field = BULK_KEYS[rel]
        actions = data.get("actions") if isinstance(data, dict) else None
        if isinstance(data, dict) and actions in (None, []):  # whether the server validates or not, nothing to do
            return Decision(True, "negative probe: a bulk body without actions changes nothing", match)
        if not isinstance(actions, list) or not actions:
            return Decision(False, "bulk body without actions cannot be bound to this run's objects", match)
        for action in actions:
            entities = action.get("entities") if isinstance(action, dict) else None
            if not isinstance(entities, list):
                return Decision(False, "bulk action without entities cannot be bound to this run's objects", match)
            for entity in entities:
                name = entity.get(field) if isinstance(entity, dict) else entity
                if not (isinstance(name, str) and name.startswith(self.run_prefix)):
                    return Decision(False, f"bulk entity {field} must carry the run prefix {self.run_prefix}", match)
        return Decision(True, "bulk action on objects of this run", match)
