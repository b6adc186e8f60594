"""Read who may do what from an Airflow release's own source: the data of `access.yaml`.

`python -m conformance.expectations.access_extract VENV` runs this file with the
release venv's own interpreter (Airflow importable, a throw-away AIRFLOW_HOME)
and prints the release's entry for `conformance/expectations/access.yaml`:

- for every operation of the release's own spec, the permissions its handler
  requires, read from the handler's `requires_access*` decorator (2.x) or
  dependency (3.x), with the file and function it was read from;
- for every built-in role, the permissions it holds: 2.x from the FAB security
  manager's ROLE_CONFIGS (Admin also gets every other permission, see
  `update_admin_perm_view` / `update_admin_permission`), 3.x by asking the
  release's own SimpleAuthManager, for each kind and method, whether the role
  is authorized.

Decorator arguments are evaluated in the endpoint module's namespace and
turned into FAB permissions with the release's own FabAuthManager helpers, so
the mapping is Airflow's, not a copy of it. Inside the venv the file must run
on Python 3.8 (Airflow 2.0-2.5): no `ast.unparse`, no pattern matching.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

METHODS = ("GET", "POST", "PUT", "DELETE")
SIMPLE_KINDS = ("configuration", "connection", "dag", "asset", "asset_alias", "pool", "variable", "view", "custom_view")
SIMPLE_ROLES = ("viewer", "user", "op", "admin")
# 3.x dependencies that authorize against a DAG although their name says otherwise
DAG_BACKED = {
    "requires_access_backfill": "dag",
    "requires_access_event_log": "dag",
    "requires_access_dag_from_file_token": "dag",
}
# 3.x bulk dependencies: the kind each authorizes per entity; the tier's probe sends one delete action
BULK = {
    "requires_access_variable_bulk": "variable",
    "requires_access_pool_bulk": "pool",
    "requires_access_connection_bulk": "connection",
    "requires_access_dag_run_bulk": "dag",
    "requires_access_dag_run_clear_bulk": "dag",
}
# ... and the method each checks for the probe's body (one delete action; a clear of one run is an edit)
BULK_METHOD = {"requires_access_dag_run_clear_bulk": "PUT"}


# ------------------------------------------------------------------ inside the release venv


def _site() -> Path:
    import airflow  # noqa: PLC0415

    return Path(airflow.__file__).resolve().parent.parent


def _rel(path: str | None) -> str:
    """A module's file relative to site-packages (every module read here has one)."""
    assert path is not None
    return str(Path(path).resolve().relative_to(_site()))


def _segment(source: str, node: ast.AST) -> str:
    """The source text of a node on one line (a multi-line decorator reads like a one-liner)."""
    text = " ".join((ast.get_source_segment(source, node) or "").split())
    return re.sub(r",?\s+([\])])", r"\1", re.sub(r"([\[(])\s+", r"\1", text))


def _function(module, name: str):
    """(source text, FunctionDef) of a module-level function."""
    source = Path(module.__file__).read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return source, node
    return source, None


def _call_name(node: ast.AST) -> str:
    func = node.func if isinstance(node, ast.Call) else node
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _evaluate(node: ast.expr, namespace: dict):
    return eval(compile(ast.Expression(node), "<decorator>", "eval"), namespace)  # noqa: S307 (the release's own source)


def _forwarded(module, fn: ast.FunctionDef):
    """What a handler without a decorator only delegates to: `return other_module.func(**kwargs)` (2.9+
    forward_to_fab_endpoint) or `return func(...)` of the same module (the mapped-task-instance variants)."""
    for node in ast.walk(fn):
        if not (isinstance(node, ast.Return) and isinstance(node.value, ast.Call)):
            continue
        func = node.value.func
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and inspect.ismodule(module.__dict__.get(func.value.id))
        ):
            return module.__dict__[func.value.id], func.attr
        if isinstance(func, ast.Name) and _function(module, func.id)[1] is not None:
            return module, func.id  # a function of the same file (also on a stand-in module, 2.0-2.2 and 2.7)
    return None


