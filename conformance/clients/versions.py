"""Which official client releases exist, and which ones to check against a server.

The published `apache-airflow-client` releases are kept as data (read from the
package index with `pip index versions apache-airflow-client` on 2026-11-30), so
choosing a client needs no network and a run is repeatable. A release not in
the list can still be named explicitly (`--client 3.3.3`): it is installed if
the index has it.

`auto` is the client minor matching the server: the newest patch of the
server's minor, or of the nearest lower minor that has a client (there is no
2.4 and no 2.11 client). A 2.x server is never given a 3.x client (they speak
different API generations) and vice versa. The matrix also asks for the
neighbouring client minors, the "newer client against an older server" question.
"""

from __future__ import annotations

from packaging.version import InvalidVersion, Version

from conformance.errors import ConfigError

PUBLISHED = (
    "2.0.0",
    "2.1.0",
    "2.2.0",
    "2.3.0",
    "2.5.1",
    "2.6.0",
    "2.6.1",
    "2.6.2",
    "2.7.0",
    "2.7.2",
    "2.7.3",
    "2.8.0",
    "2.9.0",
    "2.9.1",
    "2.10.0",
    "3.0.0",
    "3.0.2",
    "3.1.0",
    "3.1.3",
    "3.1.6",
    "3.1.8",
    "3.2.0",
    "3.2.1",
    "3.2.2",
    "3.3.0",
    "3.3.1",
    "3.3.2",
)
AUTO, NONE = "auto", "none"
ENV_VAR = "AIRFLOW_CONFORMANCE_CLIENT"


def _minor(v: Version) -> tuple[int, int]:
    return (v.major, v.minor)


def newest_per_minor(major: int) -> list[str]:
    """The newest published patch of every client minor of one major, oldest minor first."""
    best: dict[tuple[int, int], Version] = {}
    for raw in PUBLISHED:
        v = Version(raw)
        if v.major == major and v > best.get(_minor(v), Version("0")):
            best[_minor(v)] = v
    return [str(best[k]) for k in sorted(best)]


def matching(server_version: str) -> str | None:
    """The client for a server: its own minor's newest patch, else the nearest lower minor's (None: no client)."""
    server = Version(server_version)
    lower = [c for c in newest_per_minor(server.major) if _minor(Version(c)) <= _minor(server)]
    return lower[-1] if lower else None


def neighbours(server_version: str) -> list[str]:
    """The matching client and the client minors just before and after it (same major), oldest first."""
    match = matching(server_version)
    if match is None:
        return []
    minors = newest_per_minor(Version(server_version).major)
    i = minors.index(match)
    return minors[max(0, i - 1) : i + 2]


def parse(spec: str | None) -> tuple[str, ...]:
    """`--client` as given: ("auto",), () for none, or the named releases; ConfigError on anything else."""
    text = (spec or AUTO).strip()
    if text.lower() == NONE:
        return ()
    if text.lower() == AUTO:
        return (AUTO,)
    out = []
    for part in (p.strip() for p in text.split(",")):
        try:
            out.append(str(Version(part)))
        except InvalidVersion:
            raise ConfigError(
                f"--client {text!r}: {part!r} is not a client version; give auto, none, or versions "
                f"such as 3.3.2,3.2.2 (published: {PUBLISHED[0]} ... {PUBLISHED[-1]})"
            ) from None
    return tuple(dict.fromkeys(out))


def resolve(spec: str | None, server_version: str) -> tuple[list[str], str]:
    """(client releases to check against this server, why none when empty).

    A named release of the other API generation is refused (ConfigError): its models describe another API.
    """
    wanted = parse(spec)
    if not wanted:
        return [], "the client check is off (--client none)"
    major = Version(server_version).major
    if wanted == (AUTO,):
        match = matching(server_version)
        return ([match], "") if match else ([], f"no official client release serves Airflow {server_version}")
    other = [v for v in wanted if Version(v).major != major]
    if other:
        raise ConfigError(
            f"--client {','.join(other)}: a {Version(other[0]).major}.x client cannot read the API of "
            f"Airflow {server_version} (API v{1 if major == 2 else 2}); use {major}.x clients"
        )
    return list(wanted), ""
