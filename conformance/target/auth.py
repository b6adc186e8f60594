"""Authentication specs (`--auth`) and the requests auth objects they become.

Airflow 2.x takes HTTP Basic (with the basic_auth backend); Airflow 3.x takes
only a Bearer JWT minted by `POST /auth/token`. Both are expressed as one
string so CI can pass them through a single environment variable.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

import requests
from requests.auth import AuthBase, HTTPBasicAuth

from conformance.errors import ConfigError

AUTH_HELP = "basic:USER:PASS, jwt:USER:PASS, bearer:TOKEN, env:VAR, none or kerberos"
KINDS = ("basic", "jwt", "bearer", "none", "kerberos")


@dataclass(frozen=True)
class AuthSpec:
    """A parsed `--auth` value. `repr` never shows the secret."""

    kind: str
    user: str = ""
    password: str = field(default="", repr=False)
    token: str = field(default="", repr=False)

    @property
    def secrets(self) -> list[str]:
        """Values that must never appear in output, logs or reports."""
        return [s for s in (self.password, self.token) if s]

    @property
    def redacted(self) -> str:
        """The spec as it may be printed."""
        if self.kind in ("basic", "jwt"):
            return f"{self.kind}:{self.user}:***"
        if self.kind == "bearer":
            return "bearer:***"
        return self.kind

    def as_string(self) -> str:
        """The full spec, secrets included: only for handing to a child process."""
        if self.kind in ("basic", "jwt"):
            return f"{self.kind}:{self.user}:{self.password}"
        if self.kind == "bearer":
            return f"bearer:{self.token}"
        return self.kind


def parse_auth(text: str | None, *, _depth: int = 0) -> AuthSpec:
    """Parse an auth spec; errors name the accepted forms but never echo a secret."""
    if text is None or text == "":
        return AuthSpec("none")
    kind, _, rest = text.partition(":")
    kind = kind.strip().lower()
    if kind == "env":
        if _depth or not rest:
            raise ConfigError(f"--auth env:VAR needs the name of an environment variable holding one of {AUTH_HELP}")
        value = os.environ.get(rest)
        if value is None:
            raise ConfigError(f"--auth env:{rest}: environment variable {rest} is not set")
        return parse_auth(value, _depth=1)
    if kind in ("basic", "jwt"):
        user, sep, password = rest.partition(":")
        if not sep or not user or not password:
            raise ConfigError(f"malformed --auth '{kind}:...': expected {kind}:USER:PASS")
        return AuthSpec(kind, user=user, password=password)
    if kind == "bearer":
        if not rest:
            raise ConfigError("malformed --auth 'bearer:': expected bearer:TOKEN")
        return AuthSpec("bearer", token=rest)
    if kind in ("none", "kerberos") and not rest:
        return AuthSpec(kind)
    shown = kind if kind in KINDS else text.split(":", 1)[0][:40]
    raise ConfigError(f"malformed --auth '{shown}': expected one of {AUTH_HELP}")


class BearerAuth(AuthBase):
    """A fixed bearer token."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


class JwtAuth(AuthBase):
    """Airflow 3 token login: mint a JWT once; the client re-mints it on a 401.

    The login request goes through the same (guarded) session as every other
    request, so it is counted and visible to the safety guard.
    """

    def __init__(self, base_url: str, user: str, password: str, session_factory) -> None:
        self.base_url = base_url.rstrip("/")
        self.user = user
        self.password = password
        self._session_factory = session_factory
        self._token: str | None = None
        self._lock = threading.Lock()

    def login(self) -> str:
        """POST /auth/token; a 401/403 means the credentials were rejected (exit 2)."""
        session = self._session_factory()
        resp = session.post(
            f"{self.base_url}/auth/token",
            json={"username": self.user, "password": self.password},
        )
        if resp.status_code in (401, 403):
            raise ConfigError(f"credentials rejected: POST /auth/token answered {resp.status_code} for user '{self.user}'")
        if resp.status_code not in (200, 201):
            raise ConfigError(f"token login failed: POST /auth/token answered {resp.status_code}")
        try:
            token = resp.json()["access_token"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError("token login failed: POST /auth/token did not return an access_token") from exc
        self._token = token
        return token

    @property
    def token(self) -> str | None:
        return self._token

    def _current(self) -> str:
        with self._lock:
            return self._token or self.login()

    def refresh(self) -> str:
        """Re-login after a 401 (the token expired or the server restarted)."""
        with self._lock:
            return self.login()

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if r.url and r.url.split("?", 1)[0].rstrip("/").endswith("/auth/token"):
            return r
        r.headers["Authorization"] = f"Bearer {self._current()}"
        return r


def make_auth(spec: AuthSpec, base_url: str, session_factory) -> AuthBase | None:
    """The requests auth object for a spec; `session_factory` yields a guarded session for logins."""
    if spec.kind == "basic":
        return HTTPBasicAuth(spec.user, spec.password)
    if spec.kind == "jwt":
        return JwtAuth(base_url, spec.user, spec.password, session_factory)
    if spec.kind == "bearer":
        return BearerAuth(spec.token)
    if spec.kind == "kerberos":
        try:
            from requests_kerberos import OPTIONAL, HTTPKerberosAuth  # noqa: PLC0415
        except ImportError as exc:
            raise ConfigError("--auth kerberos needs the optional extra: pip install 'airflow-api-conformance[kerberos]'") from exc
        return HTTPKerberosAuth(mutual_authentication=OPTIONAL)
    return None
