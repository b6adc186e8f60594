"""Deserialize recorded Airflow API answers with the official client's own models.

This file runs INSIDE a virtualenv that holds one `apache-airflow-client`
release (`python runner.py < request.json`), never inside the suite: it imports
nothing of the suite, only the standard library and the client, so the answer
is the client's own reading of the contract. It prints one JSON document.

Each recorded answer is matched to the client's operation by HTTP method and
path template (the operationId when the path is unknown to the client), and
handed to the same deserializer the client's API methods call:
- 2.x clients (openapi-generator "python"): `ApiClient.deserialize` with the
  endpoint's `response_type` and type checking on (the client's default);
- 3.x clients (pydantic v2): `ApiClient.response_deserialize` with the
  operation's `_response_types_map`, read from the API module's source.

Input: {"entries": [{"operation", "method", "path", "status", "headers", "body"}, ...]}; "body" is the
answer's text, "" for an answer without a body (a model declared for it then reads "" as the client would).
Output: {"client", "generation", "operations", "results": [{"outcome": parsed|failed|skipped, ...}]}.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import re
import sys
import traceback
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace

PARAM = re.compile(r"\{[^}]*\}")
API_PREFIX = re.compile(r"^/api/v[12](?=/)")
VALUE_LIMIT = 300
NO_SUCH_OPERATION = "this client has no such operation"
# the reason codes of its skips (conformance.model.reasons.ReasonCode values: this file runs inside a client's venv,
# without the suite; tests/model/test_reason_codes.py holds them to the enum): the matrix reads the code, not the reason
NOT_APPLICABLE, CLIENT_NO_MODEL = "not_applicable", "client_no_model"


def normalized(method: str, path: str) -> tuple[str, str]:
    """(METHOD, path with every parameter as {} and no /api/vN prefix): how an operation is found in any client."""
    return method.upper(), PARAM.sub("{}", API_PREFIX.sub("", path))


def shown(value: object) -> object:
    """A value for the report: JSON as it was, cut when long."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return value if len(text) <= VALUE_LIMIT else text[:VALUE_LIMIT] + "…"


def one_line(text: str, limit: int = 600) -> str:
    """An error as one line without pydantic's documentation links, cut to `limit`."""
    kept = [
        ln.strip()
        for ln in str(text).splitlines()
        if ln.strip() and not ln.strip().startswith("For further information")
    ]
    line = " | ".join(kept)
    return line if len(line) <= limit else line[: limit - 1] + "…"


# ----------------------------------------------------------------- 2.x clients


def _v1_table() -> dict:
    """{(METHOD, path): (operation_id, response_type)} from the Endpoint settings of every API class."""
    from airflow_client.client.api_client import ApiClient, Endpoint  # noqa: PLC0415

    apis = importlib.import_module("airflow_client.client.apis")
    client = ApiClient()
    table = {}
    for name in dir(apis):
        cls = getattr(apis, name)
        if not (isinstance(cls, type) and name.endswith("Api")):
            continue
        for endpoint in vars(cls(client)).values():
            if isinstance(endpoint, Endpoint):
                s = endpoint.settings
                table[normalized(s["http_method"], s["endpoint_path"])] = (s["operation_id"], s["response_type"])
    return table


def _v1_parse(client, response_type, status: int, headers: dict, body: str) -> object:
    """What `Endpoint.call_with_http_info` does with a 2xx answer: decode, then `deserialize` with type checks."""
    answer = SimpleNamespace(
        status=status,
        reason="",
        data=body,
        getheader=lambda name, default=None: next(
            (v for k, v in headers.items() if k.lower() == name.lower()), default
        ),
    )
    return client.deserialize(answer, response_type, True)


AT_PATH = re.compile(r"at ((?:\[(?:'[^']*'|\d+)\])+)")
PATH_KEY = re.compile(r"\['([^']*)'\]|\[(\d+)\]")
MISSING = re.compile(r"required (?:positional |keyword-only )?arguments?: '(\w+)'")


