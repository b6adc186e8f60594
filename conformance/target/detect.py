"""Find out which Airflow (and which API generation) answers at a URL.

Airflow 3 serves `/api/v2/version` and answers `/api/v1/*` with a 404 saying
the API "has been removed in Airflow 3"; Airflow 2 serves `/api/v1/version`.
Both version endpoints need no credentials, so detection never needs auth.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

import requests

from conformance.errors import ConfigError

_API_SUFFIXES = ("/api/v1", "/api/v2", "/api")


def normalize_url(url: str) -> str:
    """Root URL of the deployment: scheme://host[:port][/prefix], without /api/vN or a trailing slash.

    Every defect of the URL (no scheme, a bad port, an unclosed IPv6 bracket) is a ConfigError here, before
    any request: urllib raises ValueError for some of them only when the port is read, which would otherwise
    surface later as an internal error.
    """
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - reading it is what validates it (range, digits)
    except ValueError as exc:
        raise ConfigError(
            f"target URL '{shown_url(text)}' is not a valid URL ({exc}); example: http://localhost:8080"
        ) from None
    if "://" not in text or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"target URL '{shown_url(text)}' is not an http(s) URL (example: http://localhost:8080)")
    if "@" in parts.netloc:  # requests would send them, and the URL goes into every report and log line
        raise ConfigError(
            f"target URL '{shown_url(text)}' carries credentials; give them with --auth "
            "(e.g. basic:USER:PASS or env:VAR), never in the URL, which every report records"
        )
    path = parts.path.rstrip("/")
    for suffix in _API_SUFFIXES:
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    return urlunsplit((parts.scheme, parts.netloc, path, "", "")).rstrip("/")


def shown_url(url: str) -> str:
    """The URL as an error message may show it: credentials written into it (`user:pass@`) become `***@`."""
    return re.sub(r"(?<=://)[^/@]*@", "***@", url)


def _version_of(resp: requests.Response) -> str | None:
    if resp.status_code != 200:
        return None
    try:
        data = resp.json()
    except ValueError:
        return None
    version = data.get("version") if isinstance(data, dict) else None
    return version if isinstance(version, str) else None


def tls_problem(root_url: str, exc: requests.exceptions.SSLError) -> ConfigError:
    """One line for a TLS failure: what the certificate check said, and the two ways out."""
    found = re.search(r"certificate verify failed: ([^()'\"]+)", str(exc))
    reason = found.group(1).strip() if found else "the TLS handshake failed"
    return ConfigError(
        f"cannot reach {root_url}: TLS verification failed ({reason}); pass --cacert FILE with the CA "
        "that signed its certificate, or --no-tls-verify"
    )


def _get(session: requests.Session, url: str, root_url: str) -> requests.Response:
    timeout = float(getattr(session, "timeout", 15) or 15)
    try:
        return session.get(url, timeout=timeout)
    except requests.exceptions.SSLError as exc:
        raise tls_problem(root_url, exc) from exc
    except requests.ConnectionError as exc:
        raise ConfigError(
            f"cannot reach {root_url}: connection failed; check the URL and that the API server is running"
        ) from exc
    except requests.Timeout as exc:
        raise ConfigError(f"cannot reach {root_url}: no answer within {timeout:g} s (--request-timeout)") from exc
    except requests.RequestException as exc:
        raise ConfigError(f"cannot reach {url}: {type(exc).__name__}") from exc


def detect(session: requests.Session, root_url: str) -> tuple[str, str]:
    """(airflow_version, api) for the server at root_url; ConfigError when it is not an Airflow API."""
    v2 = _get(session, f"{root_url}/api/v2/version", root_url)
    version = _version_of(v2)
    if version:
        return version, "v2"
    v1 = _get(session, f"{root_url}/api/v1/version", root_url)
    version = _version_of(v1)
    if version:
        return version, "v1"
    if v1.status_code == 404 and "removed in Airflow 3" in v1.text:
        raise ConfigError(
            f"{root_url} is an Airflow 3 deployment but /api/v2/version did not answer 200 (got {v2.status_code})"
        )
    raise ConfigError(
        f"{root_url} does not look like an Airflow API server: /api/v2/version answered {v2.status_code}, "
        f"/api/v1/version answered {v1.status_code}"
    )