def _fab_needs(call: ast.Call, namespace: dict, has_dag_id: bool) -> list[list[str]]:
    """The FAB permissions a 2.x `requires_access*` decorator checks, as the release's FabAuthManager maps them."""
    name = _call_name(call)
    args = [_evaluate(a, namespace) for a in call.args]
    kwargs = {k.arg: _evaluate(k.value, namespace) for k in call.keywords}
    if name == "requires_access":
        return [list(p) for p in (args[0] if args else kwargs.get("permissions") or [])]
    fam = _fab_auth_manager_module()
    manager = fam.FabAuthManager
    method = args[0] if args else kwargs.get("method")
    if name == "requires_access_view":
        view = args[0] if args else kwargs["access_view"]
        resource = fam._MAP_ACCESS_VIEW_TO_FAB_RESOURCE_TYPE[view]
        return [[manager._get_fab_action("MENU" if view.name == "DOCS" else "GET"), resource]]
    if name == "requires_access_custom_view" and str(method).startswith("can_"):
        return [[method, args[1] if len(args) > 1 else kwargs["resource_name"]]]  # 2.8: a FAB action already
    action = manager._get_fab_action(method)
    if name == "requires_access_custom_view":
        return [[action, args[1] if len(args) > 1 else kwargs["resource_name"]]]
    if name == "requires_access_dag":
        entity = args[1] if len(args) > 1 else kwargs.get("access_entity")
        if entity is None:
            return [[action, fam.RESOURCE_DAG]]
        needs = [[action, r] for r in manager._get_fab_resource_types(entity)]
        if has_dag_id:  # is_authorized_dag: a named DAG must also be readable (GET) or editable (others)
            needs.insert(0, [manager._get_fab_action("GET" if method == "GET" else "PUT"), fam.RESOURCE_DAG])
        return needs
    kind = name[len("requires_access_") :]
    source, fn = _function_in_class(manager, f"is_authorized_{kind}")
    return [[action, _resource_type(fn, fam.__dict__, manager)]]


def _fab_auth_manager_module():
    """FabAuthManager: in the fab provider from 2.9 on, in Airflow core (`airflow.auth.managers.fab`) on 2.8."""
    try:
        return importlib.import_module("airflow.providers.fab.auth_manager.fab_auth_manager")
    except ImportError:
        return importlib.import_module("airflow.auth.managers.fab.fab_auth_manager")


def _function_in_class(cls, name: str):
    source = textwrap.dedent(inspect.getsource(getattr(cls, name)))
    return source, ast.parse(source).body[0]


def _resource_type(fn: ast.FunctionDef, namespace: dict, manager) -> str:
    """The `resource_type=` an `is_authorized_<kind>` passes on (following `self.is_authorized_asset(...)`)."""
    for node in ast.walk(fn):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg == "resource_type":
                    return _evaluate(kw.value, namespace)
    for node in ast.walk(fn):
        if isinstance(node, ast.Call) and _call_name(node).startswith("is_authorized_"):
            return _resource_type(_function_in_class(manager, _call_name(node))[1], namespace, manager)
    raise LookupError(f"no resource_type in {fn.name}")


def _v1_operations(site: Path) -> list[dict]:
    import yaml  # noqa: PLC0415

    spec = yaml.safe_load((site / "airflow/api_connexion/openapi/v1.yaml").read_text(encoding="utf-8"))
    out = []
    for path, item in spec["paths"].items():
        shared = item.get("x-openapi-router-controller")
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete") and isinstance(op, dict):
                out.append(
                    {
                        "id": op["operationId"],
                        "controller": op.get("x-openapi-router-controller") or shared,
                        "has_dag_id": "{dag_id}" in path,
                        "tag": (op.get("tags") or [""])[0],
                    }
                )
    return out


