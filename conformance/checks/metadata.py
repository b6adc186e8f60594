"""Metadata carried by every scenario and posture check.

Like Kubernetes conformance tests, each check declares a stable id, a title,
one MUST sentence, the operations it touches, the Airflow versions it
applies to and its safety tier. `airflow-conformance list`, the checks table of docs/checks.md
and the plugin's skip decisions all read this one registry.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from conformance.options import PROFILES

NEEDS = ("probe_dags", "auth_default", "scheduler")


@dataclass(frozen=True)
class Meta:
    id: str
    title: str
    must: str
    kind: str = "scenario"  # scenario | posture
    operations: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None  # exclusive
    tier: str = "readonly"
    needs: tuple[str, ...] = ()
    exposure: bool = False  # posture only: a finding is a security exposure and fails the run
    module: str = field(default="", compare=False)
    # operations the check makes only when the run's identity may (it leaves the others out, never fails on them)
    optional: tuple[str, ...] = ()
    # the check's requests carry no credentials of the run (anonymous, wrong, forged): its identity's role is irrelevant
    anonymous: bool = False

    def privileged_operations(self) -> tuple[str, ...]:
        """The operations the run's own identity must be allowed to make for this check to be decided."""
        return () if self.anonymous else tuple(op for op in self.operations if op not in self.optional)

    @property
    def result_id(self) -> str:
        return f"{self.kind}.{self.id}"

    def applies_to(self, version: Version) -> bool:
        spec = ""
        if self.since:
            spec += f">={self.since}"
        if self.until:
            spec += ("," if spec else "") + f"<{self.until}"
        return version in SpecifierSet(spec, prereleases=True)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["operations"] = list(self.operations)
        data["needs"] = list(self.needs)
        data["optional"] = list(self.optional)
        data["result_id"] = self.result_id
        return data


def check(
    id: str,
    title: str,
    must: str,
    *,
    kind: str = "scenario",
    operations: tuple[str, ...] | list[str] = (),
    since: str | None = None,
    until: str | None = None,
    tier: str = "readonly",
    needs: tuple[str, ...] | list[str] = (),
    exposure: bool = False,
    optional: tuple[str, ...] | list[str] = (),
    anonymous: bool = False,
):
    """Register a test function as a conformance check and mark it for the plugin."""
    if tier not in PROFILES:
        raise ValueError(f"{id}: unknown tier {tier}")
    unknown = set(needs) - set(NEEDS)
    if unknown:
        raise ValueError(f"{id}: unknown needs {unknown}")

    def decorate(fn):
        meta = Meta(
            id,
            title,
            must,
            kind,
            tuple(operations),
            since,
            until,
            tier,
            tuple(needs),
            exposure,
            fn.__module__,
            tuple(optional),
            anonymous,
        )
        return pytest.mark.conformance(meta)(fn)

    return decorate


def scenario(id: str, title: str, must: str, **kwargs):
    """A behaviour the API documents."""
    return check(id, title, must, kind="scenario", **kwargs)


def posture(id: str, title: str, must: str, **kwargs):
    """How the deployment is set up where that matters for security."""
    return check(id, title, must, kind="posture", **kwargs)
