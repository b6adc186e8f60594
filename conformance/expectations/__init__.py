"""Per-version expectations and known upstream deviations, read from one data file.

Tests never branch on the Airflow version: they ask `Expectations` what the
version under test must answer, and ask it whether an observed failure is a
recorded upstream defect (with its reference) for that version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from conformance.expectations import datafile
from conformance.expectations.deviations import Deviation, Observation, parse_all
from conformance.expectations.page_limits import PageLimits

DATA_FILE = Path(__file__).with_name("expectations.yaml")


@dataclass
class Expectations:
    """What one Airflow version must answer, and how it is known to deviate."""

    version: Version
    scenarios: dict = field(default_factory=dict)
    deviations: list[Deviation] = field(default_factory=list)
    backend: str = ""  # metadata database of the target when known (local targets), else ""

    def for_scenario(self, scenario_id: str) -> dict:
        """The merged expectation entries whose range includes this version (later entries win)."""
        merged: dict = {}
        for entry in self.scenarios.get(scenario_id, []):
            if self.version in SpecifierSet(entry.get("versions", ""), prereleases=True):
                merged.update({k: v for k, v in entry.items() if k != "versions"})
        return merged

    def dialect(self) -> dict:
        """How this version's API spells things (field names, paths): data, so tests need no version branches."""
        return self._section("dialect")

    def logical_date_field(self) -> str:
        """What this version's API calls a run's logical date (`execution_date` on 2.x, `logical_date` on 3.x).

        It also tells the scheduler's rule apart: a 2.x run has no `run_after` and is examined once its
        execution date has passed.
        """
        return str(self.dialect().get("logical_date_field", "execution_date"))

    def default_page_limits(self) -> PageLimits:
        """Airflow's documented page limits for this version (what a target is judged by when nothing says otherwise)."""
        data = self._section("page_limits")
        return PageLimits(int(data["maximum"]), int(data["fallback"]), f"Airflow {self.version}'s documented defaults")

    def _section(self, name: str) -> dict:
        """The merged entries of a top-level, version-keyed section whose range includes this version."""
        merged: dict = {}
        for entry in _raw().get(name, []):
            if self.version in SpecifierSet(entry.get("versions", ""), prereleases=True):
                merged.update({k: v for k, v in entry.items() if k != "versions"})
        return merged

    def known(self, obs: Observation) -> Deviation | None:
        """The deviation that explains this failure on this version, if any."""
        for dev in self.deviations:
            if dev.covers(obs):
                return dev
        return None

    def expected_for(self, result_id: str) -> list[Deviation]:
        """Deviations recorded for a result on this version (to notice when they stop occurring)."""
        return [d for d in self.deviations if d.excuses_result(result_id)]


@lru_cache(maxsize=1)
def _raw() -> dict:
    return datafile.read(DATA_FILE)


def raw_deviations() -> list:
    """The deviation entries as written in the data file (for lint and reports)."""
    return list(_raw().get("deviations") or [])


def all_deviations() -> list[Deviation]:
    """Every recorded deviation, for docs, verification and checking the data itself."""
    return parse_all(raw_deviations())


def load(version: str, backend: str = "") -> Expectations:
    """Expectations for one Airflow version (and, when known, its metadata database)."""
    v = Version(version)
    devs = [d for d in all_deviations() if d.applies_to(v, backend)]
    return Expectations(v, dict(_raw().get("scenarios") or {}), devs, backend)