def _endpoint_module(name: str):
    """The endpoint module; where importing it needs a running app (2.0-2.2 decorators sync permissions at
    import), a stand-in with its file and the names its decorators use (`permissions.*`)."""
    try:
        return importlib.import_module(name)
    except RuntimeError:
        import types  # noqa: PLC0415

        permissions = importlib.import_module("airflow.security.permissions")
        stand_in = types.ModuleType(name)
        spec = importlib.util.find_spec(name)
        assert spec is not None  # importing it got as far as its decorators
        stand_in.__file__ = spec.origin
        stand_in.__dict__.update({k: v for k, v in vars(permissions).items() if not k.startswith("__")})
        stand_in.__dict__["permissions"] = permissions
        return stand_in


def _fab_operation(op: dict) -> dict:
    module = _endpoint_module(op["controller"])
    name = op["id"]
    for _ in range(3):
        source, fn = _function(module, name)
        if fn is None:
            return {"error": f"{op['controller']}.{name} not found"}
        calls = [
            d for d in fn.decorator_list if isinstance(d, ast.Call) and _call_name(d).startswith("requires_access")
        ]
        if calls:
            needs = [p for c in calls for p in _fab_needs(c, module.__dict__, op["has_dag_id"])]
            return {
                "needs": [f"{a} on {r}" for a, r in needs],
                "source": f"{_rel(module.__file__)} {name}: " + "; ".join("@" + _segment(source, c) for c in calls),
            }
        forward = _forwarded(module, fn)
        if forward is None:
            return {"public": True, "source": f"{_rel(module.__file__)} {name}: no requires_access decorator"}
        module, name = forward
    return {"error": f"{op['id']}: forwarding too deep"}


def _fab_roles() -> dict:
    for where in (
        "airflow.providers.fab.auth_manager.security_manager.override",
        "airflow.auth.managers.fab.security_manager.override",
    ):  # 2.9+ provider, 2.8 core
        try:
            mod = importlib.import_module(where)
        except ImportError:
            continue
        cls: Any = getattr(mod, "FabAirflowSecurityManagerOverride", None)
        if not hasattr(cls, "ROLE_CONFIGS"):  # 2.7: the override exists, the role configs are still in www
            continue
        admin_rule = "update_admin_permission"
        break
    else:
        mod = importlib.import_module("airflow.www.security")
        cls = mod.AirflowSecurityManager
        admin_rule = "update_admin_perm_view"
    roles = {}
    for config in cls.ROLE_CONFIGS:
        roles[config["role"]] = sorted({f"{a} on {r}" for a, r in config["perms"]})
    roles["Admin"] = ["*"]
    return {
        "roles": roles,
        "source": f"{_rel(mod.__file__)} {cls.__name__}.ROLE_CONFIGS (VIEWER/USER/OP/ADMIN_PERMISSIONS); "
        f"Admin: every permission ({cls.__name__}.{admin_rule})",
    }


def _v2_operations(site: Path) -> dict:
    """operationId -> (module, function, route decorator, dependency calls, authenticated) for 3.x public routes."""
    root = site / "airflow/api_fastapi/core_api/routes/public"
    init = (root / "__init__.py").read_text(encoding="utf-8")
    authenticated = {
        n.args[0].id
        for n in ast.walk(ast.parse(init))
        if isinstance(n, ast.Call)
        and _call_name(n) == "include_router"
        and isinstance(n.func, ast.Attribute)
        and isinstance(n.func.value, ast.Name)
        and n.func.value.id == "authenticated_router"
        and isinstance(n.args[0], ast.Name)
    }
    out = {}
    for file in sorted(root.glob("*.py")):
        source = file.read_text(encoding="utf-8")
        for fn in ast.parse(source).body:
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):  # routes are (async) functions
                continue
            for route in [
                d
                for d in fn.decorator_list
                if isinstance(d, ast.Call) and _call_name(d) in ("get", "post", "put", "patch", "delete")
            ]:
                op_id = next((ast.literal_eval(k.value) for k in route.keywords if k.arg == "operation_id"), fn.name)
                calls = [
                    n
                    for where in (route, fn.args)
                    for n in ast.walk(where)
                    if isinstance(n, ast.Call) and _call_name(n).startswith("requires_")
                ]
                router = route.func.value if isinstance(route.func, ast.Attribute) else None  # `@router.get(...)`
                out[op_id] = {
                    "file": f"airflow/api_fastapi/core_api/routes/public/{file.name}",
                    "calls": calls,
                    "function": fn.name,
                    "source_text": source,
                    "authenticated": isinstance(router, ast.Name) and router.id in authenticated,
                }
    return out