def _v1_location(exc: BaseException) -> tuple[list, str]:
    """(path of the refused item, model being built) of a 2.x client's refusal.

    The innermost `at [...]` of the message (composed schemas nest their causes' messages), else the
    `path_to_item` of the innermost exception, else - a TypeError from `_from_openapi_data` for a missing
    required field - the innermost model its traceback was building.
    """
    found = AT_PATH.findall(str(exc))
    if found:
        return [int(n) if n else k for k, n in PATH_KEY.findall(found[-1])], ""
    inner = exc
    while (cause := inner.__cause__ or inner.__context__) is not None:
        inner = cause
    at = getattr(inner, "path_to_item", None)
    if at:
        return list(at), ""
    path: list = []
    model = ""
    for frame, _ in traceback.walk_tb(inner.__traceback__):
        path = frame.f_locals.get("path_to_item", path)
        model = getattr(frame.f_locals.get("model_class") or frame.f_locals.get("cls"), "__name__", model)
    return list(path or []), model


def _v1_failure(exc: BaseException, data: object) -> dict:
    """Field and value of a 2.x client's refusal."""
    path, model = _v1_location(exc)
    keys = [p for p in path if p != "received_data"]
    missing = MISSING.search(str(exc)) if not AT_PATH.search(str(exc)) else None
    if missing:  # a required field is absent: the path is the model's, the field is named in the message
        keys.append(missing.group(1))
    field = "/" + "/".join(str(k) for k in keys)
    return {
        "field": (f"{model} " if model else "") + field,
        "value": _at(data, keys),
        "error": one_line(f"{type(exc).__name__}: {exc}"),
    }


# ----------------------------------------------------------------- 3.x clients


def _literal_map(fn: ast.FunctionDef) -> dict | None:
    target: ast.expr
    value: ast.expr | None
    for node in ast.walk(fn):
        if isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign):
            target, value = node.targets[0], node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id == "_response_types_map" and value is not None:
            return ast.literal_eval(value)
    return None


def _serialized_route(fn: ast.FunctionDef) -> tuple[str, str] | None:
    for node in ast.walk(fn):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "param_serialize":
            kw = {k.arg: k.value for k in node.keywords}
            method, path = kw.get("method"), kw.get("resource_path")
            if (
                isinstance(method, ast.Constant)
                and isinstance(path, ast.Constant)
                and isinstance(method.value, str)
                and isinstance(path.value, str)
            ):
                return method.value, path.value
    return None


def _v2_table() -> dict:
    """{(METHOD, path): (operation name, _response_types_map)} read from the API modules' source (as the client calls them)."""
    spec = importlib.util.find_spec("airflow_client.client.api")
    assert spec is not None and spec.origin is not None  # the client release is installed where this runs
    api_dir = Path(spec.origin).parent
    table = {}
    for module in sorted(api_dir.glob("*_api.py")):
        functions = {
            n.name: n for n in ast.walk(ast.parse(module.read_text(encoding="utf-8"))) if isinstance(n, ast.FunctionDef)
        }
        for name, fn in functions.items():
            if not name.endswith("_with_http_info"):
                continue
            op = name.removesuffix("_with_http_info")
            route = functions.get(f"_{op}_serialize")
            types = _literal_map(fn)
            where = _serialized_route(route) if route is not None else None
            if where and types is not None:
                table[normalized(*where)] = (op, types)
    return table


def _v2_parse(client, types: dict, status: int, headers: dict, body: str) -> object:
    """What the generated API method does with an answer: RESTResponse, read, response_deserialize."""
    from airflow_client.client import rest  # noqa: PLC0415
    from urllib3 import HTTPHeaderDict  # noqa: PLC0415

    raw = SimpleNamespace(status=status, reason="", data=body.encode("utf-8"), headers=HTTPHeaderDict(headers))
    answer = rest.RESTResponse(raw)
    answer.read()
    return client.response_deserialize(response_data=answer, response_types_map=types)


