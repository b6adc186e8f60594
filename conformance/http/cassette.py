"""The cassette: a run's successful JSON answers, kept so other readers can judge them later.

Why: official clients read the same contract from the other side. Recording
what the server answered once lets any number of client releases parse those
answers afterwards (`run --client`, the matrix's client rows) without sending
a single extra request to the target.

What is kept, per operation and status: the richest few distinct 2xx JSON
answers (largest first), or one answer the server declared empty (204/205,
Content-Length 0; kept as `"body": null, "no_body": true`: a client with no
model for it reads None, as a spec without content says; one with a model
shows the mismatch), each with its method, path template, status,
Content-Type and the redacted curl of the request. Bounded in size: a body
over MAX_BODY_BYTES has its lists cut to their first LIST_CUT items (a shorter
collection is still a valid one), and the cassette stops growing at
MAX_TOTAL_BYTES.

No secret is written: every string passes the run's Redactor, and fields that
carry credentials or user data (passwords, tokens, extras, variable and XCom
values, run conf, configuration values) are replaced by a placeholder of the
same JSON type (strings "***", numbers 0), so a client still sees the type the
server sent: masking never turns a wrong type into a right one.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests

from conformance.http.redact import MASK, SENSITIVE_FIELDS, Redactor

FORMAT = "airflow-conformance cassette 1"
PER_SLOT = 3  # answers kept per (operation, status)
MAX_BODY_BYTES = 256 * 1024
MAX_TOTAL_BYTES = 16 * 1024 * 1024
LIST_CUT = 20
KEPT_HEADERS = ("Content-Type",)  # what a client reads besides the body (never a credential header)
# fields whose values may be anyone's secrets even though their names do not say so
USER_DATA_FIELDS = re.compile(r"^(value|conf|options|default_value)$")
JSON_TYPE = re.compile(r"^application/([\w.+-]*\+)?json\b", re.I)


def placeholder(value: object) -> object:
    """`value` with every leaf replaced by a masked value of the same JSON type (null, booleans kept)."""
    if isinstance(value, dict):
        return {k: placeholder(v) for k, v in value.items()}
    if isinstance(value, list):
        return [placeholder(v) for v in value]
    if isinstance(value, str):
        return MASK if value else value
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return type(value)(0)
    return value


def masked(data: object, redactor: Redactor) -> object:
    """A copy of a JSON answer safe to write: secret-bearing fields type-preserved placeholders, strings redacted."""
    if isinstance(data, dict):
        return {
            redactor.redact(k) if isinstance(k, str) else k: placeholder(v)
            if isinstance(k, str) and (SENSITIVE_FIELDS.search(k) or USER_DATA_FIELDS.match(k))
            else masked(v, redactor)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [masked(v, redactor) for v in data]
    if isinstance(data, str):
        return redactor.redact(data)
    return data


def cut_lists(data: object, keep: int = LIST_CUT) -> object:
    """The same answer with every list cut to its first `keep` items (still the shape the spec describes)."""
    if isinstance(data, dict):
        return {k: cut_lists(v, keep) for k, v in data.items()}
    if isinstance(data, list):
        return [cut_lists(v, keep) for v in data[:keep]]
    return data


@dataclass(frozen=True)
class Kept:
    """One kept answer: its rank (size of the answer as sent), its size as kept, and its digest (no duplicates)."""

    rank: int
    size: int
    digest: str
    entry: dict


@dataclass
class Cassette:
    """Successful answers of one run, recorded by the guarded session as they arrive (thread-safe)."""

    redactor: Redactor
    per_slot: int = PER_SLOT
    max_total: int = MAX_TOTAL_BYTES
    slots: dict = field(default_factory=dict)  # (operation, status) -> [Kept], richest first
    seen: Counter = field(default_factory=Counter)  # successful JSON answers per operation
    dropped: Counter = field(default_factory=Counter)  # why answers were not kept
    total: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(
        self,
        operation: str | None,
        template: str,
        request: requests.PreparedRequest,
        response: requests.Response,
        body: bytes,
    ) -> None:
        """Keep this answer if it is a 2xx JSON body richer (larger) than what its slot holds (no-op otherwise)."""
        status = response.status_code
        ctype = response.headers.get("Content-Type") or ""
        if operation and 200 <= status < 300 and not body and _declared_empty(response):
            self._record_empty(operation, template, request, response)
            return
        if not operation or not 200 <= status < 300 or not JSON_TYPE.match(ctype):
            return
        digest = hashlib.sha256(body).hexdigest()
        with self.lock:
            self.seen[operation] += 1
            if not self._wanted((operation, status), len(body), digest):
                return
        try:
            entry = self._entry(operation, template, request, response, body)
        except (RecursionError, TypeError, ValueError) as exc:  # recording must never break the exchange it watches
            with self.lock:
                self.dropped[f"could not be recorded ({type(exc).__name__})"] += 1
            return
        if entry is None:
            return
        with self.lock:
            if self._wanted((operation, status), len(body), digest):
                self._place((operation, status), Kept(len(body), len(json.dumps(entry["body"])), digest, entry))

    def _record_empty(self, operation: str, template: str, request, response: requests.Response) -> None:
        """Keep one answer without a body per (operation, status): what a client makes of "nothing"."""
        digest = hashlib.sha256(b"").hexdigest()
        with self.lock:
            self.seen[operation] += 1
            if not self._wanted((operation, response.status_code), 0, digest):
                return
        headers = {
            name: self.redactor.redact(response.headers[name]) for name in KEPT_HEADERS if name in response.headers
        }
        entry = {
            "operation": operation,
            "method": (request.method or "GET").upper(),
            "path": template,
            "status": response.status_code,
            "headers": headers,
            "body": None,
            "no_body": True,
            "request": self.redactor.curl(request),
        }
        with self.lock:
            if self._wanted((operation, response.status_code), 0, digest):
                self._place((operation, response.status_code), Kept(0, 0, digest, entry))

    def _wanted(self, slot: tuple, rank: int, digest: str) -> bool:
        kept = self.slots.get(slot, [])
        if any(k.digest == digest for k in kept):
            return False
        return len(kept) < self.per_slot or rank > kept[-1].rank

    def _entry(self, operation: str, template: str, request, response, body: bytes) -> dict | None:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            with self.lock:
                self.dropped["not JSON"] += 1
            return None
        if len(body) > MAX_BODY_BYTES:
            data = cut_lists(data)
            if len(json.dumps(data)) > MAX_BODY_BYTES:
                with self.lock:
                    self.dropped["over the size bound"] += 1
                return None
        headers = {
            name: self.redactor.redact(response.headers[name]) for name in KEPT_HEADERS if name in response.headers
        }
        return {
            "operation": operation,
            "method": (request.method or "GET").upper(),
            "path": template,
            "status": response.status_code,
            "headers": headers,
            "body": masked(data, self.redactor),
            "request": self.redactor.curl(request),
        }

    def _place(self, slot: tuple, new: Kept) -> None:
        kept = self.slots.setdefault(slot, [])
        dropped = kept.pop() if len(kept) >= self.per_slot else None
        if self.total - (dropped.size if dropped else 0) + new.size > self.max_total:
            if dropped:
                kept.append(dropped)
            self.dropped["over the cassette's total bound"] += 1
            return
        self.total -= dropped.size if dropped else 0
        kept.append(new)
        kept.sort(key=lambda k: -k.rank)
        self.total += new.size

    def entries(self) -> list[dict]:
        with self.lock:
            return [k.entry for slot in sorted(self.slots) for k in self.slots[slot]]

    def as_dict(self) -> dict:
        with self.lock:
            seen, dropped = dict(self.seen), dict(self.dropped)
        return {"format": FORMAT, "answers_seen": seen, "dropped": dropped, "entries": self.entries()}

    def write(self, path: Path, target: dict | None = None) -> Path:
        """cassette.json; every string passes the redactor once more (a secret learnt late is still caught).

        Redacting string by string, not the JSON text, keeps the file JSON whatever a secret looks like.
        """
        data = {"format": FORMAT, "target": target or {}, **self.as_dict()}
        data["entries"] = [
            {
                **e,
                "body": masked(e["body"], self.redactor),
                "request": self.redactor.redact(e["request"]),
                "headers": masked(e["headers"], self.redactor),
            }
            for e in data["entries"]
        ]
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)
        return path


def _declared_empty(response: requests.Response) -> bool:
    """Whether the server said it sends no body (204/205, Content-Length 0), not a stream cut off while silent."""
    return response.status_code in (204, 205) or (response.headers.get("Content-Length") or "").strip() == "0"


def load(path: Path) -> list[dict]:
    """The entries of a cassette file; ValueError with one line when it is not one."""
    return read_file(path)["entries"]


def read_file(path: Path) -> dict:
    """A cassette file (format, target, entries); ValueError with one line when it is not one."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read cassette {path}: {exc.strerror or exc}") from None
    except ValueError:
        raise ValueError(f"{path} is not JSON, so not a cassette") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("entries"), list):
        raise ValueError(f"{path} is not an airflow-conformance cassette (format {FORMAT!r})")
    return data
