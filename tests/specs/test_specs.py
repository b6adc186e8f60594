"""The bundled reference specs and the `conformance.specs` package (no Airflow needed)."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate

from conformance.checks.schema import ResponseValidator
from conformance.errors import ConfigError
from conformance.http.router import Router
from conformance.specs import (
    api_generation,
    available_versions,
    base_path,
    catalog,
    diff_specs,
    extract,
    format_text,
    load_spec,
    operations,
    reference_version_for,
    specs_dir,
    to_dict,
)
from tests.harness import cli

SPECS = Path(__file__).resolve().parents[2] / "specs"
LOCK = json.loads((SPECS / "lock.json").read_text())

# Operation counts as extracted from the release wheels (they match real servers).
EXPECTED_OPERATIONS = {
    "2.0.2": 43,
    "2.1.4": 53,
    "2.2.5": 59,
    "2.3.4": 62,
    "2.4.3": 68,
    "2.5.3": 73,
    "2.6.3": 73,
    "2.7.3": 74,
    "2.8.4": 74,
    "2.9.3": 81,
    "2.10.5": 89,
    "2.11.2": 89,
    "3.0.6": 99,
    "3.1.8": 108,
    "3.2.2": 110,
    "3.3.2": 128,
}
VERSIONS = sorted(EXPECTED_OPERATIONS)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Never read (or write) a developer's own fetched specs."""
    monkeypatch.setenv("AIRFLOW_CONFORMANCE_CACHE", str(tmp_path / "cache"))


def _cli(*args: str, env_cache: Path) -> subprocess.CompletedProcess:
    """The installed `airflow-conformance` with a bare environment on purpose (only its cache and a system PATH:
    no PYTHONPATH, no virtualenv on PATH, none of the caller's settings): the command a user types works alone."""
    env = {"AIRFLOW_CONFORMANCE_CACHE": str(env_cache), "PATH": "/usr/bin:/bin"}
    return cli(*args, timeout=120, env=env, console_script=True)


def _walk_keywords(node, path=()):
    """Yield (path, key, value) for keys in *keyword* position (not names under maps)."""
    name_maps = {
        "paths", "properties", "schemas", "responses", "content", "parameters", "headers",
        "securitySchemes", "links", "requestBodies", "callbacks", "encoding", "variables",
        "patternProperties", "$defs", "mapping", "scopes",
    }  # fmt: skip
    raw = {"default", "enum", "const", "security", "required"}
    if isinstance(node, dict):
        names = bool(path) and path[-1] in name_maps
        for key, value in node.items():
            if not names:
                yield path, key, value
            if not names and key in raw:
                continue
            yield from _walk_keywords(value, (*path, key))
    elif isinstance(node, list):
        for item in node:
            yield from _walk_keywords(item, (*path, "[]"))


# --------------------------------------------------------------------------- data


def test_bundled_specs_dir_is_the_repo_folder():
    assert specs_dir() == SPECS
    assert set(VERSIONS) <= set(available_versions())
    assert sorted(LOCK) == VERSIONS


@pytest.mark.parametrize("version", VERSIONS)
def test_lock_matches_files(version):
    entry = LOCK[version]
    data = (SPECS / f"{version}.json").read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry["reduced_sha256"]
    assert entry["operations"] == EXPECTED_OPERATIONS[version]
    assert len(entry["wheel_sha256"]) == len(entry["spec_sha256"]) == 64
    major = int(version.split(".")[0])
    assert entry["spec_path_in_wheel"] in extract.SPEC_PATHS[major]
    assert entry["wheel"].startswith("apache_airflow-" if major == 2 else "apache_airflow_core-")
    assert entry["openapi"].startswith("3.0" if major == 2 else "3.1")
    # the stored form is the stable dump of its own content
    assert extract.dump_spec(json.loads(data)) == data


@pytest.mark.parametrize("version", VERSIONS)
def test_operations(version):
    spec = load_spec(version)
    ops = operations(spec)
    assert len(ops) == EXPECTED_OPERATIONS[version]
    assert all(op.operation_id for op in ops)
    assert len({op.operation_id for op in ops}) == len(ops)
    generation = "v1" if version.startswith("2.") else "v2"
    assert api_generation(spec) == generation
    assert base_path(spec) == f"/api/{generation}"
    assert all(op.path.startswith(f"/api/{generation}/") for op in ops)
    assert all(op.method in {"GET", "POST", "PUT", "PATCH", "DELETE"} for op in ops)


def test_operation_paths_are_from_the_server_root():
    ops = {op.operation_id: op for op in operations(load_spec("2.10.5"))}
    assert (ops["get_dags"].method, ops["get_dags"].path) == ("GET", "/api/v1/dags")
    assert ops["post_dag_run"].has_request_body
    names = {(p["in"], p["name"]) for p in ops["get_dag_runs"].parameters}
    assert ("path", "dag_id") in names and ("query", "limit") in names
    ops3 = {op.operation_id: op for op in operations(load_spec("3.0.6"))}
    assert ops3["get_dags"].path == "/api/v2/dags"
    assert "DAG" in ops3["get_dags"].tags


