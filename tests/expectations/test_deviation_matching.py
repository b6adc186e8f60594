"""Fast layer: how a known deviation matches a failure, what makes an entry acceptable, and loading.

Every entry of the real data file is checked to match a failure built from the
entry itself and to refuse failures that differ in scope, check, status, body,
step or backend. The headline rule - request text never matters - is shown
directly: a response body without the pattern is not excused, whatever the
request named.
"""

from __future__ import annotations

import copy
import json
import re

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from conformance.checks.registry import check_names
from conformance.clients.versions import PUBLISHED
from conformance.expectations import all_deviations, load, raw_deviations
from conformance.expectations.deviations import (
    BACKENDS,
    CLIENT_CHECK,
    Deviation,
    Observation,
    Signature,
    Trigger,
    lint,
)

try:  # Python >= 3.11
    from re import _constants as _sre_c
    from re import _parser as _sre_p
except ImportError:  # pragma: no cover - older Pythons
    import sre_constants as _sre_c  # type: ignore[no-redef]
    import sre_parse as _sre_p  # type: ignore[no-redef]

pytestmark = pytest.mark.fast

DEVIATIONS = all_deviations()
UNRELATED_BODY = '{"detail": "acf unrelated answer 0xDEADBEEF"}'


# -- deriving a sample that satisfies a pattern ----------------------------------
class NoSample(Exception):
    """The pattern uses a construct the small generator below does not handle."""


def _sample_of(parsed) -> str:
    out: list[str] = []
    for op, av in parsed:
        if op is _sre_c.LITERAL:
            out.append(chr(av))
        elif op is _sre_c.NOT_LITERAL:
            out.append("x" if chr(av) != "x" else "y")
        elif op is _sre_c.ANY:
            out.append("x")
        elif op is _sre_c.IN:
            out.append(_sample_of_in(av))
        elif op in (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT):
            low, _high, item = av
            out.append(_sample_of(item) * low)
        elif op is _sre_c.SUBPATTERN:
            out.append(_sample_of(av[-1]))
        elif op is _sre_c.BRANCH:
            out.append(_sample_of(av[1][0]))
        elif op is _sre_c.AT:
            continue
        else:
            raise NoSample(f"regex construct {op} not supported")
    return "".join(out)


def _sample_of_in(items) -> str:
    if items and items[0][0] is _sre_c.NEGATE:
        raise NoSample("negated character class")
    for op, av in items:
        if op is _sre_c.LITERAL:
            return chr(av)
        if op is _sre_c.RANGE:
            return chr(av[0])
        if op is _sre_c.CATEGORY:
            return {"CATEGORY_DIGIT": "0", "CATEGORY_WORD": "a", "CATEGORY_SPACE": " "}.get(str(av), "") or _raise(av)
    raise NoSample("empty character class")


def _raise(what):
    raise NoSample(f"character category {what}")


def sample(pattern: re.Pattern) -> str:
    """A string that `pattern.search` accepts: the pattern itself when it is plain text, else generated."""
    if pattern.search(pattern.pattern):
        return pattern.pattern
    text = _sample_of(_sre_p.parse(pattern.pattern, pattern.flags))
    if not pattern.search(text):  # pragma: no cover - would be a generator bug
        raise NoSample(f"generated {text!r} does not match /{pattern.pattern}/")
    return text


def test_sample_generator_handles_the_constructs_in_the_data():
    for rx in (r'"reason": ?"Database error"', r"Extra query parameter\(s\)", r"[0-9]+ items?", r"a|b", r"^x.$"):
        assert re.search(rx, sample(re.compile(rx))), rx


# -- building observations from an entry -------------------------------------------
def _doc_for(pointers) -> object:
    """A JSON document with every pointer present and holding a matching string."""
    doc: object = None
    for pointer, rx in pointers:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]
        doc = _put(doc, parts, sample(rx))
    return doc


