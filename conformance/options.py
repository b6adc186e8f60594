"""One source of truth for a run's configuration.

The CLI, the pytest plugin and the environment variables all produce a
`RunOptions`; nothing else reads flags.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field

from conformance.errors import ConfigError

PROFILES = ("readonly", "sandbox", "disruptive")
# the tiers (what --only accepts), in the order a run collects them: scenarios first (fixed requests), the effects
# tier on objects of its own, then generated cases, the deployment's posture, and the per-identity pass
KINDS = ("scenarios", "effects", "properties", "posture", "authorization")
ROLE_ENV_PREFIX = (
    "AIRFLOW_CONFORMANCE_AUTH_"  # AIRFLOW_CONFORMANCE_AUTH_<ROLE>: a role identity (as --auth-role ROLE=SPEC)
)
DEFAULT_REPORT_DIR = "reports/latest"
DEFAULT_MAX_EXAMPLES = 20
DEFAULT_REQUEST_TIMEOUT = 30.0
ENV_PREFIX = "AIRFLOW_CONFORMANCE_"
# the target URL: AIRFLOW_CONFORMANCE_TARGET, as --target; the older name is still read
URL_ENV = (ENV_PREFIX + "TARGET", ENV_PREFIX + "URL")


def env_name(flag: str) -> str:
    """The environment variable that stands in for a flag: --max-failures -> AIRFLOW_CONFORMANCE_MAX_FAILURES."""
    return ENV_PREFIX + flag.lstrip("-").replace("-", "_").upper()


def env_value(name: str) -> str | None:
    """A variable's value, None when it is not set; set but empty (or blank) is a ConfigError, never "unset".

    An empty AIRFLOW_CONFORMANCE_TARGET is what a CI variable that did not expand looks like; taken as
    unset, `run` would provision a local Airflow and judge that instead.
    """
    value = os.environ.get(name)
    if value is not None and not value.strip():
        raise ConfigError(
            f"{name} is set but empty; give a value, or leave it out (an empty value never means 'unset')"
        )
    return value


def url_from_env() -> str | None:
    return next((value for value in map(env_value, URL_ENV) if value), None)


def parse_header(text: str) -> tuple[str, str]:
    """`NAME: VALUE` -> (NAME, VALUE); ValueError otherwise, with a message that never repeats the value."""
    name, sep, value = str(text).partition(":")
    name = name.strip()
    if not sep or not name or any(c.isspace() for c in name) or not value.strip():
        shown = name if name and not any(c.isspace() for c in name) else "?"
        raise ValueError(f"expected NAME:VALUE (got a header {shown!r} without a value, or without a name)")
    return name, value.strip()


DEFAULT_FAIL_ON = "all"  # every failure class fails the run (conformance.model.classes.parse_classes)
DEFAULT_CLIENT = "auto"  # the official client release matching the server (conformance.clients.versions)


def new_run_id() -> str:
    """Short, identifier-safe, and prefixed so `cleanup` can find leftovers of any run."""
    return "acf_" + secrets.token_hex(4)


@dataclass
class RunOptions:
    url: str | None = None
    auth: str | None = None
    # role identities (`--auth-role ROLE=SPEC`): role name as given -> auth spec text (may be env:VAR)
    auth_roles: dict[str, str] = field(default_factory=dict)
    profile: str = "sandbox"
    only: tuple[str, ...] = KINDS
    report_dir: str = DEFAULT_REPORT_DIR
    max_examples: int = DEFAULT_MAX_EXAMPLES
    max_rps: float | None = None
    time_budget: float | None = None  # seconds for the property tier; None: --max-examples alone decides
    # the target's [api] maximum_page_limit,fallback_page_limit as the user states them ("MAX,FALLBACK"); None: a local
    # target's recorded ones, else Airflow's documented defaults for the release (conformance.expectations.page_limits)
    page_limits: str | None = None
    workers: int = 1
    seed: int | None = None
    run_id: str = field(default_factory=new_run_id)
    allow_disruptive: bool = False
    keyword: str | None = None
    headers: tuple[tuple[str, str], ...] = ()  # (name, value) sent with every request; values are secrets
    tls_verify: bool = True
    cacert: str | None = None  # CA bundle the target's certificate is checked against
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    max_failures: int | None = None  # stop after this many failed checks (-x: 1)
    client: str = DEFAULT_CLIENT  # official client releases that read the recorded answers: auto, none, or V[,V]
    # failure classes whose failed results fail the run (`all`, or a comma list; conformance.model.classes parses it)
    fail_on: str = DEFAULT_FAIL_ON
    # the deployed target's metadata database as the user declares it (sqlite|postgres); None: unknown, so
    # deviations recorded for one backend excuse nothing (a target the suite started is known without it)
    database: str | None = None

    def __post_init__(self) -> None:
        if self.seed is None:  # random unless given, and always recorded, so any run can be repeated
            self.seed = int.from_bytes(os.urandom(4), "big")

    @classmethod
    def from_env(cls, **overrides) -> RunOptions:
        """The options given (`overrides`), the environment for the rest; a given value never reads its variable."""
        given = {key for key, value in overrides.items() if value is not None}
        roles = overrides.pop("auth_roles", None) or {}
        opts = cls(
            url=None if "url" in given else url_from_env(),
            auth=None if "auth" in given else env_value(env_name("auth")),
            client=(None if "client" in given else env_value(env_name("client"))) or DEFAULT_CLIENT,
            auth_roles=roles_from_env(skip={role.lower() for role in roles}),
        )
        for key, value in overrides.items():
            if value is not None:
                setattr(opts, key, value)
        opts.auth_roles = {**opts.auth_roles, **roles}  # a flag wins over the environment for the same role
        return opts

    @property
    def prefix(self) -> str:
        """Names of everything this run creates start with this."""
        return self.run_id + "_"

    def describe(self) -> dict:
        """The run's configuration as reports show it (no secrets: auth is shown by kind only)."""
        return {
            "profile": self.profile,
            "only": list(self.only),
            "max_examples": self.max_examples,
            "max_rps": self.max_rps,
            "time_budget": self.time_budget,
            "page_limits": self.page_limits,
            "workers": self.workers,
            "seed": self.seed,
            "run_id": self.run_id,
            "report_dir": self.report_dir,
            "keyword": self.keyword,
            "headers": [f"{name}: ***" for name, _ in self.headers],
            "tls_verify": self.tls_verify,
            "cacert": self.cacert,
            "request_timeout": self.request_timeout,
            "max_failures": self.max_failures,
            "client": self.client,
            "fail_on": self.fail_on,
            "database": self.database,
        }


