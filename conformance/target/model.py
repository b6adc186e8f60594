"""What the suite knows about the deployment under test."""

from __future__ import annotations

from dataclasses import dataclass

from packaging.version import Version

from conformance.target.auth import AuthSpec


@dataclass(frozen=True)
class Target:
    """A detected Airflow API server."""

    url: str  # root URL, no trailing slash, no /api/vN
    airflow_version: str
    api: str  # "v1" (Airflow 2.x) or "v2" (Airflow 3.x)
    auth: AuthSpec
    local: bool = False  # started by this suite (`up` / `--local`)
    auth_config: str = "conformance"  # local targets: "default" keeps Airflow's own auth settings

    @property
    def api_base(self) -> str:
        return f"/api/{self.api}"

    @property
    def version(self) -> Version:
        return Version(self.airflow_version)

    def describe(self) -> dict:
        """The `target` block of results.json (no secrets)."""
        return {"url": self.url, "airflow_version": self.airflow_version, "api": self.api, "auth": self.auth.kind}
