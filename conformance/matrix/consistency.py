"""The matrix's invariant: the same answer to the same request gets the same status on every release.

A known deviation's hand-written range made one answer `failed` on 3.2.2 and
`known_deviation` on 3.3.2. This reads the per-release results.json under
`<report-dir>/runs/*/` and finds, per check, the recorded answers two or more
releases share, whose results nevertheless have different statuses.

What a result records of its answers:
- a property result lists its failures, `[check] HTTP <status> <content type>: <check's
  words> | response: <body excerpt> | request: <METHOD path?query body ...>`, one per line
  when failed (each with its curl), `; `-separated after `observed:` when excused. The
  request line carries neither host nor credentials, so it is the request's identity
  here (an excused failure keeps no curl of its own); the run's name prefix is normalised.
- other results (scenarios, clients) keep one curl (`reproduce`) and their message: the
  curl, with host/port, credentials, schemathesis' case id and the run's prefix
  normalised, and the first `HTTP <status>` of the message stand for the answer.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from conformance.errors import ConfigError
from conformance.matrix import databases, passes

_ENTRY = re.compile(r"\[(?P<check>\w+)\] HTTP (?P<status>\w+) (?P<ctype>\S+?)(?: \(x\d+\))?: ")
_SUMMARY_TAIL = re.compile(r" \| \d+ requests?[;,].*$", re.S)
_PREFIX = re.compile(r"acf_[0-9a-f]{8}_?")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\d+")
_CURL_NOISE = (
    re.compile(r" -H '(X-Schemathesis-TestCaseId|Authorization|Cookie): [^']*'"),
    re.compile(r" -u '[^']*'| -u \S+"),
)
_HOST = re.compile(r"https?://[^/'\s]+")
_HTTP_STATUS = re.compile(r"\bHTTP (\d{3})\b")


@dataclass(frozen=True)
class Answer:
    """One recorded answer: which check judged it, the request, and the answer's status, type and shape."""

    check: str
    request: str
    status: str
    content_type: str = ""
    shape: str = ""


def body_shape(excerpt: str) -> str:
    """The structure of a body excerpt: JSON keys and value types, else the text with strings and numbers blanked."""
    try:
        return json.dumps(_skeleton(json.loads(excerpt)), sort_keys=True)
    except ValueError:
        return _QUOTED.sub("'…'", _NUMBER.sub("N", excerpt.strip()))


def _skeleton(doc: object) -> object:
    if isinstance(doc, dict):
        return {k: _skeleton(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_skeleton(v) for v in doc[:1]]
    return type(doc).__name__


def normalise_curl(curl: str) -> str:
    """A curl without what differs between two runs of the same request: host and port, credentials, ids."""
    for noise in _CURL_NOISE:
        curl = noise.sub("", curl)
    return _PREFIX.sub("{prefix}", _HOST.sub("{target}", curl)).strip()


def property_answers(message: str) -> list[Answer]:
    """The failures a property result's message lists (failed: one per line; excused: after `observed:`)."""
    starts = list(_ENTRY.finditer(message))
    out = []
    for m, nxt in zip(starts, [*starts[1:], None]):
        text = message[m.end() : nxt.start() if nxt else len(message)]
        text = _SUMMARY_TAIL.sub("", text.split("\n", 1)[0]).rstrip("; ")
        _, _, rest = text.partition(" | response: ")
        response, _, request = rest.partition(" | request: ")
        out.append(
            Answer(m["check"], _PREFIX.sub("{prefix}", request.strip()), m["status"], m["ctype"], body_shape(response))
        )
    return out


def answers(result: dict) -> list[Answer]:
    """What a result recorded of the answers it judged (none for a passed or skipped result)."""
    if result.get("status") in ("passed", "skipped"):
        return []
    found = property_answers(result.get("message") or "") if result.get("kind") == "property" else []
    if found or not result.get("reproduce"):
        return found
    status = _HTTP_STATUS.search(result.get("message") or "")
    return [Answer(result.get("kind", ""), normalise_curl(result["reproduce"]), status[1] if status else "")]


@dataclass(frozen=True)
class Split:
    """One check whose shared answers got different statuses: per shared answer, its columns and their statuses."""

    check_id: str
    groups: tuple[tuple[Answer, dict], ...]  # (answer, {column label: result status}), each with 2+ statuses

    @property
    def statuses(self) -> dict[str, str]:
        """Every column in a split group, with its status (a column has one status per check)."""
        return {c: st for _, statuses in self.groups for c, st in statuses.items()}

    @property
    def pairs(self) -> int:
        """(check, release) pairs in the split."""
        return len(self.statuses)


def load_results(report_dir: Path) -> dict[str, dict]:
    """{column label: results.json with its second passes merged} of every run under <report-dir>/runs/."""
    runs = {}
    for path in sorted((Path(report_dir) / "runs").glob("*/results.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ConfigError(f"{path} is not a results.json of this suite ({exc.__class__.__name__})") from exc
        data = passes.merge_stored(data, path.parent)
        runs[databases.label_of_dir(path.parent.name, data.get("target", {}).get("airflow_version"))] = data
    if not runs:
        raise ConfigError(f"no runs under {report_dir}/runs/: nothing to compare (`matrix --report-dir DIR`)")
    return runs


def splits(runs: dict[str, dict]) -> list[Split]:
    """The checks whose same recorded answer to the same request has different statuses on different columns."""
    seen: dict[tuple[str, Answer], dict[str, str]] = defaultdict(dict)
    for label, data in runs.items():
        for result in data.get("results", []):
            for answer in answers(result):
                seen[(result["id"], answer)][label] = result["status"]
    order = sorted(runs, key=databases.sort_key)
    groups: dict[str, list] = defaultdict(list)
    for (check_id, answer), statuses in seen.items():
        if len(set(statuses.values())) > 1:
            groups[check_id].append((answer, {c: statuses[c] for c in order if c in statuses}))
    return [Split(cid, tuple(groups[cid])) for cid in sorted(groups)]


def by_release_pair(found: list[Split]) -> dict[tuple[str, str, str, str], int]:
    """{(column A, its status, column B, its status): checks}, A before B in version order, from the same answer."""
    out: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for split in found:
        pairs = {
            (a, sa, b, sb)
            for _, statuses in split.groups
            for (a, sa), (b, sb) in combinations(statuses.items(), 2)
            if sa != sb
        }
        for pair in pairs:
            out[pair] += 1
    return dict(out)


def report(found: list[Split]) -> list[str]:
    """The lines `matrix --consistency` prints: each split check, the counts per release pair, the total."""
    lines = [
        f"{s.check_id}: "
        + ", ".join(f"{c} {st}" for c, st in s.statuses.items())
        + f"\n  same answer ({s.groups[0][0].check}, HTTP {s.groups[0][0].status}) to: {s.groups[0][0].request[:160]}"
        for s in found
    ]
    lines += [
        f"{n} check(s) {sa} on {a} but {sb} on {b} with the same answer"
        for (a, sa, b, sb), n in sorted(by_release_pair(found).items(), key=lambda kv: -kv[1])
    ]
    lines.append(
        f"total: {sum(s.pairs for s in found)} (check, release) pair(s) in {len(found)} check(s) whose same "
        "answer to the same request has another status on another release"
    )
    return lines
