"""Second passes: checks a release's main run cannot decide, decided on a restart of the same local target.

The matrix runs each release with the suite's auth config, the sandbox profile and Airflow's
default settings. Some checks that apply cannot be decided there, and say why in their skip:

- `deny_all`: checks that need Airflow's default auth config (2.0-2.2: `deny_all`) are skipped with
  the reason code `auth_default`; the release restarts with `--auth-config default`.
- `disruptive`: authorization and property checks the guard refused outside the disruptive profile (`disruptive_only`)
  (user and role creates, `POST /connections/defaults`), and the official client's reading of
  `test_connection`, whose only answer is 403 while `[core] test_connection` is off (the default from
  2.7). The release restarts with that setting on, and the authorization and property tiers run for
  those operations alone with `--profile disruptive` (allowed: the matrix started the target). Every
  request still goes through the guard; what the pass creates is in its ledger and deleted at its end.

Each pass is data (which results wait for it, the restart's config, the run's flags); the matrix
runs one restart per pass a release needs, into `runs/<V>/<folder>/`, and merges the waiting cells
into the release's column here, so `matrix --rebuild` merges them the same way. A merge never turns
a failure into a pass, and a merged cell says in its message which pass decided it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from conformance.model.kinds import TIER_OF_KIND
from conformance.model.reasons import ReasonCode
from conformance.reporting import legacy

TIERS = TIER_OF_KIND
# the test function of each per-operation tier a narrow pass selects from: its items are `<function>[<operationId>]`
ITEM_OF = {"authorization": "test_authorization", "property": "test_operation"}


def _needs_auth_default(result: dict) -> bool:
    return result.get("reason_code") == ReasonCode.AUTH_DEFAULT


def _refused_outside_disruptive(result: dict) -> bool:
    """An authorization or property check the guard kept back only because the run was not disruptive."""
    return result.get("kind") in ITEM_OF and result.get("reason_code") == ReasonCode.DISRUPTIVE_ONLY


@dataclass(frozen=True)
class Pass:
    """One kind of restart: which results wait for it, how the target restarts, how the suite runs on it."""

    name: str  # key in results["second_passes"], and the progress wording "<name> restart"
    folder: str  # runs/<V>/<folder>/
    waits: Callable[[dict], bool]  # a skipped result of the main run that this pass decides
    describe: str  # the restart's config, for progress lines and merged messages
    auth_config: str = "conformance"
    settings: dict[str, str] = field(default_factory=dict)  # Airflow options over the home's
    profile: str = ""  # the run's --profile ("": the matrix's own)
    narrow: bool = False  # run only the waiting operations (-k), not their whole tiers
    # official-client cells (client.<op>) it decides where the main run's client read no answer of <op>,
    # and the kind of check whose request for <op> gives that answer
    client_ops: dict[str, str] = field(default_factory=dict)


PASSES = (
    Pass("deny_all", "auth-default", _needs_auth_default, "--auth-config default", auth_config="default"),
    Pass(
        "disruptive",
        "disruptive",
        _refused_outside_disruptive,
        "--profile disruptive, [core] test_connection Enabled",
        settings={"AIRFLOW__CORE__TEST_CONNECTION": "Enabled"},
        profile="disruptive",
        narrow=True,
        client_ops={"test_connection": "authorization"},
    ),
)


def pending(results: dict, p: Pass) -> list[dict]:
    """The results of a run that wait for pass `p`."""
    return [r for r in results.get("results", []) if r.get("status") == "skipped" and p.waits(r)]


def pending_clients(results: dict, p: Pass) -> list[str]:
    """The operations of `p.client_ops` the release has and its official client read no answer of.

    Only where a client did read the run (a run with `--client none` has no client cells to decide), and
    where the run's --only had the tier whose request gives the answer (a restart does not widen a selection).
    """
    readings = (results.get("clients") or {}).get("readings") or []
    if not readings:
        return []
    have = {r["id"] for r in results.get("results", []) if r.get("kind") == "client"}
    ops = results.get("operations") or {}
    only = (results.get("configuration") or {}).get("only") or list(TIERS.values())
    return [op for op, kind in p.client_ops.items() if op in ops and f"client.{op}" not in have and TIERS[kind] in only]


def waiting(results: dict, p: Pass) -> list[str]:
    """The check ids pass `p` would decide for this release (none: no restart)."""
    return [r["id"] for r in pending(results, p)] + [f"client.{op}" for op in pending_clients(results, p)]


def _operation(check_id: str) -> str:
    return check_id.split(".", 1)[1]


def flags(results: dict, p: Pass, base: list[str]) -> list[str]:
    """The `run` flags of the pass: the matrix's own, with the tiers, profile, selection and client of the pass."""
    items = [(r["kind"], _operation(r["id"])) for r in pending(results, p)]
    items += [(p.client_ops[op], op) for op in pending_clients(results, p)]
    out = _without(base, "--only", "--time-budget", "-k", "--client", *(("--profile",) if p.profile else ()))
    out += [
        "--only",
        ",".join(sorted({TIERS[kind] for kind, _op in items})),
        "--client",
        "auto" if pending_clients(results, p) else "none",
    ]
    if p.profile:
        out += ["--profile", p.profile]
    if p.narrow:  # each operation's item by its whole name, `test_authorization[post_user]`
        out += ["-k", " or ".join(sorted({f"{ITEM_OF[kind]}[{op}]" for kind, op in items}))]
    return out