def _put(node, parts, value):
    if not parts:
        return value
    head, rest = parts[0], parts[1:]
    if head.isdigit():
        node = node if isinstance(node, list) else []
        while len(node) <= int(head):
            node.append(None)
        node[int(head)] = _put(node[int(head)], rest, value)
        return node
    node = node if isinstance(node, dict) else {}
    node[head] = _put(node.get(head), rest, value)
    return node


def scopes(dev: Deviation) -> list[tuple[str, str, str]]:
    """(result id, operation, step) of the first operation and the first scenario step the entry names.

    An entry that excuses only the official clients' reading is about `client.<operationId>` results.
    """
    out = []
    if dev.operations:
        kind = "client" if dev.checks == (CLIENT_CHECK,) else "property"
        out.append((f"{kind}.{dev.operations[0]}", dev.operations[0], ""))
    if dev.scenarios:
        rid, step = dev.scenarios[0]
        out.append((rid, "", step))
    return out


def positive(dev: Deviation, *, result_id: str, operation: str, step: str) -> Observation:
    sig = dev.response
    body = sample(sig.body) if sig.body is not None else UNRELATED_BODY
    doc = _doc_for(sig.pointer) if sig.pointer else None
    req = dev.trigger
    return Observation(
        result_id=result_id,
        operation=operation,
        step=step,
        check=dev.checks[0],
        status=sig.status[0] if sig.status else 200,
        content_type=sig.content_type[0] if sig.content_type else "application/json",
        body=body,
        json=doc,
        schema_error=sample(sig.schema_error) if sig.schema_error is not None else "",
        invalid=frozenset(req.invalid),
        query=frozenset(req.query),
        body_fields=frozenset(req.body),
        body_empty=req.body_empty,
        backend=dev.backend,
        client=client_in(dev),
        request_json=trigger_body(req),
    )


SAMPLE_OF_TYPE = {"object": {}, "array": [], "string": "x", "number": 1, "boolean": True, "null": None}


def trigger_body(trigger) -> object:
    """A request body that carries the trigger's JSON types and values (`*` as the first list item)."""
    doc: object = None
    for pointer, value in (
        [(p, SAMPLE_OF_TYPE[sorted(t)[0]]) for p, t in trigger.body_types]
        + [(p, json.loads(v)) for p, v in trigger.body_values]
        + [(p, "x-none-of-" + "-".join(sorted(a))) for p, a in getattr(trigger, "body_not_in", ())]
    ):
        doc = _put(doc, [x for x in pointer.split("/") if x], value)
    return doc


def _put(node: object, parts: list, value: object) -> object:
    if not parts:
        return value
    head, rest = parts[0], parts[1:]
    where = re.match(r"^\[([^=\]]+)=([^\]]*)\]$", head)
    if where:  # an item of a list that has key=value
        items = node if isinstance(node, list) else []
        first = items[0] if items and isinstance(items[0], dict) else {}
        return (
            [{**_put(first, rest, value), where.group(1): where.group(2)}]
            if rest
            else [{where.group(1): where.group(2)}]
        )
    if head == "*":
        items = node if isinstance(node, list) else []
        return [_put(items[0] if items else None, rest, value)]
    mapping = node if isinstance(node, dict) else {}
    return {**mapping, head: _put(mapping.get(head), rest, value)}


def client_in(dev: Deviation) -> str:
    """A published client release the entry is recorded for ("" for a server defect: any reader)."""
    if not dev.client:
        return ""
    inside = [v for v in PUBLISHED if Version(v) in SpecifierSet(dev.client)]
    assert inside, f"{dev.id}: no published client release in `client: {dev.client}`"
    return inside[-1]


def _obs_or_skip(dev: Deviation, scope) -> Observation:
    try:
        return positive(dev, result_id=scope[0], operation=scope[1], step=scope[2])
    except NoSample as exc:
        pytest.skip(f"{dev.id}: cannot derive a body sample: {exc}")


def _scope_params():
    return [pytest.param(dev, scope, id=f"{dev.id}@{scope[0]}") for dev in DEVIATIONS for scope in scopes(dev)]


def _dev_id(dev: Deviation) -> str:
    return dev.id


