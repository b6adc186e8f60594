"""Per-version expectations and known upstream deviations, read from one data file.

Tests never branch on the Airflow version: they ask `Expectations` what the
version under test must answer, and ask it whether an observed failure is a
recorded upstream defect (with its reference) for that version.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

DATA_FILE = Path(__file__).with_name("expectations.yaml")


@dataclass(frozen=True)
class Deviation:
    """A known way a clean official Airflow release breaks its own contract."""

    id: str
    versions: str
    results: tuple[str, ...]
    match: dict
    upstream: str
    summary: str
    # occurs only when timing goes wrong (e.g. SQLite write contention): its absence is not news,
    # and two runs with the same seed may differ in it
    intermittent: bool = False

    def applies_to(self, version: Version) -> bool:
        return version in SpecifierSet(self.versions, prereleases=True)

    def covers(self, result_id: str, observed: dict) -> bool:
        """True when a failure (its result id and observed facts) is this deviation."""
        if not any(fnmatch.fnmatchcase(result_id, pattern) for pattern in self.results):
            return False
        for key, want in self.match.items():
            got = observed.get(key)
            if key == "message":
                if not isinstance(got, str) or str(want) not in got:
                    return False
            elif isinstance(want, list):
                if got not in want:
                    return False
            elif got != want:
                return False
        return True

    def describe(self) -> str:
        return f"known upstream deviation {self.id} ({self.upstream}): {self.summary}"


@dataclass
class Expectations:
    """What one Airflow version must answer, and how it is known to deviate."""

    version: Version
    scenarios: dict = field(default_factory=dict)
    deviations: list[Deviation] = field(default_factory=list)

    def for_scenario(self, scenario_id: str) -> dict:
        """The merged expectation entries whose range includes this version (later entries win)."""
        merged: dict = {}
        for entry in self.scenarios.get(scenario_id, []):
            if self.version in SpecifierSet(entry.get("versions", ""), prereleases=True):
                merged.update({k: v for k, v in entry.items() if k != "versions"})
        return merged

    def dialect(self) -> dict:
        """How this version's API spells things (field names, paths): data, so tests need no version branches."""
        merged: dict = {}
        for entry in _raw().get("dialect", []):
            if self.version in SpecifierSet(entry.get("versions", ""), prereleases=True):
                merged.update({k: v for k, v in entry.items() if k != "versions"})
        return merged

    def known(self, result_id: str, observed: dict) -> Deviation | None:
        """The deviation that explains this failure on this version, if any."""
        for dev in self.deviations:
            if dev.covers(result_id, observed):
                return dev
        return None

    def expected_for(self, result_id: str) -> list[Deviation]:
        """Deviations this version is recorded to show for a result (to notice when they are fixed)."""
        return [d for d in self.deviations if any(fnmatch.fnmatchcase(result_id, p) for p in d.results)]


@lru_cache(maxsize=1)
def _raw() -> dict:
    return yaml.safe_load(DATA_FILE.read_text(encoding="utf-8")) or {}


def all_deviations() -> list[Deviation]:
    """Every recorded deviation, for docs and for checking the data itself."""
    out = []
    for item in _raw().get("deviations", []):
        results = item["results"] if isinstance(item["results"], list) else [item["results"]]
        out.append(Deviation(item["id"], item["versions"], tuple(results), dict(item.get("match") or {}),
                             item["upstream"], item["summary"], bool(item.get("intermittent", False))))
    return out


def load(version: str) -> Expectations:
    """Expectations for one Airflow version."""
    v = Version(version)
    devs = [d for d in all_deviations() if d.applies_to(v)]
    return Expectations(v, dict(_raw().get("scenarios") or {}), devs)
