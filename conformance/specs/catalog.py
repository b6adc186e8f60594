"""Which reference specs this machine has, and what is in them.

Two places hold reduced specs (``<VERSION>.json`` next to a ``lock.json``):

* the **bundled** folder shipped with the suite: the repository's ``specs/``
  in a source checkout, ``conformance/_specs`` in an installed wheel;
* the **cache**, ``<cache_dir()>/specs``, for versions a user fetched with
  ``airflow-conformance specs fetch VERSION``.

A version in both is read from the bundled folder.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from conformance.errors import ConfigError
from conformance.paths import bundled_dir, cache_dir
from conformance.specs._common import HTTP_METHODS, parse_version, read_lock, version_key

_VERSION_FILE = re.compile(r"^\d+(\.\d+)*([a-z]+\d+)?(\.post\d+)?\.json$")


def specs_dir() -> Path:
    """Alias of :func:`bundled_dir`: where the locked reference specs live."""
    return bundled_dir()


def cache_specs_dir() -> Path:
    """Where ``specs fetch`` puts user-fetched versions."""
    return cache_dir() / "specs"


def _versions_in(directory: Path) -> list[str]:
    if not directory.is_dir():
        return []
    return [p.name[: -len(".json")] for p in directory.iterdir() if _VERSION_FILE.match(p.name)]


def sources() -> dict[str, tuple[str, Path]]:
    """``{version: (source, file)}`` where source is ``"bundled"`` or ``"cache"``."""
    found: dict[str, tuple[str, Path]] = {}
    cache = cache_specs_dir()
    for version in _versions_in(cache):
        found[version] = ("cache", cache / f"{version}.json")
    bundled = bundled_dir()
    for version in _versions_in(bundled):
        found[version] = ("bundled", bundled / f"{version}.json")
    return found


def available_versions() -> list[str]:
    """Every Airflow version with a reference spec here, oldest first."""
    return sorted(sources(), key=version_key)


def locked_versions() -> list[str]:
    """Versions recorded in the bundled lock (the suite's supported reference set)."""
    return sorted(read_lock(bundled_dir()), key=version_key)


@functools.lru_cache(maxsize=64)
def _spec_text(path: str, mtime_ns: int) -> str:  # noqa: ARG001 - mtime busts the cache
    return Path(path).read_text(encoding="utf-8")


def load_spec(version: str) -> dict:
    """The reduced spec of exactly ``version``, as a fresh dict the caller may mutate.

    Use :func:`reference_version_for` first to map a deployment's version to
    the spec to test it against.
    """
    found = sources().get(version)
    if found is None:
        raise ConfigError(f"no reference spec for Airflow {version}; run `airflow-conformance specs fetch {version}`")
    path = found[1]
    text = _spec_text(str(path), path.stat().st_mtime_ns)
    return json.loads(text)  # parsing the cached text is a cheap, safe copy


def reference_version_for(version: str) -> str:
    """The reference spec version for a deployment running Airflow ``version``.

    The exact version when available, else the newest available patch not newer
    than ``version`` in the same minor series; otherwise a ConfigError saying
    how to fetch it.
    """
    try:
        wanted = Version(version)
    except InvalidVersion:
        raise ConfigError(f"{version!r} is not a valid Airflow version") from None
    candidates = []
    for available in available_versions():
        have = version_key(available)
        if have == wanted:
            return available
        if have.release[:2] == wanted.release[:2] and have <= wanted:
            candidates.append(available)
    if candidates:
        return max(candidates, key=version_key)
    parse_version(version)  # unsupported major: says so
    raise ConfigError(f"no reference spec for Airflow {version}; run `airflow-conformance specs fetch {version}`")


def fetch(version: str, dest: Path | str | None = None) -> Path:
    """Download and reduce the spec of ``version``; return the written file.

    Writes into the cache by default, or into ``dest`` (e.g. the repository's
    ``specs/``, updating its lock). A version already in the bundled lock (or
    in the destination's lock) must hash the same: a mismatch is a ConfigError
    naming both hashes.
    """
    from conformance.specs.extract import extract_to  # noqa: PLC0415

    parse_version(version)
    target = Path(dest) if dest is not None else cache_specs_dir()
    bundled = bundled_dir()
    extra = () if target.resolve() == bundled.resolve() else (bundled,)
    extract_to(version, target, also_verify=extra)
    _spec_text.cache_clear()
    return target / f"{version}.json"


# --------------------------------------------------------------------------- contents


@dataclass(frozen=True)
class Operation:
    """One operation of a spec.

    ``path`` is what to append to the server root URL (scheme://host:port),
    i.e. it already carries the API base: ``/api/v1/dags`` (2.x),
    ``/api/v2/dags`` (3.x).
    """

    operation_id: str
    method: str  # upper case
    path: str
    tags: tuple[str, ...] = ()
    parameters: tuple[dict, ...] = field(default=(), compare=False, hash=False)
    has_request_body: bool = False


def api_generation(spec: dict) -> str:
    """``"v1"`` for the Airflow 2.x (Connexion) API, ``"v2"`` for 3.x (FastAPI)."""
    version = str(spec.get("openapi", ""))
    base = _servers_base(spec)
    if base.rstrip("/").endswith("/v1"):
        return "v1"
    if version.startswith("3.1") or any(p.startswith("/api/v2") for p in spec.get("paths", {})):
        return "v2"
    return "v1"


def _servers_base(spec: dict) -> str:
    servers = spec.get("servers") or []
    if servers and isinstance(servers[0], dict):
        url = str(servers[0].get("url", ""))
        if "://" in url:  # absolute server URL: keep its path only
            url = "/" + url.split("://", 1)[1].partition("/")[2]
        return url.rstrip("/")
    return ""


def base_path(spec: dict) -> str:
    """The API base path under the server root: ``/api/v1`` (2.x) or ``/api/v2`` (3.x).

    2.x specs declare it in ``servers`` and their ``paths`` are relative to it;
    3.x specs have no ``servers`` and their ``paths`` already start with it.
    """
    base = _servers_base(spec)
    if base:
        return base
    prefixes = {"/".join(p.split("/")[:3]) for p in spec.get("paths", {}) if p.startswith("/api/")}
    if len(prefixes) == 1:
        return prefixes.pop()
    return "/api/v2" if "/api/v2" in prefixes else ""


def _prefix(spec: dict) -> str:
    """What to put before a ``paths`` key to get the path from the server root."""
    return _servers_base(spec)


def full_path(spec: dict, path: str) -> str:
    """A ``paths`` key of ``spec`` as a path from the server root."""
    return _prefix(spec) + path


def resolve(spec: Mapping, node: Any) -> Any:
    """Follow local ``$ref`` pointers (``#/components/...``) until a non-ref node."""
    seen = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if ref in seen or not ref.startswith("#/"):
            return node
        seen.add(ref)
        target: Any = spec
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                return node
            target = target[part]
        node = target
    return node


def operations(spec: dict) -> list[Operation]:
    """Every operation in file order (paths as stored, methods in OpenAPI order).

    Parameters are the path item's merged with the operation's (the operation
    wins on the same ``name``+``in``), with ``$ref`` resolved.
    """
    prefix = _prefix(spec)
    result = []
    for path, item in (spec.get("paths") or {}).items():
        item = resolve(spec, item)
        shared = [resolve(spec, p) for p in item.get("parameters", [])]
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            own = [resolve(spec, p) for p in op.get("parameters", [])]
            keys = {(p.get("name"), p.get("in")) for p in own}
            params = [p for p in shared if (p.get("name"), p.get("in")) not in keys] + own
            result.append(
                Operation(
                    operation_id=str(op.get("operationId", "")),
                    method=method.upper(),
                    path=prefix + path,
                    tags=tuple(op.get("tags", ())),
                    parameters=tuple(copy.deepcopy(params)),
                    has_request_body="requestBody" in op,
                )
            )
    return result


def operation_tags(spec: dict) -> dict[str, str]:
    """operationId -> its first tag: the part of the API it belongs to (reports group coverage by it)."""
    return {op.operation_id: (op.tags[0] if op.tags else "") for op in operations(spec)}


def operation_count(version: str) -> int:
    """Operations in ``version``'s spec (from the lock when recorded there)."""
    source, path = sources().get(version, (None, None))
    if path is not None:
        entry = read_lock(path.parent).get(version)
        if entry and "operations" in entry:
            return int(entry["operations"])
    return len(operations(load_spec(version)))
