"""Find out which Airflow (and which API generation) answers at a URL.

Airflow 3 serves `/api/v2/version` and answers `/api/v1/*` with a 404 saying
the API "has been removed in Airflow 3"; Airflow 2 serves `/api/v1/version`.
Both version endpoints need no credentials, so detection never needs auth.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import requests

from conformance.errors import ConfigError

_API_SUFFIXES = ("/api/v1", "/api/v2", "/api")


def normalize_url(url: str) -> str:
    """Root URL of the deployment: scheme://host[:port][/prefix], without /api/vN or a trailing slash."""
    if not url or "://" not in url:
        raise ConfigError(f"target URL '{url}' is not an http(s) URL (example: http://localhost:8080)")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"target URL '{url}' is not an http(s) URL (example: http://localhost:8080)")
    path = parts.path.rstrip("/")
    for suffix in _API_SUFFIXES:
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    return urlunsplit((parts.scheme, parts.netloc, path, "", "")).rstrip("/")


def _version_of(resp: requests.Response) -> str | None:
    if resp.status_code != 200:
        return None
    try:
        data = resp.json()
    except ValueError:
        return None
    version = data.get("version") if isinstance(data, dict) else None
    return version if isinstance(version, str) else None


def detect(session: requests.Session, root_url: str) -> tuple[str, str]:
    """(airflow_version, api) for the server at root_url; ConfigError when it is not an Airflow API."""
    try:
        v2 = session.get(f"{root_url}/api/v2/version", timeout=15)
    except requests.ConnectionError as exc:
        raise ConfigError(f"cannot reach {root_url}: connection failed; check the URL and that the API server is running") from exc
    except requests.Timeout as exc:
        raise ConfigError(f"cannot reach {root_url}: no answer within 15 s") from exc
    version = _version_of(v2)
    if version:
        return version, "v2"
    try:
        v1 = session.get(f"{root_url}/api/v1/version", timeout=15)
    except requests.RequestException as exc:
        raise ConfigError(f"cannot reach {root_url}/api/v1/version: {type(exc).__name__}") from exc
    version = _version_of(v1)
    if version:
        return version, "v1"
    if v1.status_code == 404 and "removed in Airflow 3" in v1.text:
        raise ConfigError(f"{root_url} is an Airflow 3 deployment but /api/v2/version did not answer 200 (got {v2.status_code})")
    raise ConfigError(
        f"{root_url} does not look like an Airflow API server: /api/v2/version answered {v2.status_code}, "
        f"/api/v1/version answered {v1.status_code}"
    )