def _dag_backed(name: str) -> str | None:
    """The kind a DAG-backed dependency authorizes, if this release's dependency really asks about the DAG:
    3.0's `requires_access_backfill` still asks `is_authorized_backfill` (kind backfill, Op and up may write)."""
    if name == "requires_access_backfill":
        security = importlib.import_module("airflow.api_fastapi.core_api.security")
        if "is_authorized_backfill" in inspect.getsource(security.requires_access_backfill):
            return None
    return DAG_BACKED.get(name)


def _simple_needs(route: dict) -> dict:
    needs = []
    for call in route["calls"]:
        name = _call_name(call)
        args = [
            ast.literal_eval(a) if isinstance(a, ast.Constant) else _segment(route["source_text"], a) for a in call.args
        ]
        kwargs = {
            k.arg: (ast.literal_eval(k.value) if isinstance(k.value, ast.Constant) else None) for k in call.keywords
        }
        method = kwargs.get("method") or (args[0] if args and isinstance(args[0], str) and args[0] in METHODS else None)
        if name in BULK:
            needs.append(f"{BULK_METHOD.get(name, 'DELETE')} {BULK[name]}")
        elif name == "requires_access_view":
            needs.append("GET view")
        elif name == "requires_authenticated":
            continue
        else:
            kind = _dag_backed(name) or name[len("requires_access_") :]
            needs.append(f"{method} {kind}")
    text = "; ".join("Depends(" + _segment(route["source_text"], c) + ")" for c in route["calls"])
    return {"needs": needs, "text": text}


def _simple_roles() -> dict:
    mod = importlib.import_module("airflow.api_fastapi.auth.managers.simple.simple_auth_manager")
    user_mod = importlib.import_module("airflow.api_fastapi.auth.managers.simple.user")
    manager = mod.SimpleAuthManager()
    roles = {}
    for role in SIMPLE_ROLES:
        user = user_mod.SimpleAuthManagerUser(username="acf-extract", role=role)
        grants = []
        for kind in SIMPLE_KINDS + (("backfill",) if _dag_backed("requires_access_backfill") is None else ()):
            for method in METHODS:
                check = getattr(manager, f"is_authorized_{kind}")
                extra = (
                    {"access_view": list(_access_views())[0]}
                    if kind == "view"
                    else {"resource_name": "acf", "method": method}
                    if kind == "custom_view"
                    else {"method": method}
                )
                if kind == "view" and method != "GET":
                    continue
                if check(user=user, **extra):
                    grants.append(f"{method} {kind}")
        roles[role] = ["*"] if role == "admin" else grants
    return {
        "roles": roles,
        "source": f"{_rel(mod.__file__)} SimpleAuthManager.is_authorized_<kind> "
        "(SimpleAuthManagerRole order VIEWER < USER < OP < ADMIN), asked per kind and method",
    }


def _access_views():
    from airflow.api_fastapi.auth.managers.models.resource_details import AccessView  # noqa: PLC0415

    return AccessView


