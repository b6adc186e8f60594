"""One source of truth for a run's configuration.

The CLI, the pytest plugin and the environment variables all produce a
`RunOptions`; nothing else reads flags.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field

PROFILES = ("readonly", "sandbox", "disruptive")
KINDS = ("scenarios", "properties", "posture", "authorization")
ROLE_ENV_PREFIX = "AIRFLOW_CONFORMANCE_AUTH_"  # AIRFLOW_CONFORMANCE_AUTH_<ROLE>: a role identity (as --auth-role ROLE=SPEC)
DEFAULT_REPORT_DIR = "reports/latest"
DEFAULT_MAX_EXAMPLES = 20


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
    workers: int = 1
    seed: int | None = None
    run_id: str = field(default_factory=new_run_id)
    allow_disruptive: bool = False
    keyword: str | None = None

    def __post_init__(self) -> None:
        if self.seed is None:  # random unless given, and always recorded, so any run can be repeated
            self.seed = int.from_bytes(os.urandom(4), "big")

    @classmethod
    def from_env(cls, **overrides) -> RunOptions:
        opts = cls(url=os.environ.get("AIRFLOW_CONFORMANCE_URL"), auth=os.environ.get("AIRFLOW_CONFORMANCE_AUTH"),
                   auth_roles=roles_from_env())
        roles = overrides.pop("auth_roles", None) or {}
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
            "workers": self.workers,
            "seed": self.seed,
            "run_id": self.run_id,
            "report_dir": self.report_dir,
            "keyword": self.keyword,
        }


def roles_from_env() -> dict[str, str]:
    """Role identities from AIRFLOW_CONFORMANCE_AUTH_<ROLE> variables (role names are matched case-insensitively)."""
    return {name[len(ROLE_ENV_PREFIX):].lower(): value for name, value in os.environ.items()
            if name.startswith(ROLE_ENV_PREFIX) and len(name) > len(ROLE_ENV_PREFIX) and value}


def parse_role_assignment(text: str) -> tuple[str, str]:
    """`ROLE=SPEC` -> (role, spec); ValueError with a message that never echoes the spec (it may hold a secret)."""
    role, sep, spec = text.partition("=")
    role = role.strip()
    if not sep or not role or not spec or not role.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"expected ROLE=SPEC (for example Viewer=env:VIEWER_AUTH), got '{role[:40] or '...'}=...'"
                         if sep else "expected ROLE=SPEC (for example Viewer=env:VIEWER_AUTH)")
    return role, spec