def _ids(devs):
    return [d.id for d in devs]


def test_data_file_has_entries():
    assert len(DEVIATIONS) >= 10
    assert all(scopes(d) for d in DEVIATIONS), "every entry names an operation or a scenario step"


# -- every real entry: positive and negatives --------------------------------------
@pytest.mark.parametrize(("dev", "scope"), _scope_params())
def test_entry_covers_its_own_signature(dev: Deviation, scope):
    obs = _obs_or_skip(dev, scope)
    assert dev.covers(obs), f"{dev.id} does not cover a failure built from itself: {obs}"


@pytest.mark.parametrize(("dev", "scope"), _scope_params())
def test_entry_rejects_other_check_and_status(dev: Deviation, scope):
    obs = _obs_or_skip(dev, scope)
    other_check = sorted(check_names() - set(dev.checks))[0]
    assert not dev.covers(_replace(obs, check=other_check))
    other_status = next(s for s in (599, 418, 201, 503) if s not in dev.response.status)
    assert not dev.covers(_replace(obs, status=other_status))
    assert not dev.covers(_replace(obs, status=None))


@pytest.mark.parametrize("dev", [d for d in DEVIATIONS if d.client], ids=_dev_id)
def test_client_defect_rejects_other_client_releases_and_server_checks(dev: Deviation):
    obs = _obs_or_skip(dev, scopes(dev)[0])
    outside = [v for v in PUBLISHED if Version(v) not in SpecifierSet(dev.client)]
    assert all(not dev.covers(_replace(obs, client=v)) for v in outside)
    assert not dev.covers(_replace(obs, client=""))  # the same answer judged by a server check


@pytest.mark.parametrize(("dev", "scope"), _scope_params())
def test_entry_rejects_other_scope(dev: Deviation, scope):
    obs = _obs_or_skip(dev, scope)
    result_id, operation, step = scope
    if operation:
        other = "acf_not_an_operation"
        assert other not in dev.operations
        assert not dev.covers(_replace(obs, result_id=f"{result_id.split('.')[0]}.{other}", operation=other))
        # the operation must be the one the result is about: a property result with no operation is never excused
        assert not dev.covers(_replace(obs, operation=""))
    else:
        steps = {s for rid, s in dev.scenarios if rid == result_id}
        assert not dev.covers(_replace(obs, step=next(s for s in ("acf_other_step", "x") if s not in steps)))
        assert not dev.covers(_replace(obs, step=""))
        assert not dev.covers(_replace(obs, result_id="scenario.acf.not_listed"))
        # a scenario entry never excuses a property result of the same operation name
        assert not dev.covers(_replace(obs, result_id=f"property.{step}", operation=step))


@pytest.mark.parametrize("dev", [d for d in DEVIATIONS if d.response.body is not None], ids=_dev_id)
def test_entry_with_body_pattern_rejects_body_without_it(dev: Deviation):
    obs = _obs_or_skip(dev, scopes(dev)[0])
    assert not dev.response.body.search(UNRELATED_BODY)
    assert not dev.covers(_replace(obs, body=UNRELATED_BODY))
    assert not dev.covers(_replace(obs, body=""))


@pytest.mark.parametrize("dev", [d for d in DEVIATIONS if d.response.body is not None], ids=_dev_id)
def test_request_text_never_matters(dev: Deviation):
    """The body pattern present only in what the request named (query and body names) excuses nothing."""
    obs = _obs_or_skip(dev, scopes(dev)[0])
    text = sample(dev.response.body)
    only_in_request = _replace(obs, body=UNRELATED_BODY, query=obs.query | {text}, body_fields=obs.body_fields | {text})
    assert not dev.covers(only_in_request)


@pytest.mark.parametrize("dev", [d for d in DEVIATIONS if d.response.content_type], ids=_dev_id)
def test_entry_with_content_type_rejects_other_content_type(dev: Deviation):
    obs = _obs_or_skip(dev, scopes(dev)[0])
    other = next(c for c in ("application/x-acf", "text/csv") if c not in dev.response.content_type)
    assert not dev.covers(_replace(obs, content_type=other))


