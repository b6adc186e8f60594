"""Judging one (identity, operation) pair: was the identity let through or refused, as the release says?

Allowed: the answer is not 401/403 (a 404 for a name that was never created still shows the
permission check passed), or it is the 403 of a setting the handler checks after the
permission (`[api] expose_config`). Denied: a role gets the release's refusal (403 with its
error body) and the write changed nothing the run's own identity can read back; a request
without credentials gets 401. A setting that answers before the permission check makes the
pair undecidable (skipped, with the setting named), never a pass.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import requests

from conformance.expectations.access import ANONYMOUS, Access, Expected
from conformance.tiers.authorization.probes import ReadBack

ALLOWED, DENIED, UNEXPECTED, SKIPPED, ERROR = "allowed", "denied", "unexpected", "skipped", "error"


@dataclass
class Cell:
    """One identity's request to one operation, and what became of it."""

    identity: str
    expected: str  # allowed | denied
    outcome: str  # allowed | denied | unexpected | skipped | error
    status: int | None = None
    reason: str = ""
    reproduce: str = ""
    reason_code: str = (
        ""  # a skipped or undecided pair: why, as a ReasonCode value (the result carries it, not the cell)
    )

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in ("", None) and k != "reason_code"}


def _json(resp: requests.Response):
    try:
        return resp.json()
    except ValueError:
        return None


def _setting_answer(access: Access, op_id: str, resp: requests.Response) -> dict | None:
    """The setting whose 403 this is (its detail in the body), if any."""
    setting = access.setting(op_id)
    if setting and resp.status_code == 403 and setting.get("detail", "\0") in resp.text[:2000]:
        return setting
    return None


def refusal_problem(access: Access, resp: requests.Response) -> str:
    """Why a 403 is not the release's refusal body ("" when it is)."""
    spec = access.refusal
    ctype = (resp.headers.get("Content-Type") or "").split(";")[0].strip()
    if spec.get("content_types") and ctype not in spec["content_types"]:
        return f"403 with content type {ctype or '-'}, the release refuses with {', '.join(spec['content_types'])}"
    body = _json(resp)
    wrong = {k: v for k, v in (spec.get("body") or {}).items() if not isinstance(body, dict) or body.get(k) != v}
    if wrong:
        return f"403 without the release's refusal body {spec.get('body')}: {resp.text[:200]!r}"
    return ""


def judge(access: Access, op_id: str, identity: str, expected: Expected, resp: requests.Response) -> tuple[str, str]:
    """(outcome, reason) of one answer; the read-back of a denied write is judged separately."""
    status = resp.status_code
    setting = _setting_answer(access, op_id, resp)
    if setting and not setting.get("after_authorization"):
        return SKIPPED, (
            f"undecidable while {setting['setting']} is off: the handler answers 403 for it before it "
            "checks the caller's permission"
        )
    if expected.allowed:
        if setting:
            return ALLOWED, f"let through the permission check ({expected.why}); 403 from {setting['setting']} after it"
        if status in (401, 403):
            return UNEXPECTED, f"refused with {status} although {expected.why}"
        return ALLOWED, f"HTTP {status}: {expected.why}"
    if identity == ANONYMOUS:
        want = int(access.anonymous.get("status", 401))
        if status == want:
            return DENIED, f"HTTP {status} without credentials"
        return UNEXPECTED, f"answered {status} to a request without credentials; the release refuses it with {want}"
    if setting:
        return UNEXPECTED, (
            f"the permission check let {identity} through ({setting['setting']} answered after it) "
            f"although {expected.why}"
        )
    if status != 403:
        return UNEXPECTED, f"answered {status} although {expected.why}; the release refuses it with 403"
    problem = refusal_problem(access, resp)
    return (UNEXPECTED, problem) if problem else (DENIED, f"HTTP 403: {expected.why}")


def changed(read_back: ReadBack, before: tuple[int, object], after: tuple[int, object]) -> str:
    """What a refused write changed, as the run's own identity reads it ("" when nothing)."""
    (was, old), (now, new) = before, after
    if read_back.absent:
        return "" if now == 404 else f"the refused create made {read_back.path} (GET answers {now})"
    if now != was:
        return f"GET {read_back.path} answered {was} before the refused request and {now} after it"
    if was != 200 or not isinstance(old, dict) or not isinstance(new, dict):
        return ""
    moved = [f for f in read_back.fields if old.get(f) != new.get(f)]
    return f"the refused update changed {', '.join(moved)} of {read_back.path}" if moved else ""