def _without(flag_list: list[str], *names: str) -> list[str]:
    """A flag list without the named options and their values."""
    out, skip = [], False
    for flag in flag_list:
        if skip:
            skip = False
        elif flag in names:
            skip = True
        else:
            out.append(flag)
    return out


def merge(results: dict, second: dict, p: Pass) -> dict:
    """The release's results with each check waiting for `p` replaced by (or, a client cell, given) its result there.

    The summary counts follow, and a check that failed or errored there makes the release not conformant:
    a merge never turns a failure into a pass. A result still undecided in the pass stays as it was.
    """
    merged = copy.deepcopy(results)
    by_id = {r["id"]: r for r in second.get("results", [])}
    summary = merged.setdefault("summary", {})
    waits = {r["id"] for r in pending(results, p)}
    clients = [f"client.{op}" for op in pending_clients(results, p)]
    note = f"decided on the matrix's {p.name} pass (a restart with {p.describe}, run {second.get('run_id')}): "
    decided = []

    def taken(other: dict | None) -> dict | None:
        if other is None or other.get("status") == "skipped":
            return None
        summary[other["status"]] = summary.get(other["status"], 0) + 1
        decided.append(other["id"])
        if other["status"] in ("failed", "error") and merged.get("verdict") == "conformant":
            merged["verdict"] = "not conformant"
        return {
            **other,
            "message": note + (other.get("message") or ""),
            "second_pass": p.name,
        }  # first: cells cut at 300

    for i, r in enumerate(merged.get("results", [])):
        new = taken(by_id.get(r["id"])) if r["id"] in waits else None
        if new is not None:
            summary[r["status"]] = summary.get(r["status"], 0) - 1
            merged["results"][i] = new
    for check_id in clients:
        new = taken(by_id.get(check_id))
        if new is not None:
            merged["results"].append(new)
    _merge_operations(merged, second, decided, note, p)
    merged.setdefault("second_passes", {})[p.name] = {
        "run_id": second.get("run_id"),
        "folder": p.folder,
        "restart": p.describe,
        "checks": decided,
    }
    return merged


def _merge_operations(merged: dict, second: dict, decided: list[str], note: str, p: Pass) -> None:
    """The operations table follows: an operation whose per-operation checks the pass decided takes its row there."""
    ops, theirs = merged.setdefault("operations", {}), second.get("operations") or {}
    for op in {_operation(c) for c in decided if c.split(".", 1)[0] in ITEM_OF}:
        row = theirs.get(op)
        if row is not None and row.get("status") != "skipped":
            ops[op] = {**row, "reason": note + (row.get("reason") or ""), "second_pass": p.name}


def load(run_dir: Path, p: Pass) -> dict | None:
    """The pass's results.json under a release's run folder, if there is one."""
    path = run_dir / p.folder / "results.json"
    try:
        return legacy.load(path) if path.is_file() else None
    except ValueError:
        return None


def merge_stored(results: dict, run_dir: Path) -> dict:
    """A stored run's results with every stored pass merged in (what `matrix --rebuild` shows).

    A run stored before results.json 1.3 is read with the reason codes of 1.3 first (`reporting.legacy`).
    """
    results = legacy.upgrade(results)
    for p in PASSES:
        second = load(run_dir, p)
        if second is not None and waiting(results, p):
            results = merge(results, second, p)
    return results
