"""Keep secrets out of everything the suite prints or writes.

Secrets are registered as they become known (passwords from `--auth`,
JWTs minted during the run) and every outgoing text passes `Redactor.redact`.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
import threading

import requests

MASK = "***"
_AUTH_HEADER = re.compile(r"(?i)(authorization:\s*(?:basic|bearer|negotiate)?\s*)([^\s'\"]+)")
_COOKIE_HEADER = re.compile(r"(?i)((?:set-)?cookie:\s*)([^'\"\n]+)")
SENSITIVE_HEADERS = ("authorization", "cookie", "set-cookie", "proxy-authorization")
# JSON body fields whose values are secrets whatever they are (connection passwords, extras, tokens)
SENSITIVE_FIELDS = re.compile(r"(?i)password|secret|token|extra|private_key|api_key")


def mask_fields(data):
    """A copy of a JSON value with every sensitive field's value replaced by ***."""
    if isinstance(data, dict):
        return {
            k: MASK if isinstance(k, str) and SENSITIVE_FIELDS.search(k) and v not in (None, "") else mask_fields(v)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [mask_fields(v) for v in data]
    return data


class Redactor:
    """A growing set of secret strings, replaced by *** wherever they appear."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._headers: set[str] = set()  # header names whose values are always masked (-H)
        for s in secrets or []:
            self.add(s)

    def add(self, secret: str | None) -> None:
        if not secret or len(secret) < 3:
            return
        with self._lock:
            self._secrets.add(secret)

    def add_header(self, name: str, value: str) -> None:
        """A header given with -H: its value is a secret, however short, wherever it appears."""
        self._headers.add(name.lower())
        self.add(value)

    def add_basic(self, user: str, password: str) -> None:
        """A Basic header carries base64(user:password); that form is a secret too."""
        self.add(password)
        self.add(base64.b64encode(f"{user}:{password}".encode()).decode())

    def redact(self, text: str) -> str:
        if not text:
            return text
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for s in secrets:
            text = text.replace(s, MASK)
        text = _AUTH_HEADER.sub(lambda m: m.group(1) + MASK, text)
        return _COOKIE_HEADER.sub(lambda m: m.group(1) + MASK, text)

    def curl(self, request: requests.PreparedRequest) -> str:
        """A copy-pasteable reproduction of a request, with credentials masked."""
        parts = ["curl", "-X", request.method or "GET"]
        for name, value in request.headers.items():
            if name.lower() in ("content-length", "accept-encoding", "connection", "user-agent"):
                continue
            shown = MASK if name.lower() in SENSITIVE_HEADERS or name.lower() in self._headers else value
            if name.lower() == "authorization" and isinstance(value, str) and " " in value:
                shown = value.split(" ", 1)[0] + " " + MASK
            parts += ["-H", f"{name}: {shown!s}"]
        body = request.body
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        if body and isinstance(body, str):  # the suite sends bytes or str bodies, never a stream
            try:
                body = json.dumps(mask_fields(json.loads(body)))
            except ValueError:
                pass
            parts += ["--data-raw", body if len(body) <= 4000 else body[:4000] + "..."]
        parts.append(request.url or "")
        return self.redact(" ".join(shlex.quote(p) for p in parts))
