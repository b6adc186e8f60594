"""Bearer tokens that expire, and how the suite gets a fresh one before they do.

Airflow 3's JWTs carry an expiry (`[api_auth] jwt_expiration_time`), and managed
services hand out short-lived tokens from their own tooling (a deployment API
token, `gcloud auth print-access-token`, an MWAA web login token). A run or a
matrix may outlive them: each token auth here knows when its token ends, gets
a new one shortly before, and once more when the server answers 401 anyway.
The token itself is never logged; the HTTP client adds every one to the run's
redactor as it arrives.
"""

from __future__ import annotations

import base64
import json
import shlex
import subprocess
import threading
import time
from datetime import datetime

import requests
from requests.auth import AuthBase

from conformance.errors import ConfigError

EXEC_TIMEOUT_S = 60.0  # a credential command that has not answered by then has failed
MAX_MARGIN_S = 60.0  # renew at most this long before the expiry, and ...
MARGIN_SHARE = 0.2  # ... at most this share of the token's lifetime before it (a 60 s token: at 48 s)


def jwt_claims(token: str) -> dict | None:
    """The claims of a JWT, read without verifying it (the server verifies; the suite only plans); None for another token."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, TypeError):
        return None
    return payload if isinstance(payload, dict) else None


def jwt_expiry(token: str) -> float | None:
    """The `exp` claim of a JWT (seconds since the epoch); None when there is none."""
    exp = (jwt_claims(token) or {}).get("exp")
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


class TokenAuth(AuthBase):
    """A bearer token that is renewed shortly before its expiry (when known) and on demand after a 401."""

    def __init__(self) -> None:
        self._token: str | None = None
        self._expires: float | None = None  # wall-clock seconds since the epoch
        self._renew_at: float | None = None
        self._lock = threading.Lock()

    @property
    def token(self) -> str | None:
        return self._token

    def obtain(self) -> tuple[str, float | None]:
        """A new token and its expiry (None: unknown); ConfigError when none can be had."""
        raise NotImplementedError

    def _take(self) -> str:
        token, expires = self.obtain()
        expires = expires if expires is not None else jwt_expiry(token)
        now = time.time()
        self._token, self._expires = token, expires
        self._renew_at = (
            None if expires is None else expires - min(MAX_MARGIN_S, MARGIN_SHARE * max(0.0, expires - now))
        )
        return token

    def current(self) -> str:
        """The token to send now: the held one, or a new one when there is none or its renewal time has come."""
        with self._lock:
            if self._token is None or (self._renew_at is not None and time.time() >= self._renew_at):
                return self._take()
            return self._token

    def refresh(self) -> str:
        """A new token regardless of the one held (the server refused it: expired early, revoked, restarted)."""
        with self._lock:
            return self._take()

    def skips(self, request: requests.PreparedRequest) -> bool:
        """Requests that must go without the token (a login itself)."""
        return False

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if not self.skips(r):
            r.headers["Authorization"] = f"Bearer {self.current()}"
        return r


class ExecAuth(TokenAuth):
    """`--auth exec:COMMAND`: a command prints the token, as kubectl's credential plugins do.

    The command is split like a shell word list but run without a shell. Its output is either the
    token alone, or a JSON object with `token` (or `access_token`) and an expiry as `expires_at` /
    `expiry` (ISO 8601 or epoch seconds) or `expires_in` (seconds), or kubectl's ExecCredential
    (`status.token`, `status.expirationTimestamp`). Without an expiry, a JWT's own `exp` is used;
    with neither, the token is renewed only after a 401.
    """

    def __init__(self, command: str) -> None:
        super().__init__()
        self.command = command
        try:
            self.argv = shlex.split(command)
        except ValueError as exc:
            raise ConfigError(f"--auth exec: cannot split the command ({exc})") from None
        if not self.argv:
            raise ConfigError(
                "--auth exec: needs a command that prints a token, e.g. exec:gcloud auth print-access-token"
            )

    @property
    def shown(self) -> str:
        """The command as output may name it: its program only (its arguments may hold a secret)."""
        return f"exec:{self.argv[0]} ..." if len(self.argv) > 1 else f"exec:{self.argv[0]}"

    def obtain(self) -> tuple[str, float | None]:
        try:
            done = subprocess.run(self.argv, capture_output=True, text=True, timeout=EXEC_TIMEOUT_S, check=False)
        except FileNotFoundError:
            raise ConfigError(f"--auth {self.shown}: command not found") from None
        except subprocess.TimeoutExpired:
            raise ConfigError(
                f"--auth {self.shown}: the command printed no token within {EXEC_TIMEOUT_S:g} s"
            ) from None
        except OSError as exc:
            raise ConfigError(f"--auth {self.shown}: cannot run the command ({exc.strerror})") from None
        if done.returncode != 0:
            why = (done.stderr or "").strip().splitlines()[-1:] or ["no message"]
            raise ConfigError(f"--auth {self.shown}: the command exited {done.returncode} ({why[0][:200]})")
        return parse_credential(done.stdout, self.shown)


def parse_credential(output: str, shown: str) -> tuple[str, float | None]:
    """(token, expiry) from a credential command's output; ConfigError for output with no token in it."""
    text = output.strip()
    if not text:
        raise ConfigError(f"--auth {shown}: the command printed nothing")
    if not text.startswith("{"):
        token = text.splitlines()[0].strip()
        if " " in token:
            raise ConfigError(f"--auth {shown}: the command's first line is not a token (it holds spaces)")
        return token, None
    try:
        data = json.loads(text)
    except ValueError:
        raise ConfigError(f"--auth {shown}: the command printed a '{{' but no valid JSON") from None
    status = data.get("status") if isinstance(data.get("status"), dict) else data
    token = status.get("token") or status.get("access_token")
    if not isinstance(token, str) or not token:
        raise ConfigError(f"--auth {shown}: the command's JSON has no 'token' (or 'access_token', or status.token)")
    return token, _expiry(status, shown)


def _expiry(data: dict, shown: str) -> float | None:
    if isinstance(data.get("expires_in"), int | float):
        return time.time() + float(data["expires_in"])
    raw = next((data[k] for k in ("expirationTimestamp", "expires_at", "expiry", "expiration") if data.get(k)), None)
    if raw is None:
        return None
    if isinstance(raw, int | float):
        return float(raw)
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ConfigError(
            f"--auth {shown}: cannot read the expiry {str(raw)[:40]!r} (ISO 8601 or epoch seconds)"
        ) from None
