"""A bare 5xx page excuses a crash only when the request carried the deviation's trigger, on REAL Airflow.

Entries of the deviation data whose answer is a bare 5xx page (status and content type only:
`v2-xcom-create-500`, `v1-empty-patch-body-500`, ...) cannot tell their own defect from any other
crash of the same operation. So a recorded `trigger` (structured facts of the request) decides:
only a request that carried it may be excused. These tests prove the verdict keeps that rule
against a real local Airflow 2.10.5 and 3.3.2 behind the fault proxy (tests/faultproxy/crashes.py):

1. for every operation such an entry names (derived from the data when the tests are collected, so
   a new entry is covered as written), the proxy answers the entry's own signature, with a page like
   the framework's own crash page, to every generated request of the operation that does NOT carry
   the trigger; requests that carry it reach Airflow untouched. The operation's property result must
   end `failed`, naming the injected answer. An entry without a trigger excuses every crash of its
   operations: its cases fail today, and that is what they are for;
2. the negative control: the same page, only for requests that DO carry an entry's trigger, must
   end `known_deviation`, excused by that entry (one entry per release, chosen from the data: see
   `control_for`; armed in the baseline run, where it touches nothing but its own operation).

The cases of a release share runs through the detection campaign's planner (faultproxy/campaign.py):
one clean property run of every such operation (their baseline), then one batch run with every
fault. A case whose fault fired only while its own operation ran is decided in the batch, caught or
not (a miss is what a trigger-less entry is expected to show, and re-running each alone would cost a
run apiece); one whose fault also fired elsewhere is decided alone. The baseline may fail for other
reasons, never on the answer the fault gives; behind the proxy the run is told its backend
(`--database sqlite`), so entries recorded for SQLite only hold as they do on the target itself. Small runs:
`--max-examples 8` (so an operation with two triggers, like the XCom create, still gets requests carrying neither), a fixed seed, no official-client reading. Select one case with FAULTPROXY_ONLY
(as in test_detection.py), e.g. `FAULTPROXY_ONLY=bare_500_plain_create_xcom_entry pytest
tests/system/test_crash_triggers.py -k "3.3.2 and create_xcom"`.
"""

from __future__ import annotations

import json

import pytest

from tests import targets
from tests.faultproxy.campaign import Campaign, only_named
from tests.faultproxy.crashes import CHECK, Crash, control_for, crashes, triggered, untriggered
from tests.summary import summary_line

pytestmark = [pytest.mark.slow]

EXAMPLES = "8"
SEED = "20240101"
CRASHES = crashes()


def _extra(examples: str) -> tuple[str, ...]:
    # the proxy hides which local target answers, so the run is told its database: an entry recorded for SQLite
    # only (v2-xcom-create-unknown-map-index-500) excuses the real Airflow's crash in the baseline and the control
    return ("--max-examples", examples, "--seed", SEED, "--client", "none", "--database", "sqlite")


def selected(cases: list[Crash]) -> list[Crash]:
    """The cases FAULTPROXY_ONLY names (comma-separated), or every case when it is unset."""
    only = only_named()
    return [c for c in cases if not only or c.name in only]


@pytest.fixture(scope="module", params=targets.VERSIONS)
def airflow(request: pytest.FixtureRequest):
    """A running local Airflow of each version (reused when it runs; stopped afterwards only if started here)."""
    with targets.provide(request.param) as target:
        yield target


