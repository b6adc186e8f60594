"""LocalTarget: what the suite knows about an Airflow instance it started itself."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

DATABASES = ("sqlite", "postgres")
DATABASE_LABELS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def target_key(version: str, database: str = "sqlite") -> str:
    """ "2.10.5" for the SQLite target of a release, "2.10.5-postgres" for its PostgreSQL one."""
    return version if database == "sqlite" else f"{version}-{database}"


@dataclass
class LocalTarget:
    """A running local Airflow: where it answers, how to authenticate, which processes are its.

    `auth` holds the real password; print `redacted_auth_spec`, never `auth_spec`.
    """

    version: str
    url: str  # http://127.0.0.1:PORT, no trailing slash, no /api path
    api: str  # "v1" (Airflow 2.x) or "v2" (Airflow 3.x)
    auth: dict[str, str]  # {"kind": "basic"|"jwt", "user": ..., "password": ...}
    # one user per built-in role, for the authorization checks: role -> {"kind", "user", "password"}
    roles: dict[str, dict[str, str]] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)  # component -> pid
    pgids: dict[str, int] = field(default_factory=dict)  # component -> process group id
    starttimes: dict[str, int] = field(
        default_factory=dict
    )  # component -> creation time, ms since the epoch (PID reuse guard)
    home: str = ""
    venv: str = ""
    auth_config: str = "conformance"
    page_limits: dict[str, int] = field(default_factory=dict)  # [api] {"maximum", "fallback"} it was started with
    started_at: str = ""
    ready: bool = False
    database: str = "sqlite"  # metadata database kind: "sqlite" or "postgres"
    db_server: dict[str, Any] = field(default_factory=dict)  # the PostgreSQL server: pid, starttime, port, data
    settings: dict[str, str] = field(default_factory=dict)  # Airflow options it was started with over its home's

    @property
    def key(self) -> str:
        """Name of the target in the state file: the release, plus the database when it is not SQLite."""
        return target_key(self.version, self.database)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def api_root(self) -> str:
        """Base of the REST API, e.g. http://127.0.0.1:28090/api/v1."""
        return f"{self.url}/api/{self.api}"

    @property
    def auth_spec(self) -> str:
        """The --auth spec for this target, e.g. "basic:admin:PASSWORD" (contains the secret)."""
        return f"{self.auth['kind']}:{self.auth['user']}:{self.auth['password']}"

    def role_specs(self) -> dict[str, str]:
        """--auth-role specs of the role users `up` created (they contain the secrets)."""
        return {role: f"{a['kind']}:{a['user']}:{a['password']}" for role, a in self.roles.items()}

    @property
    def redacted_auth_spec(self) -> str:
        """The auth spec safe to print or log: "basic:admin:***"."""
        return f"{self.auth['kind']}:{self.auth['user']}:***"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LocalTarget:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def __repr__(self) -> str:  # keep the password out of reprs and tracebacks
        return (
            f"LocalTarget(version={self.version!r}, url={self.url!r}, api={self.api!r}, "
            f"auth={self.redacted_auth_spec!r}, database={self.database!r}, ready={self.ready!r})"
        )