@pytest.mark.parametrize("dev", [d for d in DEVIATIONS if d.response.pointer], ids=_dev_id)
def test_entry_with_pointer_rejects_missing_or_other_value(dev: Deviation):
    obs = _obs_or_skip(dev, scopes(dev)[0])
    assert not dev.covers(_replace(obs, json=None))
    assert not dev.covers(_replace(obs, json={"detail": "a plain string"}))


@pytest.mark.parametrize("dev", [d for d in DEVIATIONS if d.response.schema_error is not None], ids=_dev_id)
def test_entry_with_schema_error_rejects_other_schema_error(dev: Deviation):
    obs = _obs_or_skip(dev, scopes(dev)[0])
    assert not dev.covers(_replace(obs, schema_error=""))
    assert not dev.covers(_replace(obs, schema_error="/acf_field: 1 is not of type 'string'"))


@pytest.mark.parametrize("dev", [d for d in DEVIATIONS if d.trigger], ids=_dev_id)
def test_entry_with_request_facts_needs_them(dev: Deviation):
    obs = _obs_or_skip(dev, scopes(dev)[0])
    req = dev.trigger
    if req.query:
        assert not dev.covers(_replace(obs, query=frozenset()))
    if req.body:
        assert not dev.covers(_replace(obs, body_fields=frozenset()))
    if req.body_empty is not None:
        assert not dev.covers(_replace(obs, body_empty=not req.body_empty))
        assert not dev.covers(_replace(obs, body_empty=None))
    if req.invalid:
        assert not dev.covers(_replace(obs, invalid=frozenset()))
        # a case that broke the spec in another way too is not this deviation
        assert not dev.covers(_replace(obs, invalid=obs.invalid | {"acf:otherKind"}))


@pytest.mark.parametrize("dev", [d for d in DEVIATIONS if d.backend], ids=_dev_id)
def test_backend_entry_rejects_other_backend(dev: Deviation):
    obs = _obs_or_skip(dev, scopes(dev)[0])
    for other in [b for b in BACKENDS if b != dev.backend] + [""]:
        assert not dev.covers(_replace(obs, backend=other)), other


def _replace(obs: Observation, **changes) -> Observation:
    from dataclasses import replace  # noqa: PLC0415

    return replace(obs, **changes)


# -- the headline rule on a hand-made entry ------------------------------------------
ORDER_BY = {
    "id": "acf-order-by",
    "versions": "<3",
    "operations": ["get_dags", "get_pools"],
    "checks": ["status_code_conformance"],
    "response": {"status": 400, "body": "order_by"},
    "reproduce": [{"operation": "get_dags"}, {"operation": "get_pools"}],
    "upstream": "unreported",
    "summary": "s",
}


def test_pattern_only_in_request_names_is_not_covered():
    dev = Deviation.parse(ORDER_BY)
    base = dict(result_id="property.get_dags", operation="get_dags", check="status_code_conformance", status=400)
    assert dev.covers(Observation(**base, body='{"detail": "Ordering with \'order_by\' is disallowed"}'))
    # an unrelated 400 of a request that happened to send `order_by`
    assert not dev.covers(
        Observation(
            **base,
            body='{"detail": "database is locked"}',
            query=frozenset({"order_by", "limit"}),
            body_fields=frozenset({"order_by"}),
        )
    )
    # the Observation has no field for request text at all
    assert not {"request", "url", "request_body", "message"} & set(Observation.__dataclass_fields__)


def test_signature_parse_and_matches_without_deviation():
    sig = Signature.parse(
        {
            "status": [400, 422],
            "content_type": "application/json",
            "body": "bad",
            "pointer": {"/detail/0/loc": "x"},
            "schema_error": "anyOf",
        }
    )
    assert sig.status == (400, 422) and sig.content_type == ("application/json",)
    doc = {"detail": [{"loc": ["body", "x"]}]}
    assert sig.matches(422, "application/json", "a bad body", doc, "/a: anyOf failed")
    assert not sig.matches(422, "application/json", "a bad body", {"detail": []}, "/a: anyOf failed")
    assert not sig.matches(422, "application/problem+json", "a bad body", doc, "/a: anyOf failed")
    assert not sig.matches(500, "application/json", "a bad body", doc, "/a: anyOf failed")
    assert not sig.matches(422, "application/json", "a bad body", doc, "")


