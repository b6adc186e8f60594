"""Query parameters as the server received them: text, judged against their declared schemas.

A generated negative case may break a query parameter's schema only as a Python value:
an integer for a `string` parameter, an object for an array, a number for a date-time.
Sent, every one of them is text (`updated_at_gt=0.85`, `update_mask=`), and that text
can be a perfectly valid value of the declared schema. A server that accepts it
received valid input; failing it for that would fail the generator, not the server.

So a query value is valid here when some alternative of its schema accepts the
text: a `string` any text within its enum, pattern and length; an `integer` or a
`number` a literal within its bounds; a `boolean` `true` or `false`; an array each
of its repeated values. `format` is not asserted: in JSON Schema 2020-12 (OpenAPI
3.1) it is an annotation unless a vocabulary says otherwise, and OpenAPI 3.0 calls
it an open value. Anything this module cannot read (objects, `not`, unknown
keywords that constrain) counts as invalid, so the check keeps its failure.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from conformance.specs.catalog import resolve

_INTEGER = re.compile(r"[+-]?\d+")
_BOOLEANS = ("true", "false")


def query_as_sent_is_valid(spec: Mapping, op: Mapping, url: str) -> bool:
    """Whether every declared query parameter of the request at `url` carries text its schema accepts.

    Required parameters must be present; undeclared ones are left to their own rule
    (conformance.checks.permitted: a server may ignore them).
    """
    sent = parse_qs(urlsplit(url).query, keep_blank_values=True)
    for raw in op.get("parameters") or ():
        param = resolve(spec, raw)
        if not isinstance(param, dict) or param.get("in") != "query":
            continue
        values = sent.get(str(param.get("name")))
        if values is None:
            if param.get("required"):
                return False
            continue
        if not _values_ok(spec, values, param.get("schema") or {}):
            return False
    return True


def _values_ok(spec: Mapping, values: list[str], schema: Any) -> bool:
    """The repeated values of one parameter: an array's items, else exactly one scalar."""
    schema = resolve(spec, schema)
    if not isinstance(schema, dict):
        return False
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return any(_values_ok(spec, values, alt) for alt in schema[key])
    if "allOf" in schema:
        return all(_values_ok(spec, values, part) for part in schema["allOf"])
    if _types(schema) == {"array"}:
        low, high = schema.get("minItems", 0), schema.get("maxItems", math.inf)
        return low <= len(values) <= high and all(_text_ok(spec, v, schema.get("items") or {}) for v in values)
    return len(values) == 1 and _text_ok(spec, values[0], schema)


def _text_ok(spec: Mapping, text: str, schema: Any) -> bool:
    """Whether one value's text is accepted by the schema (some alternative of it)."""
    schema = resolve(spec, schema)
    if not isinstance(schema, dict) or "not" in schema:
        return False
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return any(_text_ok(spec, text, alt) for alt in schema[key])
    if "allOf" in schema and not all(_text_ok(spec, text, part) for part in schema["allOf"]):
        return False
    if "enum" in schema and text not in {_as_text(v) for v in schema["enum"]}:
        return False
    if "const" in schema and text != _as_text(schema["const"]):
        return False
    types = _types(schema)
    return not types or any(_typed_ok(text, kind, schema) for kind in types)


def _typed_ok(text: str, kind: str, schema: Mapping) -> bool:
    if kind == "string":
        pattern = schema.get("pattern")
        return schema.get("minLength", 0) <= len(text) <= schema.get("maxLength", math.inf) and (
            pattern is None or re.search(str(pattern), text) is not None
        )
    if kind == "integer":
        return bool(_INTEGER.fullmatch(text)) and _in_bounds(int(text), schema)
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            return False
        return math.isfinite(number) and _in_bounds(number, schema)
    if kind == "boolean":
        return text in _BOOLEANS
    return False  # null (a present value is text), object, array inside a scalar


def _in_bounds(number: float, schema: Mapping) -> bool:
    """minimum/maximum, with exclusiveMinimum/exclusiveMaximum as numbers (3.1) or as flags on them (3.0)."""
    low, high = schema.get("minimum", -math.inf), schema.get("maximum", math.inf)
    ex_low, ex_high = schema.get("exclusiveMinimum", False), schema.get("exclusiveMaximum", False)
    if isinstance(ex_low, bool):
        ex_low = low if ex_low else -math.inf
    if isinstance(ex_high, bool):
        ex_high = high if ex_high else math.inf
    return low <= number <= high and ex_low < number < ex_high


def _types(schema: Mapping) -> set[str]:
    kind = schema.get("type")
    if kind is None:
        return set()
    return {str(kind)} if not isinstance(kind, list) else {str(k) for k in kind}


def _as_text(value: object) -> str:
    """How an enum value reads in a query string (JSON's spelling for booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