def roles_from_env(skip: frozenset[str] | set[str] = frozenset()) -> dict[str, str]:
    """Role identities from AIRFLOW_CONFORMANCE_AUTH_<ROLE> variables (role names are matched case-insensitively).

    An empty one is a ConfigError: the role's checks would otherwise silently run without that identity.
    Roles in `skip` (given by a flag, which wins) are not read.
    """
    return {
        role: env_value(name) or ""
        for name in sorted(os.environ)
        if name.startswith(ROLE_ENV_PREFIX)
        and len(name) > len(ROLE_ENV_PREFIX)
        and (role := name[len(ROLE_ENV_PREFIX) :].lower()) not in skip
    }


def parse_role_assignment(text: str) -> tuple[str, str]:
    """`ROLE=SPEC` -> (role, spec); ValueError with a message that never echoes the spec (it may hold a secret)."""
    role, sep, spec = text.partition("=")
    role = role.strip()
    if not sep or not role or not spec or not role.replace("_", "").replace("-", "").isalnum():
        raise ValueError(
            f"expected ROLE=SPEC (for example Viewer=env:VIEWER_AUTH), got '{role[:40] or '...'}=...'"
            if sep
            else "expected ROLE=SPEC (for example Viewer=env:VIEWER_AUTH)"
        )
    return role, spec
