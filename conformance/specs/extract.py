"""Extract the reference OpenAPI spec of an Airflow release from its official wheel.

    python -m conformance.specs.extract VERSION [VERSION...] [--dest DIR]

For each version: download the release wheel from the package index with pip
(2.x: ``apache-airflow``; 3.x: ``apache-airflow-core``, where the REST API
lives), read the spec out of the wheel, reduce it to structure and write
``DIR/<VERSION>.json`` plus an entry in ``DIR/lock.json``.

Reducing keeps everything that decides whether a request or a response is
valid (paths, methods, operationIds, parameters, request bodies, responses,
content types, schemas, components, security schemes, ``readOnly``,
``nullable``, enums, formats, links) and drops prose: the OpenAPI keywords
``description``, ``summary``, ``externalDocs``, ``example``/``examples`` and
``x-*`` extensions. Names are never touched: a schema *property* called
``description`` stays (under ``properties`` the keys are field names, not
keywords). The Response object's ``description`` is required by OpenAPI, so
it is kept as an empty string to let the reduced spec still validate.

When a version is already in the destination's lock, the wheel and the raw
spec must hash the same as recorded; a mismatch is a ConfigError.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import yaml

from conformance.errors import ConfigError
from conformance.specs._common import (
    DISTRIBUTIONS,
    HTTP_METHODS,
    parse_version,
    read_lock,
    write_lock,
)

#: Where the REST API spec sits inside the release wheel, per major version.
SPEC_PATHS: dict[int, tuple[str, ...]] = {
    2: ("airflow/api_connexion/openapi/v1.yaml",),
    3: ("airflow/api_fastapi/core_api/openapi/v2-rest-api-generated.yaml",),
}

# Keywords that are documentation only.
_DROP = frozenset({"description", "summary", "externalDocs", "example", "examples"})
# Keywords whose value is a map from *names* (paths, status codes, media types,
# field names, component names...) to OpenAPI/JSON-Schema objects.
_NAME_MAPS = frozenset(
    {
        "paths",
        "webhooks",
        "schemas",
        "parameters",  # components.parameters / Link.parameters (lists are handled apart)
        "requestBodies",
        "securitySchemes",
        "headers",
        "links",
        "pathItems",
        "content",
        "encoding",
        "variables",
        "properties",
        "patternProperties",
        "dependentSchemas",
        "$defs",
        "definitions",
    }
)
# Keywords whose value is data, never walked (a default may well hold a key "description").
_RAW = frozenset({"default", "enum", "const", "required", "mapping", "scopes", "security", "dependentRequired"})


def _yaml_loader() -> type:
    """A fast safe loader that leaves timestamps as strings (JSON has no dates)."""
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class _Loader(base):  # type: ignore[misc, valid-type]
        pass

    _Loader.yaml_implicit_resolvers = {
        ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for ch, resolvers in base.yaml_implicit_resolvers.items()
    }
    return _Loader


_LOADER = _yaml_loader()


def load_yaml(data: bytes | str) -> Any:
    return yaml.load(data, Loader=_LOADER)  # noqa: S506 - a SafeLoader subclass


# --------------------------------------------------------------------------- reduce


def _raw(node: Any) -> Any:
    """Copy data as is, only making dict keys strings (YAML may give ints)."""
    if isinstance(node, dict):
        return {str(k): _raw(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_raw(v) for v in node]
    return node


def _any(node: Any) -> Any:
    if isinstance(node, dict):
        return _obj(node)
    if isinstance(node, list):
        return [_any(v) for v in node]
    return node


def _names(node: Any, value=None) -> Any:
    """A map from names to objects: keep every key, reduce the values."""
    if not isinstance(node, dict):
        return _any(node)
    walk = value or _any
    return {str(k): walk(v) for k, v in node.items()}


def _response(node: Any) -> Any:
    out = _any(node)
    if isinstance(out, dict) and "$ref" not in out:
        out["description"] = ""  # required by OpenAPI; the prose is gone
    return out


def _callback(node: Any) -> Any:
    return _names(node)  # runtime expression -> Path Item


def _obj(node: dict) -> dict:
    """Reduce one OpenAPI / JSON-Schema object (its keys are keywords)."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        key = str(key)
        if key in _DROP or key.startswith("x-"):
            continue
        if key in _RAW:
            out[key] = _raw(value)
        elif key == "responses":
            out[key] = _names(value, _response)
        elif key == "callbacks":
            out[key] = _names(value, _callback)
        elif key in _NAME_MAPS and isinstance(value, dict):
            out[key] = _names(value)
        else:
            out[key] = _any(value)
    return out


def reduce_spec(raw: dict, airflow_version: str | None = None) -> dict:
    """Return the structural part of an OpenAPI document (see the module docstring)."""
    info = raw.get("info") or {}
    doc = _obj({k: v for k, v in raw.items() if k != "info"})
    doc["info"] = {"title": info.get("title", ""), "version": str(info.get("version", ""))}
    if "components" in raw:
        comps = raw["components"] or {}
        reduced = {}
        for section, entries in comps.items():
            section = str(section)
            if section in _DROP or section.startswith("x-"):
                continue
            if section == "responses":
                reduced[section] = _names(entries, _response)
            elif section == "callbacks":
                reduced[section] = _names(entries, _callback)
            else:
                reduced[section] = _names(entries)
        doc["components"] = reduced
    if airflow_version:
        doc["x-airflow-version"] = airflow_version
    return doc


