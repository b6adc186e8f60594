"""The identities of one run: the run's own (`--auth`) and one per role (`--auth-role ROLE=SPEC`).

Role names are matched to the release's built-in roles case-insensitively (`viewer` is `Viewer`
on 2.x). A local target the suite started brings one user per built-in role, found by URL like
its admin; an identity given on the command line or in the environment replaces the local one of
the same role. The run's own role is known when `--auth` is one of the role identities, a user of a
local target, or (Airflow 3, SimpleAuthManager) named by the token the server minted for it;
otherwise it stays unknown and nothing is skipped for lack of privilege.
"""

from __future__ import annotations

import requests

from conformance.context import CheckContext
from conformance.errors import ConfigError
from conformance.options import RunOptions
from conformance.target.auth import AuthSpec, parse_auth
from conformance.target.tokens import TokenAuth, jwt_claims


def resolve(options: RunOptions, local, access, version: str) -> dict[str, AuthSpec]:
    """Role -> auth spec, by the release's spelling of the role; ConfigError for a role the release does not have."""
    given: dict[str, str] = {}
    if local is not None:
        given.update({role: spec for role, spec in local.role_specs().items()})
        admin = next((r for r in (access.role_names if access else ()) if r.lower() == "admin"), None)
        if admin:
            given[admin] = local.auth_spec
    for name, spec in options.auth_roles.items():
        given = {r: s for r, s in given.items() if r.lower() != name.lower()}
        given[name] = spec
    out: dict[str, AuthSpec] = {}
    for name, text in given.items():
        role = access.role(name) if access is not None else name
        if role is None:
            raise ConfigError(
                f"--auth-role {name}: not a built-in role of Airflow {version} "
                f"(its roles: {', '.join(access.role_names)})"
            )
        try:
            out[role] = parse_auth(text)
        except ConfigError as exc:
            raise ConfigError(f"--auth-role {name}: {exc}") from None
        if out[role].kind in ("none",):
            raise ConfigError(
                f"--auth-role {name}: a role identity needs credentials (anonymous requests are always checked)"
            )
    return out


def primary_role(options: RunOptions, auth: AuthSpec, local, ctx: CheckContext) -> str | None:
    """The role of the run's own identity, when the run can know it without trusting guesses."""
    access = ctx.access
    if access is None:
        return None
    if local is not None and not options.auth:
        return access.role("admin")
    for role, spec in ctx.identities.items():
        if (spec.kind, spec.user, spec.password, spec.token) == (auth.kind, auth.user, auth.password, auth.token):
            return role
    if local is not None and auth.user:
        users = {a["user"]: role for role, a in local.roles.items()}
        users[local.auth.get("user", "")] = "admin"
        if auth.user in users:
            return access.role(users[auth.user])
    return _role_claim(ctx.session.auth, access)


def _role_claim(auth, access) -> str | None:
    """Airflow 3's SimpleAuthManager writes the user's role into the JWT it mints (`serialize_user`)."""
    if access.model != "simple" or not isinstance(auth, TokenAuth) or not auth.token:
        return None
    role = (jwt_claims(auth.token) or {}).get("role")
    return access.role(role) if isinstance(role, str) else None


def check(ctx: CheckContext) -> None:
    """Each role identity must be accepted (a 403 is fine: the role may read nothing); exit 2 when one is refused."""
    for role in ctx.identities:
        try:
            resp = ctx.session_for(role).call("GET", "/dags", params={"limit": 1})
        except requests.RequestException as exc:
            raise ConfigError(f"--auth-role {role}: no answer from the target ({type(exc).__name__})") from None
        if resp.status_code == 401:
            raise ConfigError(
                f"credentials rejected: GET {ctx.target.api_base}/dags answered 401 with "
                f"--auth-role {role}={ctx.identities[role].redacted}"
            )