@pytest.fixture(scope="module")
def outcomes(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Each case's final status per release: printed at the end of the module and written to crash-triggers.json."""
    board: dict[str, dict[str, str]] = {}
    yield board
    if not board:
        return
    path = tmp_path_factory.getbasetemp() / "crash-triggers.json"
    path.write_text(json.dumps(board, indent=2) + "\n", encoding="utf-8")
    lines = [
        f"{label}:\n" + "\n".join(f"  {op}: {row}" for op, row in sorted(rows.items())) for label, rows in board.items()
    ]
    summary_line(request.config, "\n".join(lines) + f"\nwritten to {path}")


@pytest.fixture(scope="module")
def campaign(airflow: targets.Target, tmp_path_factory, pycache):
    """The release's crash cases, planned and batched like the detection corpus, over the property tier.

    The negative control is armed in the baseline run: it touches only its operation's requests that
    carry the trigger, so it costs no run of its own, and that operation's baseline is the control's result.
    """
    version = airflow.version
    mine = [c for c in selected(CRASHES) if c.applies_to(version)]
    picked = control_for(version, CRASHES)
    c = Campaign(
        airflow,
        [untriggered(crash, version) for crash in mine],
        tmp_path_factory.mktemp(f"crashes-{version}"),
        pycache=pycache,
        only="properties",
        scope=[crash.result for crash in mine] + ([picked[0].result] if picked else []),
        extra=_extra(EXAMPLES),
        keyword=targets.exact_keyword,
        controls=[triggered(*picked, version)] if picked else [],
        isolate_uncaught=False,
        probe_paused=False,
    )
    try:
        yield c
    finally:
        c.restore()


def _row(result: dict, fired: int) -> str:
    """A line of the printed table: the result's status, and what excused the crash check's failures if anything did."""
    row = next((c for c in result.get("checks", []) if c.get("name") == CHECK), {})
    excused = (
        f", {CHECK} excused {row.get('excused')}x by {', '.join(row['deviations'])}" if row.get("deviations") else ""
    )
    return f"{result.get('status')} ({fired} answered{excused})"


@pytest.mark.parametrize("crash", selected(CRASHES), ids=lambda c: c.name)
def test_crash_without_trigger_is_failed(campaign: Campaign, crash: Crash, outcomes: dict):
    """The entry's own answer to requests without its trigger: the operation's result is `failed`, naming that answer."""
    version = campaign.target.version
    if not crash.applies_to(version):
        pytest.skip(
            f"{', '.join(d.id for d in crash.entries)} hold(s) for Airflow "
            f"{', '.join(sorted({d.versions for d in crash.entries}))}, not {version}"
        )
    answer = f"[{CHECK}] HTTP {crash.status} {crash.content_type}"
    before = campaign.run_clean().result(crash.result)
    detection = campaign.run()[crash.name]
    status, message = detection.statuses.get(crash.result), detection.messages.get(crash.result, "")
    baseline_hit = before.get("status") == "failed" and answer in before.get("message", "")
    outcomes.setdefault(f"Airflow {version}, bare 5xx without trigger", {})[crash.operation] = _row(
        detection.results.get(crash.result, {}), detection.fired
    ) + (f"; clean baseline already {before['status']} on {answer}" if baseline_hit else "")
    assert before.get("status") and not baseline_hit, (
        f"{crash.result} is {before.get('status')} through a clean proxy, on the very answer the fault gives: the real "
        f"Airflow {version} answers it to a request without the trigger of {[d.id for d in crash.on(version)]}, so the "
        f"trigger does not describe when the defect occurs (widen it, or record the other defect), and a failure "
        f"under the fault would prove nothing; {before.get('message', '')[:900]}"
    )
    assert detection.fired > 0, (
        f"{crash.name} never fired: no generated request of {crash.operation} lacked the trigger"
    )
    assert status == "failed", (
        f"{crash.result} ended {status} on Airflow {version} although no crashed request carried the trigger of "
        f"{[d.id for d in crash.on(version)]} ({[d.trigger.describe() or 'no trigger' for d in crash.on(version)]}); "
        f"decided {detection.run}; {message[:1200]} {detection.note}"
    )
    assert answer in message, f"{crash.result} failed, but not on the injected answer ({answer}): {message[:1200]}"


def test_crash_with_trigger_is_known_deviation(campaign: Campaign, outcomes: dict):
    """The negative control: the same answer only to requests that carry an entry's trigger is that entry's `known_deviation`."""
    version = campaign.target.version
    if not campaign.controls:
        pytest.skip(
            f"no bare-5xx entry holding for Airflow {version} names a trigger the proxy can see (query, body "
            "fields, body_empty, body_types) on an operation without a trigger-less entry of the same answer"
        )
    control = campaign.controls[0]
    crash, dev = control_for(version, CRASHES)
    result = campaign.run_clean().result(crash.result)
    fired = campaign.clean_proxy.fired(control.name)
    outcomes.setdefault(f"Airflow {version}, control: {dev.id}'s answer with its trigger", {})[crash.operation] = _row(
        result, fired
    )
    assert fired > 0, (
        f"no generated request of {crash.operation} carried {dev.trigger.describe()}: the control decided nothing; "
        f"{result.get('message', '')[:400]}"
    )
    assert result.get("status") == "known_deviation", (
        f"{crash.result} ended {result.get('status')} with {dev.id}'s answer only on requests carrying its trigger "
        f"({dev.trigger.describe()}): {result.get('message', '')[:1200]}"
    )
    assert dev.id in {d["id"] for d in result.get("deviations", [])}, result.get("deviations")
