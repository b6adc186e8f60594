"""Who may do what on one Airflow release: the data of `access.yaml`, asked per role and operation.

The authorization tier asks which answer each identity must get; limited-privilege runs
ask which permission the run's own identity lacks for a check, so that check is skipped
with that permission named instead of failing on a refusal the release documents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from conformance.expectations import datafile

DATA_FILE = Path(__file__).with_name("access.yaml")
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Requirement:
    """What one operation's handler checks before it acts."""

    op_id: str
    public: bool
    needs: tuple[str, ...]
    source: str
    group: str


@dataclass(frozen=True)
class Expected:
    """The answer one identity must get from one operation."""

    allowed: bool
    missing: tuple[str, ...] = ()  # the permissions the role lacks (denied), for messages and skips
    why: str = ""


@dataclass
class Access:
    """The role model of one release: roles and what they hold, operations and what they need."""

    release: str
    model: str  # fab (2.x) | simple (3.x SimpleAuthManager)
    roles: dict[str, frozenset[str]]
    roles_source: str
    operations: dict[str, Requirement]
    refusal: dict = field(default_factory=dict)
    anonymous: dict = field(default_factory=dict)
    settings: list[dict] = field(default_factory=list)
    looked_up_first: list[dict] = field(default_factory=list)

    @property
    def role_names(self) -> tuple[str, ...]:
        return tuple(self.roles)

    def role(self, name: str) -> str | None:
        """The release's spelling of a built-in role (`viewer` -> `Viewer` on 2.x), or None."""
        wanted = name.strip().lower()
        return next((r for r in self.roles if r.lower() == wanted), None)

    def missing(self, role: str, op_id: str) -> tuple[str, ...]:
        """The permissions `role` lacks for `op_id` (empty: it may make the operation, or nothing is recorded)."""
        req = self.operations.get(op_id)
        held = self.roles.get(role, frozenset())
        if req is None or req.public or "*" in held:
            return ()
        return tuple(n for n in req.needs if n not in held)

    def expect(self, identity: str, op_id: str) -> Expected | None:
        """What `identity` (a role, or ANONYMOUS) must get from `op_id`; None when the release records nothing."""
        req = self.operations.get(op_id)
        if req is None:
            return None
        if req.public:
            return Expected(True, why="public: the handler checks no credentials")
        if identity == ANONYMOUS:
            return Expected(False, why="protected: a request without credentials is refused (401)")
        lacks = self.missing(identity, op_id)
        if lacks:
            return Expected(False, lacks, f"{identity} lacks {', '.join(lacks)}")
        held = ", ".join(req.needs) or "a valid identity only"
        return Expected(True, why=f"{identity} holds {held}")

    def lookup_first(self, op_id: str) -> dict | None:
        """How this operation finds its object before the permission check (404 for a missing one), if it does."""
        return next((e for e in self.looked_up_first if op_id in e.get("operations", ())), None)

    def setting(self, op_id: str) -> dict | None:
        """The setting that makes this operation answer 403 whoever asks (expose_config, test_connection), if any."""
        return next((s for s in self.settings if op_id in s.get("operations", ())), None)


@lru_cache(maxsize=1)
def _raw() -> dict:
    return datafile.read(DATA_FILE)


def _in(version: Version, entry: dict) -> bool:
    return version in SpecifierSet(str(entry.get("versions", "")), prereleases=True)


def releases() -> list[dict]:
    """Every release entry as written (for tests and reports)."""
    return list(_raw().get("releases") or [])


def load(version: str) -> Access | None:
    """The role model recorded for this Airflow version; None when none of the releases read covers it."""
    v = Version(version)
    entry = next((e for e in releases() if _in(v, e)), None)
    if entry is None:
        return None
    ops = {
        op_id: Requirement(
            op_id, bool(o.get("public")), tuple(o.get("needs") or ()), o.get("source", ""), o.get("group", "")
        )
        for op_id, o in (entry.get("operations") or {}).items()
        if "error" not in o
    }
    roles = {name: frozenset(perms or ()) for name, perms in (entry.get("roles") or {}).items()}
    raw = _raw()

    def pick(key: str) -> dict:
        return next((e for e in raw.get(key) or [] if _in(v, e)), {})

    return Access(
        entry["release"],
        entry["model"],
        roles,
        entry.get("roles_source", ""),
        ops,
        pick("refusal"),
        pick("anonymous"),
        [s for s in raw.get("settings") or [] if _in(v, s)],
        [e for e in raw.get("looked_up_first") or [] if _in(v, e)],
    )
