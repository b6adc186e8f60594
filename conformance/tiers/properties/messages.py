"""The words of a property failure: the check's message, the server's answer and the request, briefly.

A failure message is read by people and matched by known deviations, so it
keeps the server's own words and every field name of the request body while
cutting generated strings (often kilobytes of escaped unicode) short.
Secrets are masked here and redacted by the caller.
"""

from __future__ import annotations

import json
from urllib.parse import unquote, urlsplit

import requests

from conformance.http.redact import mask_fields


def failure_text(message: str, response) -> str:
    """`<message> | response: <excerpt> | request: <METHOD path?query> body <compact body>` (unredacted)."""
    request = getattr(response, "request", None)
    text = " ".join(message.split())
    body = excerpt(response)
    if body:
        text += f" | response: {body}"
    if isinstance(request, requests.PreparedRequest):
        text += f" | request: {request.method} {unquote(urlsplit(request.url or '').path)}"
        query = unquote(urlsplit(request.url or "").query)
        if query:
            text += "?" + query[:2000]
        sent = request.body
        if isinstance(sent, bytes):
            sent = sent.decode("utf-8", "replace")
        if isinstance(sent, str):  # the suite sends bytes or str bodies, never a stream
            text += f" body {compact_body(sent)[:4000]}"
    return text


def describe_exception(exc: BaseException) -> str:
    """Type, message and the innermost frame: enough to find a defect without a traceback on screen."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f" at {tb.tb_frame.f_code.co_filename.rsplit('/', 2)[-1]}:{tb.tb_lineno}" if tb is not None else ""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}{where}"


def _shorten(value, limit: int = 80):
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + "…"
    if isinstance(value, dict):
        return {k: _shorten(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [_shorten(v, limit) for v in value[:20]] + (["…"] if len(value) > 20 else [])
    return value


def compact_body(sent: str) -> str:
    """A JSON body with long strings cut short, so every field name stays visible to deviation matching.

    Generated strings are often kilobytes of escaped unicode; cutting the serialized body instead
    would hide the fields after them (the field that made the server fail among them).
    """
    try:
        data = json.loads(sent)
    except ValueError:
        return sent
    # password, extra, token ... fields are masked as in the curl reproduction
    return json.dumps(_shorten(mask_fields(data))) if isinstance(data, (dict, list)) else sent


def excerpt(response, limit: int = 1000) -> str:
    """The server's own words (error detail or body start), for people and for matching known deviations."""
    raw = response.content or b""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return " ".join(raw[:limit].decode("utf-8", "replace").split())
    if isinstance(body, dict) and ("detail" in body or "title" in body):
        body = {k: body[k] for k in ("title", "detail") if k in body}
    return json.dumps(body, default=str)[:limit]
