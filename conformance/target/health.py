"""What a target's own health endpoint says about the components that run DAGs.

A run waits on the scheduler (probe runs), and `status` promises that a local
target it calls ready can run them. Both read the same answer: 2.x serves it at
`/api/v1/health`, 3.x at `/api/v2/monitor/health`, neither needs credentials.
A component is judged only on the status the endpoint gives; a component the
release does not report, or reports with no status (a triggerer that never
started), is not called unhealthy: only the target knows which ones it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import requests

from conformance.errors import RequestRefused

HEALTH_PATH = {"v1": "/health", "v2": "/monitor/health"}  # relative to the API base, per generation
COMPONENTS = ("metadatabase", "scheduler", "dag_processor", "triggerer")


class Status(str, Enum):
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    UNKNOWN = "unknown"  # not reported, no status, or the endpoint did not answer readably


@dataclass(frozen=True)
class Component:
    name: str
    status: Status
    heartbeat: str = ""  # the latest heartbeat the target reports, as it reports it

    def describe(self) -> str:
        beat = f", last heartbeat {self.heartbeat}" if self.heartbeat else ""
        return f"{self.name.replace('_', ' ')}: {self.status.value}{beat}"


@dataclass(frozen=True)
class Health:
    components: tuple[Component, ...]
    problem: str = ""  # why no answer could be read ("" when one was)

    def of(self, name: str) -> Component:
        return next((c for c in self.components if c.name == name), Component(name, Status.UNKNOWN))

    @property
    def unhealthy(self) -> list[Component]:
        return [c for c in self.components if c.status is Status.UNHEALTHY]

    def describe_unhealthy(self) -> str:
        return "; ".join(c.describe() for c in self.unhealthy)


def parse(body: object) -> Health:
    """The components of a health answer; a body of another shape reads as nothing known."""
    if not isinstance(body, dict):
        return Health((), problem="the health endpoint did not answer a JSON object")
    found = []
    for name in COMPONENTS:
        part = body.get(name)
        if not isinstance(part, dict):
            continue
        raw = part.get("status")
        status = Status(raw) if raw in (Status.HEALTHY.value, Status.UNHEALTHY.value) else Status.UNKNOWN
        beat = next((str(v) for k, v in part.items() if k.startswith("latest_") and v), "")
        found.append(Component(name, status, beat))
    return Health(tuple(found))


def read(session: requests.Session, url: str, timeout: float = 10.0) -> Health:
    """GET the health endpoint at `url`; a failure to read is a `problem`, never an exception."""
    try:
        resp = session.get(url, timeout=timeout)
    except (requests.RequestException, RequestRefused) as exc:
        return Health((), problem=f"GET {url} failed ({type(exc).__name__})")
    if resp.status_code != 200:
        return Health((), problem=f"GET {url} answered {resp.status_code}")
    try:
        return parse(resp.json())
    except ValueError:
        return Health((), problem=f"GET {url} answered no JSON")


def url_of(root_url: str, api: str) -> str:
    """The health endpoint of a target by its root URL and API generation (`v1` / `v2`)."""
    return f"{root_url.rstrip('/')}/api/{api}{HEALTH_PATH[api]}"
