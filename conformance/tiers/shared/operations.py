"""The reference spec's operations as the property tier sees them, and the routes it treats specially.

The order of operations is part of the contract with the target: reads run
while every shared object still exists, deletes run last. The route tables
name the operations whose bodies or credentials the suite must keep on this
run's own objects (see `conformance.tiers.properties.shaping`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import schemathesis
from schemathesis.core.result import Err
from schemathesis.schemas import APIOperation

from conformance.checks.schema import _nullable_as_validators_read_it
from conformance.http.client import SAFE_METHODS
from conformance.model.resources import OWNED_KINDS, SANDBOX_KINDS
from conformance.safety.guard import READONLY_POSTS

HTTP_METHODS = ("get", "put", "post", "patch", "delete")

# POSTs whose body names the object they create: relative path -> body field
NAMED_CREATES = {
    **{k.collection: k.field for k in OWNED_KINDS},
    **{post: k.field for k in OWNED_KINDS for post in k.named_posts},
    "/datasets/events": "dataset_uri",
}
# PATCH/PUT of one object: the body field naming it follows the path (no renames)
NAMED_UPDATES = {k.item: (k.field, k.param) for k in OWNED_KINDS}
# 3.x bulk endpoints: entity field naming each object
BULK_FIELDS = {
    **{k.collection: k.field for k in SANDBOX_KINDS},
    "/dags/{dag_id}/dagRuns": "dag_run_id",
    "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances": "task_id",
}
TRIGGERS = ("/dags/{dag_id}/dagRuns",)
# operations that invalidate the credentials they are sent with
REVOKES_CREDENTIALS = ("/auth/logout",)


@dataclass
class OperationInfo:
    op_id: str
    method: str
    rel: str  # path template relative to the API base (`/dags/{dag_id}`)
    operation: APIOperation
    protected: bool
    path_params: tuple[str, ...]

    @property
    def title(self) -> str:
        return f"{self.method} {self.rel}"

    @property
    def writes(self) -> bool:
        return _writes(self.op_id, self.method)

    @property
    def order(self) -> tuple:
        return _order(self.op_id, self.method, self.rel)


def _writes(op_id: str, method: str) -> bool:
    return method not in SAFE_METHODS and op_id not in READONLY_POSTS


def _order(op_id: str, method: str, rel: str) -> tuple:
    """Reads first, then creates/updates, then deletes (DAG runs and DAGs last), so shared objects live long."""
    if not _writes(op_id, method):
        return (0,)
    if method != "DELETE":
        return (1,)
    if rel == "/dags/{dag_id}":
        return (2, -1)  # first, so the disposable DAG is parsed again while the other deletes run
    if rel == "/dags/{dag_id}/dagRuns/{dag_run_id}":
        return (2, 2)
    return (2, 1 if "dagRuns" in rel else 0)


def is_protected(raw_op: dict, spec: dict) -> bool:
    """Documented as needing credentials: declares a 401, or a non-empty security requirement."""
    if "401" in (raw_op.get("responses") or {}):
        return True
    security = raw_op.get("security", spec.get("security"))
    if not security:
        return False
    return all(req for req in security)


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
        return _order(op_id, method, rel)

    return sorted(ops, key=key)  # stable: spec order within a phase


def load_operations(spec: dict, router) -> tuple[object, dict[str, OperationInfo]]:
    """The schemathesis schema of the reference spec and every operation of it, by operationId.

    OpenAPI 3.0 `nullable` beside `$ref`/`enum` is read as "or null", as the response
    validators read it, so schemathesis judges answers the same way the scenarios do.
    """
    spec = copy.deepcopy(spec)
    if str(spec.get("openapi", "")).startswith("3.0"):
        spec = keep_read_only(spec, _nullable_as_validators_read_it(copy.deepcopy(spec)))
    config = schemathesis.Config()
    config.projects.default.generation.update(with_security_parameters=False, allow_x00=False)
    schema = schemathesis.openapi.from_dict(spec, config=config)
    by_id = {}
    for result in schema.get_all_operations():
        if isinstance(result, Err):  # an operation schemathesis cannot read: the reference spec is broken
            raise result.err()
        operation = result.ok()
        by_id[operation.definition.raw.get("operationId")] = operation
    ops: dict[str, OperationInfo] = {}
    for op_id, method, rel, raw in spec_operations(spec, router):
        operation = by_id[op_id]
        params = tuple(p.name for p in operation.path_parameters)
        ops[op_id] = OperationInfo(op_id, method, rel, operation, is_protected(raw, spec), params)
    return schema, ops


def keep_read_only(original, rewritten):
    """The "or null" rewrite wraps `$ref` siblings into anyOf and drops readOnly; put readOnly back."""
    if isinstance(original, dict) and isinstance(rewritten, dict):
        if original.get("readOnly") is True and "readOnly" not in rewritten:
            rewritten = {**rewritten, "readOnly": True}
        return {k: keep_read_only(original.get(k), v) for k, v in rewritten.items()}
    if isinstance(original, list) and isinstance(rewritten, list) and len(original) == len(rewritten):
        return [keep_read_only(o, r) for o, r in zip(original, rewritten)]
    return rewritten