def _v2_spec_ids(site: Path) -> list[tuple[str, str]]:
    import yaml  # noqa: PLC0415

    spec = yaml.safe_load(
        (site / "airflow/api_fastapi/core_api/openapi/v2-rest-api-generated.yaml").read_text(encoding="utf-8")
    )
    return [
        (op["operationId"], (op.get("tags") or [""])[0])
        for item in spec["paths"].values()
        for m, op in item.items()
        if m in ("get", "post", "put", "patch", "delete")
    ]


def inside() -> dict:
    """The release entry, computed inside the release venv."""
    import airflow  # noqa: PLC0415

    site = _site()
    major = int(airflow.__version__.split(".")[0])
    ops = {}
    if major == 2:
        model = "fab"
        roles = _fab_roles()
        for op in _v1_operations(site):
            ops[op["id"]] = {**_fab_operation(op), "group": op["tag"]}
    else:
        model = "simple"
        roles = _simple_roles()
        routes = _v2_operations(site)
        for op_id, tag in _v2_spec_ids(site):
            route = routes.get(op_id)
            if route is None:
                ops[op_id] = {"error": "no route function of that name", "group": tag}
                continue
            needs = _simple_needs(route)
            where = f"{route['file']} {route['function']}: "
            if not route["authenticated"]:
                ops[op_id] = {
                    "public": True,
                    "source": where + "router not included in authenticated_router",
                    "group": tag,
                }
            else:
                ops[op_id] = {
                    "needs": needs["needs"],
                    "source": where + (needs["text"] or "Depends(get_user) only"),
                    "group": tag,
                }
    return {
        "release": airflow.__version__,
        "model": model,
        "roles": roles["roles"],
        "roles_source": roles["source"],
        "operations": ops,
    }


# ------------------------------------------------------------------ on the host


def extract(venv: Path) -> dict:
    """Run `inside()` with the release venv's interpreter and return its entry."""
    python = venv / "bin" / "python"
    with tempfile.TemporaryDirectory(prefix="acf-access-") as home:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "PYTHONWARNINGS": "ignore",
        }
        env.pop("PYTHONPATH", None)
        proc = subprocess.run(
            [str(python), __file__, "--inside"], capture_output=True, text=True, env=env, check=False, timeout=300
        )
    if proc.returncode != 0:
        raise SystemExit(f"extraction failed in {venv}: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


GENERATED = (
    "# --- generated by `python -m conformance.expectations.access_extract --write VENV...`; do not edit below ---"
)


def write(entries: list[dict], data_file: Path) -> None:
    """Replace the generated `releases:` section of the data file, keeping each release's `versions` range."""
    import yaml  # noqa: PLC0415

    text = data_file.read_text(encoding="utf-8")
    head, _, tail = text.partition(GENERATED)
    old = {e["release"]: e for e in (yaml.safe_load(tail) or {}).get("releases") or []}
    for entry in entries:
        old[entry["release"]] = {
            "release": entry["release"],
            "versions": (old.get(entry["release"]) or {}).get("versions") or f"=={entry['release']}",
            **{k: v for k, v in entry.items() if k != "release"},
        }
    ordered = sorted(old.values(), key=lambda e: [int(p) for p in e["release"].split(".")])
    body = yaml.safe_dump({"releases": ordered}, sort_keys=False, width=160, allow_unicode=True)
    data_file.write_text(head.rstrip("\n") + "\n\n" + GENERATED + "\n" + body, encoding="utf-8")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--inside"]:
        print(json.dumps(inside()))
        return 0
    save = argv[:1] == ["--write"]
    venvs = argv[1:] if save else argv
    if not venvs:
        print("usage: python -m conformance.expectations.access_extract [--write] VENV [VENV ...]", file=sys.stderr)
        return 2
    entries = [extract(Path(v)) for v in venvs]
    if save:
        write(entries, Path(__file__).with_name("access.yaml"))
        return 0
    import yaml  # noqa: PLC0415

    print(yaml.safe_dump(entries, sort_keys=False, width=160, allow_unicode=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