def test_request_facts_invalid_must_all_be_named():
    facts = Trigger.parse({"invalid": ["query:type", "query:anyOf"]})
    obs = Observation(result_id="property.x", check="negative_data_rejection")
    assert facts.matches(_replace(obs, invalid=frozenset({"query:type"})))
    assert facts.matches(_replace(obs, invalid=frozenset({"query:type", "query:anyOf"})))
    assert not facts.matches(_replace(obs, invalid=frozenset({"query:type", "body:required"})))
    assert not facts.matches(_replace(obs, invalid=frozenset()))
    assert Trigger.parse(None).matches(obs)


@pytest.mark.parametrize(
    ("body", "carried"),
    [
        ({"actions": [{"action_on_existence": "fail"}]}, True),  # absent
        ({"actions": [{"action": "", "entities": []}]}, True),  # a string none of the allowed
        ({"actions": [{"action": None}]}, True),  # null
        ({"actions": [{"action": "delete"}, {"action": "frobnicate"}]}, True),  # one entry is enough
        ({"actions": [{"action": "delete", "entities": []}, {"action": "create"}]}, False),
        ({"actions": []}, False),  # no action entry at all: nothing lacks the field
        (None, False),
    ],
)
def test_body_not_in_is_carried_by_an_absent_or_unlisted_value(body, carried):
    """`body_not_in`: the value at the pointer is none of the listed ones, or the object lacks it."""
    trigger = Trigger.parse({"body_not_in": {"/actions/*/action": ["create", "update", "delete"]}})
    obs = Observation(result_id="property.bulk_pools", check="not_a_server_error", request_json=body)
    assert trigger.matches(obs) is carried
    assert "absent or none of" in trigger.describe()


@pytest.mark.parametrize(
    ("body", "carried"),
    [
        ({"actions": [{"action": "delete", "entities": [{"name": "p"}]}]}, True),
        (
            {"actions": [{"action": "create", "entities": [{"name": "p"}]}, {"action": "delete", "entities": ["q"]}]},
            False,
        ),
        ({"actions": [{"action": "create", "entities": [{"name": "p"}]}]}, False),
    ],
)
def test_a_filter_part_reaches_only_the_items_it_names(body, carried):
    """`[action=delete]`: an object among a create's entities is no object among a delete's."""
    trigger = Trigger.parse({"body_types": {"/actions/[action=delete]/entities/*": "object"}})
    obs = Observation(result_id="property.bulk_pools", check="not_a_server_error", request_json=body)
    assert trigger.matches(obs) is carried


# -- lint ------------------------------------------------------------------------------
KNOWN = check_names()
GOOD = {
    "id": "acf-good",
    "versions": ">=2.10,<3",
    "operations": ["get_dags", "get_pools"],
    "checks": ["status_code_conformance"],
    "response": {"status": 400, "body": "Page limit must be a positive integer"},
    "reproduce": [{"operation": "get_dags", "query": {"limit": 0}}, {"operation": "get_pools", "query": {"limit": 0}}],
    "upstream": "unreported",
    "summary": "limit 0 answers an undocumented 400",
}
GOOD_SCENARIO = {
    "id": "acf-good-scenario",
    "versions": ">=3.2,<3.4",
    "scenarios": [{"id": "scenario.pools.partial_patch", "step": "patch"}],
    "checks": ["status"],
    "response": {"status": 422},
    "reproduce": [{"operation": "patch_pool", "body": {"slots": 3}}],
    "upstream": "apache/airflow#12345",
    "summary": "s",
}


