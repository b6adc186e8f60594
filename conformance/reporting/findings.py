"""Findings as a reader wants them: grouped by what broke, counted, the affected operations folded underneath.

A property run can fail one check on twenty operations, and a release carries
thirty known deviations spread over seventy results; listed one row per result
that is a wall of text. Here failures are grouped by the check that failed and
deviations by their recorded id, each with how often and where, and every
member keeps what is needed to act on it: its message, its curl reproduction
and a one-line command that re-runs just that check.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from dataclasses import dataclass, field

from conformance.model.classes import gate_text as _gate_text
from conformance.model.classes import ordered
from conformance.model.status import Status
from conformance.reporting.charts import status_label

_REFERENCE = re.compile(r"([\w.-]+)/([\w.-]+)#(\d+)")
BAD = ("failed", "error")


def upstream_links(reference: str) -> list[dict]:
    """`apache/airflow#15150, unreported` -> [{text, url}, {text, url: ""}] (links to the GitHub thread)."""
    links = []
    for part in (p.strip() for p in (reference or "").split(",")):
        if not part:
            continue
        m = _REFERENCE.fullmatch(part)
        links.append({"text": part, "url": f"https://github.com/{m[1]}/{m[2]}/issues/{m[3]}" if m else ""})
    return links


def keyword_for(result_id: str) -> str:
    """The `-k` expression that selects exactly one check: its id in brackets (the run adds it as a keyword).

    `-k` matches substrings, so a bare `property.get_pool` would also select `property.get_pools`.
    """
    return f"[{result_id}]"


def rerun_command(data: dict, result_id: str) -> str:
    """A one-line command that runs this check again, the same way (credentials from the environment)."""
    args = [
        "airflow-conformance",
        "run",
        "--target",
        str(data.get("target", {}).get("url", "URL")),
        "--seed",
        str(data.get("seed")),
    ]
    if data.get("profile") not in (None, "sandbox"):
        args += ["--profile", str(data["profile"])]
    if not result_id.startswith("client."):  # exactly that check: the official clients' reading would add results
        args += ["--client", "none"]
    args += ["-k", keyword_for(result_id)]
    return " ".join(shlex.quote(a) for a in args)


@dataclass
class Group:
    """One failing check or one known deviation, and the results it concerns."""

    key: str
    title: str
    detail: str = ""  # the check's MUST, or what the deviation is
    status: str = "failed"
    upstream: list[dict] = field(default_factory=list)
    occurrences: int = 0  # how many answers it concerned (deviations), or how many results (checks)
    operations: set[str] = field(default_factory=set)
    members: list[dict] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)  # failure classes among the members (in the enum's order)

    @property
    def statuses(self) -> str:
        """Every status among the members (what the status toggles filter on)."""
        return " ".join(sorted({m["status"] for m in self.members} | {self.status}))


def _member(data: dict, result: dict, operations) -> dict:
    return {
        "id": result["id"],
        "status": result["status"],
        "status_label": status_label(result["status"]),
        "title": result.get("title", ""),
        "message": result.get("message", ""),
        "operations": sorted(operations or result.get("operation_ids") or []),
        "reproduce": result.get("reproduce", ""),
        "rerun": rerun_command(data, result["id"]),
        "classes": list(result.get("classes") or []),
    }


def class_counts(data: dict, status: str = "failed") -> dict[str, int]:
    """How many results of `status` carry each failure class (from results.json; counted anew for older files)."""
    recorded = (data.get("classes") or {}).get(status)
    if recorded is not None:
        return dict(recorded)
    tally = Counter(c for r in data.get("results", []) if r["status"] == status for c in r.get("classes") or [])
    return {c: tally[c] for c in ordered(tally)}


def gate_text(data: dict, label: str = "gated: ") -> str:
    """`gated: all classes` / `gated: server_error; 3 failed results outside the gate` ("" before results carried a gate)."""
    gate = data.get("gate")
    return _gate_text(gate.get("fail_on") or [], int(gate.get("failed_outside") or 0), label) if gate else ""


def failure_groups(data: dict) -> list[Group]:
    """Failed and errored results grouped by the check that failed (a scenario is its own check)."""
    groups: dict[str, Group] = {}
    for r in data.get("results", []):
        if r["status"] not in BAD:
            continue
        bad_checks = [c for c in r.get("checks") or [] if c.get("status") in BAD]
        for check in bad_checks or [None]:
            key = check["name"] if check else r["id"]
            group = groups.setdefault(
                key,
                Group(
                    key,
                    key if check else r.get("title", key),
                    detail=(check or {}).get("must") or r.get("must", ""),
                    status=r["status"],
                ),
            )
            if r["status"] == "failed":
                group.status = "failed"
            group.occurrences += 1
            group.operations.update(r.get("operation_ids") or [])
            member = _member(data, r, r.get("operation_ids"))
            if check is not None:  # the check's own classes, not the whole result's
                member["classes"] = list(check.get("classes") or [])
            group.members.append(member)
            group.classes = ordered({*group.classes, *member["classes"]})
    return sorted(groups.values(), key=lambda g: (-g.occurrences, g.key))


def _deviation_summary(dev: dict) -> str:
    """What a deviation is: from results.json, or (results written before it carried it) from the data file."""
    if dev.get("summary"):
        return dev["summary"]
    from conformance.expectations import all_deviations  # noqa: PLC0415

    return next((d.summary for d in all_deviations() if d.id == dev["id"]), "")


def deviation_groups(data: dict) -> list[Group]:
    """Known deviations grouped by recorded id: how often they were excused, on which operations, in which results."""
    groups: dict[str, Group] = {}
    for r in data.get("results", []):
        for dev in r.get("deviations") or []:
            group = groups.get(dev["id"])
            if group is None:
                group = groups[dev["id"]] = Group(
                    dev["id"],
                    dev["id"],
                    detail=_deviation_summary(dev),
                    status=Status.KNOWN_DEVIATION,
                    upstream=upstream_links(dev.get("upstream", "")),
                )
            group.occurrences += int(dev.get("count") or 1)
            group.operations.update(dev.get("operations") or [])
            member = _member(data, r, dev.get("operations"))
            member["classes"] = [dev["class"]] if dev.get("class") else []
            group.members.append(member)
            group.classes = ordered({*group.classes, *member["classes"]})
    return sorted(groups.values(), key=lambda g: (-len(g.operations), -g.occurrences, g.key))