def count_operations(spec: dict) -> int:
    return sum(1 for item in (spec.get("paths") or {}).values() for method in item if method in HTTP_METHODS)


def dump_spec(spec: dict) -> bytes:
    """The stable on-disk form: sorted keys, indent 1, trailing newline."""
    return (json.dumps(spec, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode()


# --------------------------------------------------------------------------- fetch


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def download_wheel(version: str, workdir: Path) -> Path:
    """Download the wheel carrying the REST API of ``version`` with pip; return its path."""
    dist = DISTRIBUTIONS[parse_version(version).major]
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "-q", f"{dist}=={version}", "-d", str(workdir),
    ]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
    except OSError as exc:
        raise ConfigError(f"cannot run pip to download {dist}=={version}: {exc}") from None
    wheels = sorted(workdir.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        lines = [ln.strip() for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        lines = [ln for ln in lines if not ln.startswith("WARNING")] or lines
        detail = lines[-1] if lines else f"pip exited {proc.returncode}"
        if "No module named pip" in (proc.stderr or ""):
            detail = f"pip is not installed for {sys.executable}"
        raise ConfigError(f"cannot download {dist}=={version}: {detail}")
    return wheels[0]


def read_spec_from_wheel(wheel: Path, version: str) -> tuple[str, bytes]:
    """Return (path inside the wheel, raw bytes) of the REST API spec."""
    candidates = SPEC_PATHS[parse_version(version).major]
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for candidate in candidates:
            if candidate in names:
                return candidate, zf.read(candidate)
    raise ConfigError(
        f"{wheel.name} has none of the known spec files ({', '.join(candidates)}); "
        "the extractor needs updating for this release"
    )


def verify(version: str, entry: dict, expected: dict | None, where: str) -> None:
    """Raise ConfigError when a fresh extraction disagrees with a locked entry."""
    if not expected:
        return
    for key, label in (("wheel_sha256", "wheel"), ("spec_sha256", "raw spec")):
        want, got = expected.get(key), entry.get(key)
        if want and want != got:
            raise ConfigError(
                f"{label} hash mismatch for Airflow {version} ({entry.get('wheel')}): "
                f"locked {want} in {where}, downloaded {got}"
            )


def extract(version: str, workdir: Path | None = None) -> tuple[dict, dict, bytes]:
    """Download and reduce; return (lock entry, reduced spec, reduced bytes)."""
    parse_version(version)
    with tempfile.TemporaryDirectory(prefix="airflow-spec-") as tmp:
        wheel = download_wheel(version, Path(workdir or tmp))
        wheel_bytes = wheel.read_bytes()
        spec_path, raw_bytes = read_spec_from_wheel(wheel, version)
    raw = load_yaml(raw_bytes)
    if not isinstance(raw, dict) or "paths" not in raw:
        raise ConfigError(f"{spec_path} in {wheel.name} is not an OpenAPI document")
    reduced = reduce_spec(raw, version)
    data = dump_spec(reduced)
    entry = {
        "wheel": wheel.name,
        "wheel_sha256": _sha256(wheel_bytes),
        "spec_path_in_wheel": spec_path,
        "spec_sha256": _sha256(raw_bytes),
        "reduced_sha256": _sha256(data),
        "openapi": str(raw.get("openapi", "")),
        "operations": count_operations(reduced),
    }
    return entry, reduced, data


def extract_to(version: str, dest: Path, also_verify: tuple[Path, ...] = ()) -> dict:
    """Extract ``version`` into ``dest`` (``<V>.json`` + lock entry); return the entry.

    The entry is checked against ``dest``'s lock and every lock in ``also_verify``
    that already records this version.
    """
    dest = Path(dest)
    entry, _spec, data = extract(version)
    lock = read_lock(dest)
    verify(version, entry, lock.get(version), str(dest / "lock.json"))
    for other in also_verify:
        verify(version, entry, read_lock(other).get(version), str(Path(other) / "lock.json"))
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / f"{version}.json"
    tmp = target.with_suffix(".json.tmp")
    tmp.write_bytes(data)
    tmp.replace(target)
    lock = read_lock(dest)
    lock[version] = entry
    write_lock(dest, lock)
    return entry


def main(argv: list[str] | None = None) -> int:
    from conformance.paths import bundled_dir  # noqa: PLC0415

    parser = argparse.ArgumentParser(
        prog="python -m conformance.specs.extract",
        description="Extract reduced reference OpenAPI specs from Airflow release wheels.",
    )
    parser.add_argument("versions", nargs="+", metavar="VERSION")
    parser.add_argument("--dest", type=Path, default=None, help="output folder (default: the bundled specs/)")
    args = parser.parse_args(argv)
    dest = args.dest or bundled_dir()
    status = 0
    for version in args.versions:
        try:
            entry = extract_to(version, dest)
        except ConfigError as exc:
            print(f"{version}: {exc}", file=sys.stderr)
            status = 2
            continue
        print(
            f"{version}: {entry['operations']} operations, openapi {entry['openapi']}, "
            f"{entry['wheel']} -> {dest / (version + '.json')}"
        )
    return status


if __name__ == "__main__":
    sys.exit(main())
