"""Authentication specs (`--auth`) and the requests auth objects they become.

Airflow 2.x takes HTTP Basic (with the basic_auth backend); Airflow 3.x takes
only a Bearer JWT minted by `POST /auth/token`. Both are expressed as one
string so CI can pass them through a single environment variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import requests
from requests.auth import AuthBase, HTTPBasicAuth

from conformance.errors import ConfigError
from conformance.target.tokens import ExecAuth, TokenAuth

AUTH_HELP = "basic:USER:PASS, jwt:USER:PASS, bearer:TOKEN, exec:COMMAND, env:VAR, none or kerberos"
KINDS = ("basic", "jwt", "bearer", "exec", "none", "kerberos")


@dataclass(frozen=True)
class AuthSpec:
    """A parsed `--auth` value. `repr` never shows the secret."""

    kind: str
    user: str = ""
    password: str = field(default="", repr=False)
    token: str = field(default="", repr=False)
    command: str = field(default="", repr=False)  # exec: the credential command (its arguments may hold a secret)

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
        if self.kind == "exec":
            return ExecAuth(self.command).shown
        return self.kind

    def as_string(self) -> str:
        """The full spec, secrets included: only for handing to a child process."""
        if self.kind in ("basic", "jwt"):
            return f"{self.kind}:{self.user}:{self.password}"
        if self.kind == "bearer":
            return f"bearer:{self.token}"
        if self.kind == "exec":
            return f"exec:{self.command}"
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
    if kind == "exec":
        ExecAuth(rest)  # a command that cannot be split is one line now, not at the first request
        return AuthSpec("exec", command=rest)
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


class JwtAuth(TokenAuth):
    """Airflow 3 token login: mint a JWT, mint a new one shortly before its `exp` and after a 401.

    The login request goes through the same (guarded) session as every other
    request, so it is counted and visible to the safety guard.
    """

    def __init__(self, base_url: str, user: str, password: str, session_factory) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.user = user
        self.password = password
        self._session_factory = session_factory

    def login(self) -> str:
        """A new token now (renewal times are kept by `current`)."""
        with self._lock:
            return self._take()

    def obtain(self) -> tuple[str, float | None]:
        """POST /auth/token; a 401/403 means the credentials were rejected (exit 2)."""
        session = self._session_factory()
        resp = session.post(
            f"{self.base_url}/auth/token",
            json={"username": self.user, "password": self.password},
        )
        if resp.status_code in (401, 403):
            raise ConfigError(
                f"credentials rejected: POST /auth/token answered {resp.status_code} for user '{self.user}'"
            )
        if resp.status_code not in (200, 201):
            raise ConfigError(f"token login failed: POST /auth/token answered {resp.status_code}")
        try:
            token = resp.json()["access_token"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError("token login failed: POST /auth/token did not return an access_token") from exc
        return token, None  # the expiry is the JWT's own `exp`

    def skips(self, request: requests.PreparedRequest) -> bool:
        return bool(request.url and request.url.split("?", 1)[0].rstrip("/").endswith("/auth/token"))


def make_auth(spec: AuthSpec, base_url: str, session_factory) -> AuthBase | None:
    """The requests auth object for a spec; `session_factory` yields a guarded session for logins."""
    if spec.kind == "basic":
        return HTTPBasicAuth(spec.user, spec.password)
    if spec.kind == "jwt":
        return JwtAuth(base_url, spec.user, spec.password, session_factory)
    if spec.kind == "bearer":
        return BearerAuth(spec.token)
    if spec.kind == "exec":
        return ExecAuth(spec.command)
    if spec.kind == "kerberos":
        try:
            from requests_kerberos import OPTIONAL, HTTPKerberosAuth  # noqa: PLC0415
        except ImportError as exc:
            raise ConfigError(
                "--auth kerberos needs the optional extra: pip install 'airflow-api-conformance[kerberos]'"
            ) from exc
        return HTTPKerberosAuth(mutual_authentication=OPTIONAL)
    return None