def _mutated(base: dict, **changes) -> dict:
    entry = copy.deepcopy(base)
    for key, value in changes.items():
        if value is _DROP:
            entry.pop(key, None)
        else:
            entry[key] = value
    return entry


_DROP = object()


def test_lint_accepts_the_real_data():
    assert lint(raw_deviations(), KNOWN) == []


def test_lint_accepts_the_good_entries():
    assert lint([GOOD, GOOD_SCENARIO], KNOWN) == []


@pytest.mark.parametrize(
    ("entry", "needle"),
    [
        pytest.param(_mutated(GOOD, match="Page limit"), "unknown keys", id="match-request-text"),
        pytest.param(_mutated(GOOD, message="Page limit"), "unknown keys", id="message-request-text"),
        pytest.param(_mutated(GOOD, operations=["*"]), "wildcard", id="operations-star"),
        pytest.param(
            _mutated(GOOD, operations=["get_*"], reproduce=[{"each": True}]), "wildcard", id="operations-glob"
        ),
        pytest.param(_mutated(GOOD, response={"status": 400}), "status only", id="status-only"),
        pytest.param(_mutated(GOOD, response={"body": "x"}), "no `status`", id="no-status"),
        pytest.param(_mutated(GOOD, reproduce=_DROP), "missing `reproduce`", id="missing-reproduce"),
        pytest.param(
            _mutated(GOOD, reproduce=[{"operation": "get_dags"}]),
            "no reproduction for operations ['get_pools']",
            id="operation-without-reproduction",
        ),
        pytest.param(
            _mutated(GOOD, reproduce=[{"query": {"limit": 0}}]),
            "must name its `operation`",
            id="reproduction-without-operation",
        ),
        pytest.param(
            _mutated(GOOD, upstream="observed on Airflow 2.10.5"),
            "neither `unreported` nor owner/repo#N",
            id="upstream-free-text",
        ),
        pytest.param(
            _mutated(GOOD, upstream="apache/airflow#1, observed"),
            "neither `unreported` nor owner/repo#N",
            id="upstream-partly-free-text",
        ),
        pytest.param(_mutated(GOOD, intermittent=True), "`intermittent` must say why", id="intermittent-true"),
        pytest.param(
            _mutated(GOOD_SCENARIO, scenarios=[{"id": "scenario.pools.partial_patch"}]),
            "must name `id` and the `step`",
            id="scenario-without-step",
        ),
        pytest.param(
            _mutated(GOOD_SCENARIO, scenarios=[{"id": "scenario.pools.*", "step": "patch"}]),
            "wildcard",
            id="scenario-wildcard",
        ),
        pytest.param(_mutated(GOOD, operations=_DROP), "scoped to nothing", id="no-scope"),
        pytest.param(
            _mutated(GOOD, checks=["acf_no_such_check"]), "unknown check 'acf_no_such_check'", id="unknown-check"
        ),
        pytest.param(_mutated(GOOD, versions="2.10"), "not a PEP 440 specifier", id="bad-versions"),
        pytest.param(_mutated(GOOD, backend="oracle"), "backend 'oracle'", id="bad-backend"),
        pytest.param(_mutated(GOOD, trigger={"text": "limit=0"}), "structured facts", id="request-text"),
        pytest.param(_mutated(GOOD, response={"status": 400, "body": "("}), "bad pattern", id="bad-regex"),
        pytest.param(
            _mutated(GOOD, response={"status": 400, "body": "x", "headers": "y"}),
            "unknown response keys",
            id="unknown-response-key",
        ),
    ],
)
def test_lint_rejects(entry: dict, needle: str):
    problems = lint([entry], KNOWN)
    assert problems, f"lint accepted {entry}"
    assert any(needle in p for p in problems), problems
    assert all(p.startswith(f"deviation {entry['id']}: ") for p in problems), problems


def test_lint_allows_each_instead_of_one_reproduction_per_operation():
    assert lint([_mutated(GOOD, reproduce=[{"each": True, "query": {"limit": 0}}])], KNOWN) == []