@pytest.mark.parametrize("version", VERSIONS)
def test_documentation_removed_but_fields_named_like_keywords_kept(version):
    spec = load_spec(version)
    for path, key, value in _walk_keywords(spec):
        assert key not in {"summary", "externalDocs", "example", "examples"}, (path, key)
        assert not key.startswith("x-") or key == "x-airflow-version", (path, key)
        if key == "description":
            # only the Response object's required description remains, emptied
            assert value == "", (path, value)
    schemas = spec["components"]["schemas"]
    dag = schemas.get("DAG") or schemas["DAGResponse"]
    assert "description" in dag["properties"]


def test_dag_description_property_in_2_10_5():
    dag = load_spec("2.10.5")["components"]["schemas"]["DAG"]
    assert dag["properties"]["description"] == {
        "nullable": True,
        "readOnly": True,
        "type": "string",
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_refs_resolve(version):
    spec = load_spec(version)
    text = json.dumps(spec)
    for ref in {r.split('"')[0] for r in text.split('"$ref": "')[1:]}:
        assert catalog.resolve(spec, {"$ref": ref}) != {"$ref": ref}, ref


@pytest.mark.parametrize("version", VERSIONS)
def test_reduced_spec_is_valid_openapi(version):
    """As the run's response validator holds it (its server set, 3.0's `nullable` rewritten): the run does not
    validate the spec again (conformance/checks/schema.py), this test is where an invalid one is caught."""
    spec = load_spec(version)
    validate(ResponseValidator(spec, "http://127.0.0.1:8080", Router(spec).base_path).spec)


def test_load_spec_returns_a_fresh_copy():
    spec = load_spec("2.10.5")
    spec["paths"].clear()
    assert load_spec("2.10.5")["paths"]


# --------------------------------------------------------------------------- catalog


def test_reference_version_for():
    assert reference_version_for("2.10.5") == "2.10.5"
    assert reference_version_for("2.10.9") == "2.10.5"  # newest patch <= in the minor
    with pytest.raises(ConfigError, match="specs fetch 2.10.4"):
        reference_version_for("2.10.4")
    with pytest.raises(ConfigError, match="specs fetch 2.12.0"):
        reference_version_for("2.12.0")
    with pytest.raises(ConfigError):
        reference_version_for("1.10.15")
    with pytest.raises(ConfigError, match="not a valid"):
        reference_version_for("banana")
    with pytest.raises(ConfigError, match="specs fetch"):
        load_spec("2.10.4")


def test_cache_versions_are_listed(tmp_path):
    cache = catalog.cache_specs_dir()
    cache.mkdir(parents=True)
    (cache / "2.10.4.json").write_bytes((SPECS / "2.10.5.json").read_bytes())
    assert "2.10.4" in available_versions()
    assert catalog.sources()["2.10.4"][0] == "cache"
    assert catalog.sources()["2.10.5"][0] == "bundled"
    assert reference_version_for("2.10.4") == "2.10.4"


# --------------------------------------------------------------------------- reduce


def test_reduce_keeps_names_and_validation_keywords():
    raw = yaml.safe_load(
        """
openapi: 3.0.3
info: {title: T, version: '1', description: prose}
servers: [{url: /api/v1, description: prose}]
tags: [{name: DAG, description: prose}]
paths:
  /things:
    get:
      summary: prose
      description: prose
      operationId: get_things
      x-openapi-router-controller: x.y
      parameters:
        - {name: limit, in: query, required: false, description: prose,
           schema: {type: integer, minimum: 1, example: 5}}
      responses:
        '200':
          description: prose
          content:
            application/json:
              example: {description: x}
              schema: {$ref: '#/components/schemas/Thing'}
        '404': {$ref: '#/components/responses/NotFound'}
components:
  responses:
    NotFound: {description: prose}
  examples:
    E: {value: 1}
  schemas:
    Thing:
      description: prose
      externalDocs: {url: 'http://x'}
      type: object
      required: [description]
      properties:
        description: {type: string, nullable: true, readOnly: true, description: prose}
        summary: {type: string, enum: [a, b]}
        example: {type: object, default: {description: kept}}
        when: {type: string, format: date-time, default: 2020-01-01}
"""
    )
    doc = extract.reduce_spec(raw, "9.9.9")
    thing = doc["components"]["schemas"]["Thing"]
    assert thing == {
        "type": "object",
        "required": ["description"],
        "properties": {
            "description": {"type": "string", "nullable": True, "readOnly": True},
            "summary": {"type": "string", "enum": ["a", "b"]},
            "example": {"type": "object", "default": {"description": "kept"}},
            "when": {"type": "string", "format": "date-time", "default": raw["components"]
                     ["schemas"]["Thing"]["properties"]["when"]["default"]},
        },
    }  # fmt: skip
    op = doc["paths"]["/things"]["get"]
    assert op["parameters"] == [
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 1},
        }
    ]
    assert op["responses"]["200"]["description"] == ""
    assert "example" not in op["responses"]["200"]["content"]["application/json"]
    assert op["responses"]["404"] == {"$ref": "#/components/responses/NotFound"}
    assert doc["components"]["responses"]["NotFound"] == {"description": ""}
    assert "examples" not in doc["components"]
    assert doc["info"] == {"title": "T", "version": "1"}
    assert doc["servers"] == [{"url": "/api/v1"}]
    assert doc["tags"] == [{"name": "DAG"}]
    assert doc["x-airflow-version"] == "9.9.9"