def _v2_failure(exc: BaseException, data: object) -> dict:
    """Field and value of a 3.x client's refusal (the pydantic error of the model that refused)."""
    errors = exc.errors(include_url=False) if hasattr(exc, "errors") else []
    if not errors:  # a oneOf/anyOf wrapper says what matched how often, in text
        return {"field": "", "value": None, "error": one_line(f"{type(exc).__name__}: {exc}")}
    first = errors[0]
    where = list(first.get("loc", ()))
    loc = "/".join(str(p) for p in where)
    model = getattr(exc, "title", "")
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    # the generated from_dict reads fields with obj.get(): a field the server left out reaches pydantic as None
    value = (
        ABSENT if where and isinstance(where[0], str) and not _has_key(data, where[0]) else shown(first.get("input"))
    )
    return {
        "field": f"{model} /{loc}" if model else f"/{loc}",
        "value": value,
        "error": f"{model}: {first.get('msg')} [{first.get('type')}]{more}",
    }


# ----------------------------------------------------------------- both

ABSENT = "(absent)"


def _has_key(data: object, key: str) -> bool:
    """Whether any object in the answer has `key` (the refusing model's own object is not located)."""
    if isinstance(data, dict):
        return key in data or any(_has_key(v, key) for v in data.values())
    if isinstance(data, list):
        return any(_has_key(v, key) for v in data)
    return False


def _at(data: object, keys: list) -> object:
    """The value at `keys`; "(absent)" when an object lacks the key, the scalar itself when a wrapper key follows it."""
    for key in keys:
        if isinstance(data, dict):
            if key not in data:
                return ABSENT
            data = data[key]
        elif isinstance(data, list) and isinstance(key, int) and key < len(data):
            data = data[key]
        elif isinstance(data, list):
            return ABSENT
        else:  # 2.x wraps enums and simple types in a model with a `value`: the scalar is what was refused
            break
    return shown(data)


def _one(entry: dict, generation: int, client, table: dict, by_name: dict) -> dict:
    key = normalized(entry["method"], entry["path"])
    found = table.get(key) or by_name.get(entry.get("operation", ""))
    if found is None:
        return {"outcome": "skipped", "reason": NO_SUCH_OPERATION, "code": NOT_APPLICABLE}
    op, declared = found
    status = int(entry["status"])
    if generation == 2:
        model = declared
    else:
        model = declared.get(str(status)) or declared.get(f"{str(status)[0]}XX")
    if not model:
        if entry["body"] == "":  # no body, none declared: the client's method returns None, as the spec says
            return {"outcome": "parsed", "operation": op, "model": "None (no body)"}
        return {
            "outcome": "skipped",
            "operation": op,
            "reason": f"the client declares no model for HTTP {status}",
            "code": CLIENT_NO_MODEL,
        }
    label = model if isinstance(model, str) else ", ".join(getattr(t, "__name__", str(t)) for t in model)
    try:
        if generation == 2:
            _v1_parse(client, model, status, entry.get("headers") or {}, entry["body"])
        else:
            _v2_parse(client, declared, status, entry.get("headers") or {}, entry["body"])
    except Exception as exc:  # noqa: BLE001 - any refusal of the client is the finding
        try:
            data = json.loads(entry["body"])
        except ValueError:
            data = None
        detail = _v1_failure(exc, data) if generation == 2 else _v2_failure(exc, data)
        return {"outcome": "failed", "operation": op, "model": label, **detail}
    return {"outcome": "parsed", "operation": op, "model": label}


def main() -> int:
    request = json.load(sys.stdin)
    generation = 2 if importlib.util.find_spec("airflow_client.client.model_utils") else 3
    from airflow_client.client.api_client import ApiClient  # noqa: PLC0415

    client = ApiClient()
    table = _v1_table() if generation == 2 else _v2_table()
    by_name = {op: (op, declared) for op, declared in table.values()}
    results = [_one(entry, generation, client, table, by_name) for entry in request.get("entries", [])]
    json.dump(
        {
            "client": metadata.version("apache-airflow-client"),
            "generation": generation,
            "operations": len(table),
            "results": results,
        },
        sys.stdout,
        default=str,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
