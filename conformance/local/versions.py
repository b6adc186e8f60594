"""Which Airflow releases the suite can run locally, and how each one differs.

Every supported release is the latest patch of its minor. The differences
between releases (Python minor, `db init` vs `db migrate`, whether DAGs must be
reserialized after migrating, which processes make up a running instance, the
dependency pins it needs) are kept here as data, not as `if` branches spread
over the starter, so adding a release means adding one row.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from packaging.version import InvalidVersion, Version

from conformance.errors import ConfigError

#: The embedded default: the newest release the suite provisions itself.
NEWEST = "3.3.2"

CONSTRAINTS_DIR = Path(__file__).resolve().parent / "constraints"

_V2_COMPONENTS = ("webserver", "scheduler")
_V3_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")

# One row per minor: version -> settings. Pins are what the release's own
# constraints would have given (see shared airflow-facts); make_constraints
# checks the observed freeze against them.
_PINS_23 = {"pendulum": "<3", "flask-session": "<0.6", "connexion": "<3"}
_PINS_24 = {**_PINS_23, "wtforms": "<3.1"}

TABLE: dict[str, dict] = {
    "2.0.2": {"python": "3.8", "db": "init", "reserialize": False, "pins": {}},
    "2.1.4": {"python": "3.9", "db": "init", "reserialize": False, "pins": {"numpy": "<2"}},
    "2.2.5": {"python": "3.9", "db": "init", "reserialize": False, "pins": {}},
    "2.3.4": {"python": "3.10", "db": "init", "reserialize": True, "pins": _PINS_23},
    "2.4.3": {"python": "3.10", "db": "init", "reserialize": True, "pins": _PINS_24},
    "2.5.3": {"python": "3.10", "db": "init", "reserialize": True, "pins": _PINS_24},
    "2.6.3": {"python": "3.11", "db": "init", "reserialize": True, "pins": _PINS_24},
    "2.7.3": {"python": "3.11", "db": "migrate", "reserialize": True, "pins": {"flask-session": "<0.6"}},
    "2.8.4": {"python": "3.11", "db": "migrate", "reserialize": True, "pins": {"wtforms": "<3.1"}},
    "2.9.3": {"python": "3.11", "db": "migrate", "reserialize": True, "pins": {}},
    "2.10.5": {"python": "3.11", "db": "migrate", "reserialize": True, "pins": {}},
    # FAB provider >= 1.5.4 makes anonymous requests 403: webserver_config.py fixes it.
    "2.11.2": {"python": "3.11", "db": "migrate", "reserialize": True, "pins": {}, "auth_role_public_none": True},
    # cadwyn 9 / fastapi 0.163 (the observed freeze) serve the API but the execution API
    # answers 422 to the task runner, so every task fails: use 3.1.8's working trio.
    "3.0.6": {
        "python": "3.12",
        "db": "migrate",
        "reserialize": False,
        "pins": {"pyjwt": "<2.11", "starlette": "<0.49", "fastapi": "<0.118", "cadwyn": "<6"},
    },
    "3.1.8": {"python": "3.12", "db": "migrate", "reserialize": False, "pins": {}},
    "3.2.2": {"python": "3.12", "db": "migrate", "reserialize": False, "pins": {"fastapi": "<0.156.1"}},
    # 3.3.2 runs on 3.11 too, but its observed freeze pins deprecated==3.0.1 (Python >= 3.12)
    "3.3.2": {"python": "3.12", "db": "migrate", "reserialize": False, "pins": {}},
}


@dataclass(frozen=True)
class VersionSpec:
    """How to install and start one Airflow release."""

    version: str
    python: str
    db_command: str  # "init" or "migrate"
    reserialize: bool
    pins: dict[str, str]
    auth_role_public_none: bool = False

    @property
    def major(self) -> int:
        return Version(self.version).major

    @property
    def version_tuple(self) -> tuple[int, int]:
        """(major, minor), e.g. (2, 3): where settings moved between sections."""
        v = Version(self.version)
        return (v.major, v.minor)

    @property
    def api(self) -> str:
        """API generation served: /api/v1 on 2.x, /api/v2 on 3.x."""
        return "v1" if self.major == 2 else "v2"

    @property
    def components(self) -> tuple[str, ...]:
        """The `airflow` sub-commands that run as long-lived processes."""
        return _V2_COMPONENTS if self.major == 2 else _V3_COMPONENTS

    @property
    def requirements(self) -> tuple[str, ...]:
        """What to install; 2.x also gets setuptools (pkg_resources), pinned by the constraints."""
        return self.requirements_with(())

    def requirements_with(self, extras: tuple[str, ...]) -> tuple[str, ...]:
        """What to install with Airflow's `extras` (e.g. ("postgres",): psycopg2 and the provider)."""
        airflow = f"apache-airflow[{','.join(extras)}]=={self.version}" if extras else f"apache-airflow=={self.version}"
        return (airflow, "setuptools") if self.major == 2 else (airflow,)

    @property
    def constraints_file(self) -> Path:
        return CONSTRAINTS_DIR / f"{self.version}.txt"


def _spec(version: str, row: dict) -> VersionSpec:
    return VersionSpec(
        version=version,
        python=row["python"],
        db_command=row["db"],
        reserialize=row["reserialize"],
        pins=dict(row["pins"]),
        auth_role_public_none=row.get("auth_role_public_none", False),
    )


def supported() -> list[str]:
    """Supported releases, oldest first."""
    return sorted(TABLE, key=Version)


def _minor(v: Version) -> tuple[int, int]:
    return (v.major, v.minor)


def resolve(version: str) -> VersionSpec:
    """Return how to run `version`, or raise ConfigError naming the supported releases.

    A patch release that is not in the table is accepted when its minor is
    known and a pinned constraints file was generated for it: without pins an
    old release resolves against today's dependencies and breaks.
    """
    listing = ", ".join(supported())
    try:
        parsed = Version(version)
    except InvalidVersion:
        raise ConfigError(f"'{version}' is not an Airflow version; supported: {listing}") from None
    key = str(parsed)
    if key in TABLE:
        return _spec(key, TABLE[key])
    for known, row in TABLE.items():
        if _minor(Version(known)) == _minor(parsed):
            candidate = replace(_spec(key, row), version=key)
            if candidate.constraints_file.is_file():
                return candidate
            raise ConfigError(
                f"Airflow {key} has no pinned constraints file "
                f"(conformance/local/constraints/{key}.txt); use {known} or generate one with "
                f"python -m conformance.local.make_constraints FREEZE {key}"
            )
    raise ConfigError(f"Airflow {key} is not supported; supported: {listing}")


def resolve_for_constraints(version: str) -> VersionSpec:
    """Like resolve(), but for generating pins: a new patch of a known minor needs no file yet."""
    try:
        parsed = Version(version)
    except InvalidVersion:
        raise ConfigError(f"'{version}' is not an Airflow version") from None
    for known, row in TABLE.items():
        if _minor(Version(known)) == _minor(parsed):
            return _spec(str(parsed), row)
    raise ConfigError(f"Airflow {version} is not supported; supported: {', '.join(supported())}")