def test_yaml_loader_keeps_dates_as_strings():
    assert extract.load_yaml("d: 2020-01-01\nn: 200\n") == {"d": "2020-01-01", "n": 200}


def _fake_wheel(tmp_path: Path, version: str, spec_text: str) -> Path:
    wheel = tmp_path / "dl" / f"apache_airflow-{version}-py3-none-any.whl"
    wheel.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("airflow/api_connexion/openapi/v1.yaml", spec_text)
    wheel.write_bytes(buf.getvalue())
    return wheel


def test_fetch_writes_cache_and_verifies_lock(tmp_path, monkeypatch):
    spec_text = (
        "openapi: 3.0.3\ninfo: {title: T, version: '2.99.1'}\nservers: [{url: /api/v1}]\n"
        "paths:\n  /x:\n    get:\n      operationId: get_x\n"
        "      responses: {'200': {description: ok}}\n"
    )
    wheel = _fake_wheel(tmp_path, "2.99.1", spec_text)
    monkeypatch.setattr(extract, "download_wheel", lambda version, workdir: wheel)

    path = catalog.fetch("2.99.1")
    assert path == catalog.cache_specs_dir() / "2.99.1.json"
    lock = json.loads((catalog.cache_specs_dir() / "lock.json").read_text())
    assert lock["2.99.1"]["operations"] == 1
    assert lock["2.99.1"]["spec_sha256"] == hashlib.sha256(spec_text.encode()).hexdigest()
    assert [op.operation_id for op in operations(load_spec("2.99.1"))] == ["get_x"]

    # a locked version must hash the same
    lock["2.99.1"]["wheel_sha256"] = "0" * 64
    (catalog.cache_specs_dir() / "lock.json").write_text(json.dumps(lock))
    with pytest.raises(ConfigError) as err:
        catalog.fetch("2.99.1")
    assert "0" * 64 in str(err.value)
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() in str(err.value)

    dest = tmp_path / "dest"
    assert catalog.fetch("2.99.1", dest) == dest / "2.99.1.json"
    assert json.loads((dest / "lock.json").read_text())["2.99.1"]["operations"] == 1


# --------------------------------------------------------------------------- diff


def test_diff_with_itself_is_empty():
    for version in ("2.10.5", "3.3.2"):
        diff = diff_specs(load_spec(version), load_spec(version))
        assert diff.empty
        assert "No differences." in format_text(diff)


def test_diff_2_9_to_2_10():
    diff = diff_specs(load_spec("2.9.3"), load_spec("2.10.5"))
    added = {o.operation_id for o in diff.operations_added}
    assert len(added) == 8 and {"get_dag_stats", "reparse_dag_file"} <= added
    assert not diff.operations_removed
    changed = {c.operation_id: c for c in diff.operations_changed}
    assert any(p.startswith("query:stringify") for p in changed["get_xcom_entry"].parameters_added)
    assert "DagStatsCollectionSchema" in diff.schemas_added


def test_diff_2_10_to_3_0():
    diff = diff_specs(load_spec("2.10.5"), load_spec("3.0.6"))
    assert (diff.api_a, diff.api_b) == ("v1", "v2")
    removed = {o.operation_id for o in diff.operations_removed}
    added = {o.operation_id for o in diff.operations_added}
    assert {"get_users", "get_roles", "set_dag_run_note", "get_datasets"} <= removed
    assert {"get_assets", "list_backfills", "get_dag_versions"} <= added
    renamed = {(r.old_id, r.new_id) for r in diff.operations_renamed}
    assert ("post_dag_run", "trigger_dag_run") in renamed
    data = to_dict(diff)
    json.dumps(data)
    assert data["summary"]["operations_removed"] == len(removed)
    changed = {c.operation_id: c for c in diff.operations_changed}
    assert "422" in changed["get_dags"].responses_added


# --------------------------------------------------------------------------- CLI


def test_cli_diff(tmp_path):
    proc = _cli("specs", "diff", "2.9.3", "2.10.5", env_cache=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("  + ")]
    ops = [ln for ln in lines if ln.split()[1] in {"GET", "POST", "PUT", "PATCH", "DELETE"}]
    assert len(ops) == 8
    assert "get_dag_stats" in proc.stdout


def test_cli_diff_json(tmp_path):
    proc = _cli("specs", "diff", "2.10.5", "3.0.6", "--json", env_cache=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["api_b"] == "v2"


def test_cli_diff_unknown_version(tmp_path):
    proc = _cli("specs", "diff", "1.0.0", "2.10.5", env_cache=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_cli_list(tmp_path):
    proc = _cli("specs", "list", env_cache=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = {ln.split()[0]: ln.split() for ln in proc.stdout.splitlines()[1:]}
    assert rows["3.3.2"][1:] == ["128", "v2", "bundled"]
    assert set(rows) == set(VERSIONS)
