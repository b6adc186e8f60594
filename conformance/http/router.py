"""Map a concrete request (method + URL path) back to the spec operation it exercises.

The guard and the reports reason in operationIds and path parameters; the
wire only has URLs. Templates are matched most-specific first so that
`/dags/~/dagRuns/list` wins over `/dags/{dag_id}/dagRuns/{dag_run_id}`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@dataclass(frozen=True)
class Route:
    """One operation of the reference spec, with its full path template."""

    operation_id: str
    method: str
    template: str
    regex: re.Pattern = field(compare=False, repr=False)
    params: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    """A request resolved to its operation and path parameter values."""

    route: Route
    path_params: dict

    @property
    def operation_id(self) -> str:
        return self.route.operation_id


def spec_base_path(spec: dict) -> str:
    """The prefix a spec's paths are relative to (`/api/v1` for 2.x, empty for 3.x)."""
    servers = spec.get("servers") or []
    if servers:
        path = urlsplit(servers[0].get("url", "")).path.rstrip("/")
        if path and not any(p.startswith(path + "/") for p in spec.get("paths", {})):
            return path
    return ""


def _compile(template: str) -> tuple[re.Pattern, tuple[str, ...]]:
    names: list[str] = []
    pattern = ""
    for part in re.split(r"(\{[^}]+\})", template):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            names.append(name)
            index = len(names) - 1
            # path-typed parameters (file paths, asset uris) may contain slashes
            pattern += f"(?P<p{index}>.+)" if name in ("path", "uri") else f"(?P<p{index}>[^/]+)"
        else:
            pattern += re.escape(part)
    return re.compile("^" + pattern + "/?$"), tuple(names)


def _common_api_prefix(templates) -> str:
    """`/api/v2` when the spec's paths carry it themselves (Airflow 3 specs have no servers entry)."""
    prefixes = {"/".join(t.split("/")[:3]) for t in templates if t.startswith("/api/")}
    return prefixes.pop() if len(prefixes) == 1 else ""


def _resolve(spec: dict, node):
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 20:
        target = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node, seen = target, seen + 1
    return node if isinstance(node, dict) else {}


def required_body_fields(spec: dict, op: dict) -> tuple[str, ...]:
    """Top-level properties the JSON request body of an operation must carry (validation rejects it otherwise)."""
    body = _resolve(spec, op.get("requestBody") or {})
    schema = _resolve(spec, ((body.get("content") or {}).get("application/json") or {}).get("schema") or {})
    props = schema.get("properties") or {}
    # readOnly properties are never required in requests (OpenAPI 3.0), whatever `required` says
    required = [
        f
        for f in schema.get("required") or ()
        if not _resolve(spec, props.get(f) or {}).get("readOnly") and not (props.get(f) or {}).get("readOnly")
    ]
    for part in schema.get("allOf") or ():  # 2.x composes bodies with allOf
        required += [
            f
            for f in required_body_fields(spec, {"requestBody": {"content": {"application/json": {"schema": part}}}})
            if f not in required
        ]
    return tuple(required)


class Router:
    """Resolves URLs of one target against one reference spec."""

    def __init__(self, spec: dict) -> None:
        self.base_path = spec_base_path(spec)
        self.required_fields: dict[str, tuple[str, ...]] = {}
        routes: list[Route] = []
        for path, item in (spec.get("paths") or {}).items():
            for method in HTTP_METHODS:
                op = item.get(method) if isinstance(item, dict) else None
                if not isinstance(op, dict):
                    continue
                template = self.base_path + path
                regex, names = _compile(template)
                op_id = op.get("operationId") or f"{method.upper()} {template}"
                routes.append(Route(op_id, method.upper(), template, regex, names))
                self.required_fields[op_id] = required_body_fields(spec, op)
        # literal segments beat parameters: sort by number of params, then by literal length
        routes.sort(key=lambda r: (len(r.params), -len(r.template)))
        self.routes = routes
        self.by_id = {r.operation_id: r for r in routes}
        self.api_prefix = self.base_path or _common_api_prefix(r.template for r in routes)

    def relative(self, template: str) -> str:
        """A template without the API prefix (`/api/v2/dags/{dag_id}` -> `/dags/{dag_id}`)."""
        return template[len(self.api_prefix) :] if template.startswith(self.api_prefix) else template

    def match(self, method: str, url: str) -> Match | None:
        """The operation a request exercises, or None if the spec has no such operation."""
        path = urlsplit(url).path
        method = method.upper()
        for route in self.routes:
            if route.method != method:
                continue
            m = route.regex.match(path)
            if m:
                values = {name: unquote(m.group(f"p{i}")) for i, name in enumerate(route.params)}
                return Match(route, values)
        return None