def test_lint_allows_intermittent_with_a_reason_and_several_upstream_refs():
    entry = _mutated(GOOD, intermittent="only under write contention", upstream="apache/airflow#1, apache/airflow#2")
    assert lint([entry], KNOWN) == []


def test_lint_rejects_duplicate_ids():
    problems = lint([GOOD, copy.deepcopy(GOOD)], KNOWN)
    assert problems == ["deviation acf-good: duplicate id"]


def test_lint_rejects_non_mapping_entry():
    assert lint(["just a string"], KNOWN) == ["deviation #1: not a mapping"]


def test_lint_of_real_data_would_catch_a_duplicate():
    raw = raw_deviations()
    assert any("duplicate id" in p for p in lint([*raw, copy.deepcopy(raw[0])], KNOWN))


# -- load ----------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["2.10.5", "3.3.2"])
def test_load_returns_exactly_the_entries_for_that_version(version):
    exp = load(version)
    v = Version(version)
    got = _ids(exp.deviations)
    assert got, f"no deviations recorded for {version}"
    for dev in exp.deviations:
        assert v in SpecifierSet(dev.versions, prereleases=True), f"{dev.id} ({dev.versions}) loaded for {version}"
        assert not dev.backend, f"{dev.id} is for backend {dev.backend} but the backend is unknown"
    expected = [d.id for d in DEVIATIONS if v in SpecifierSet(d.versions, prereleases=True) and not d.backend]
    assert got == expected
    assert exp.version == v


def test_load_separates_the_generations():
    v2 = set(_ids(load("2.10.5").deviations))
    v3 = set(_ids(load("3.3.2").deviations))
    assert "v1-problem-json-content-type" in v2 and "v1-problem-json-content-type" not in v3
    assert "v2-delete-dag-204" in v3 and "v2-delete-dag-204" not in v2


def test_load_filters_by_backend():
    postgres_only = {d.id for d in DEVIATIONS if d.backend == "postgres" and d.applies_to(Version("3.3.2"), "postgres")}
    assert postgres_only, "the data file is expected to hold a postgres-only entry for 3.3.2"
    sqlite = load("3.3.2", "sqlite")
    assert sqlite.backend == "sqlite"
    assert not postgres_only & set(_ids(sqlite.deviations))
    assert all(d.backend in ("", "sqlite") for d in sqlite.deviations)
    assert postgres_only <= set(_ids(load("3.3.2", "postgres").deviations))
    # the backend-independent entries are the same whatever the backend
    assert [d.id for d in sqlite.deviations if not d.backend] == _ids(load("3.3.2").deviations)


def test_expectations_known_uses_covers():
    """A bare 500 on bulk_pools is excused only when the request carried the trigger (entities as objects)."""
    exp = load("3.3.2", "sqlite")
    dev = next(d for d in exp.deviations if d.id == "v2-bulk-delete-entity-objects-500")
    objects = {"actions": [{"action": "delete", "entities": [{"name": "acf_p", "slots": 1}]}]}
    names = {"actions": [{"action": "delete", "entities": ["acf_p"]}]}
    obs = Observation(
        result_id="property.bulk_pools",
        operation="bulk_pools",
        check="not_a_server_error",
        status=500,
        content_type="application/json",
        body='{"detail": {"reason": "Database error"}}',
        body_fields=frozenset({"actions"}),
        request_json=objects,
    )
    assert dev.covers(obs)
    assert exp.known(obs) is dev
    assert exp.known(_replace(obs, request_json=names)) is None  # the same crash without the trigger: a failure
    mixed = {"actions": [{"action": "delete", "entities": ["acf_q", {"name": "acf_p", "slots": 1}]}]}
    assert exp.known(_replace(obs, request_json=mixed)) is dev  # one object entity carries the trigger
    assert exp.known(_replace(obs, request_json=None)) is None
    created = {"actions": [{"action": "create", "entities": [{"name": "acf_p", "slots": 1}]}]}
    assert exp.known(_replace(obs, request_json=created)) is None  # objects of a create are no delete's objects
