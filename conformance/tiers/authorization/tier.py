"""The authorization tier of one run: for every operation, every identity's one request, judged.

Identities are the run's role identities (`--auth-role`, or the role users of a local target)
plus anonymous. Per operation, the identities the release refuses go first, each with the real
probe (the run's own objects), and each refused write is followed by a read with the run's own
identity to show it changed nothing; then the identities the release lets through, with the
harmless probe where the guard accepts it. The result of an operation lists every pair (`cells`);
an unexpected pair fails it, with a curl of that identity's request (secrets masked).
"""

from __future__ import annotations

import logging

import requests

from conformance.context import CheckContext
from conformance.expectations.access import ANONYMOUS, Access, Expected
from conformance.model.reasons import ReasonCode
from conformance.probes.dags import DISPOSABLE_DAG_ID, PROBE_DAG_ID
from conformance.probes.runs import restore_paused
from conformance.safety import unnamed
from conformance.safety.cleanup import bring_back
from conformance.safety.guard import RequestRefused
from conformance.tiers.authorization import probes
from conformance.tiers.authorization.judge import ALLOWED, DENIED, ERROR, SKIPPED, UNEXPECTED, Cell, changed, judge
from conformance.tiers.shared.operations import REVOKES_CREDENTIALS
from conformance.tiers.shared.samples import ACCESS_RUN, SampleBuilder, Samples
from conformance.verdict import Conclusion

log = logging.getLogger(__name__)
DELETES_DISPOSABLE = ("delete_dag",)  # whose real probe aims at the disposable probe DAG (expectations/mutations.py)


class AccessTier:
    """Shared by the authorization items of a run: identities, the run's objects, their sessions."""

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self.access = ctx.access
        roles = [r for r in (self.access.role_names if self.access else ()) if r in ctx.identities]
        self.identities = [*roles, *(r for r in ctx.identities if r not in roles), ANONYMOUS]
        self._values: dict | None = None
        self._samples: Samples | None = None

    # -- what every operation shares -------------------------------------------
    def skip_reason(self) -> str | None:
        """Why no pair can be decided on this target (then every item is skipped with it)."""
        if self.access is None:
            return (
                f"no role model is recorded for Airflow {self.ctx.target.airflow_version} in "
                "conformance/expectations/access.yaml (read it from the release's source with "
                "`python -m conformance.expectations.access_extract --write VENV`)"
            )
        return None

    def values(self) -> tuple[dict, dict]:
        """(real, harmless) path parameter values; the run's own objects are created on first use."""
        if self._values is None:
            self._samples = SampleBuilder(self.ctx, self.ctx.expectations.dialect(), ACCESS_RUN).build()
            real = probes.bindings(self.ctx, self._samples)
            self._values = {"real": real, "harmless": probes.harmless(self.ctx, real)}
        return self._values["real"], self._values["harmless"]

    def session(self, identity: str, op_id: str):
        rel = self.ctx.router.relative(self.ctx.router.by_id[op_id].template)
        if identity == ANONYMOUS:  # a new session each time: no cookie of an earlier answer stands in for credentials
            return self.ctx.session_as(None)
        if rel in REVOKES_CREDENTIALS:  # a logout revokes the token it carries: never the identity's own
            session = self.ctx.session_for(identity, fresh=True)
            session.disposable_credentials = True
            return session
        return self.ctx.session_for(identity)

    def close(self) -> None:
        """Put the probe DAG's pause state back as the run found it (the samples unpause it for their run), and
        wait for the disposable DAG an earlier tier deleted (the property tier leaves that wait to this tier)."""
        if self.ctx.options.profile != "readonly" and DISPOSABLE_DAG_ID in self.ctx.probe_dags:
            bring_back(self.ctx.session, self.ctx.probe_dags, DISPOSABLE_DAG_ID)
        samples = self._samples
        if samples is None or PROBE_DAG_ID not in samples.unpaused:
            return
        want = self.ctx.ledger.pause_state(PROBE_DAG_ID)
        if want is not None:
            problem = restore_paused(self.ctx.session, PROBE_DAG_ID, bool(want))
            if problem:
                log.info("could not restore the pause state: %s", problem)

    def _access(self) -> Access:
        """The release's role model; a release without one has every item skipped first (skip_reason)."""
        assert self.access is not None, "no role model is recorded for this release"
        return self.access

    # -- one operation ------------------------------------------------------------
    def decide(self, op_id: str) -> Conclusion:
        req = self._access().operations.get(op_id)
        group = req.group if req else ""
        if req is None:
            return Conclusion(
                "skipped",
                f"no permission requirement is recorded for {op_id} on Airflow {self._access().release}",
                group=group,
                reason_code=ReasonCode.NO_ROLE_MODEL.value,
            )
        expected = {
            i: e for i in self.identities if (e := self._access().expect(i, op_id)) is not None
        }  # all: req is recorded
        order = sorted(self.identities, key=lambda i: expected[i].allowed)  # the refused first: real objects intact
        if op_id in DELETES_DISPOSABLE and DISPOSABLE_DAG_ID in self.ctx.probe_dags:
            # a refused DELETE is read back: the DAG an earlier tier deleted must be back first, or its return
            # in between would read as a change (the property tier asked for its file to be parsed again)
            bring_back(self.ctx.session, self.ctx.probe_dags, DISPOSABLE_DAG_ID)
        with unnamed.recorded(self.ctx, op_id):  # a create naming nothing: what it made goes into the ledger
            cells = [self._pair(op_id, i, expected[i]) for i in order]
        cells.sort(key=lambda c: self.identities.index(c.identity))
        return conclude(op_id, req, cells)

    def _pair(self, op_id: str, identity: str, expected: Expected) -> Cell:
        real, harmless = self.values()
        cell = Cell(identity, ALLOWED if expected.allowed else DENIED, SKIPPED)
        probe = probes.build(self.ctx, op_id, real)
        lookup = self._access().lookup_first(op_id)
        if lookup and identity != ANONYMOUS and real.get(lookup["param"]) in self._vacant(lookup["param"]):
            cell.reason = (
                f"undecidable: no {lookup['param']} of this run to aim at, and Airflow "
                f"{self._access().release} answers 404 for one that matches nothing before it checks "
                f"permissions ({lookup['source']})"
            )
            cell.reason_code = ReasonCode.NO_OBJECT.value
            return cell
        candidates = [probe]
        if expected.allowed and probe.writes and not lookup:
            candidates.insert(0, probes.build(self.ctx, op_id, harmless, is_harmless=True))
        refused = ""
        for candidate in candidates:
            try:
                return self._send(op_id, identity, expected, candidate, cell)
            except RequestRefused as exc:
                refused, cell.reason_code = exc.reason, exc.code or ReasonCode.REFUSED_BY_GUARD.value
        cell.reason = f"refused by the safety guard: {refused}"
        return cell

    def _vacant(self, param: str) -> set[str]:
        """Ids of `param` that name nothing (proven vacant, or the never-created fallback)."""
        return {*self.ctx.guard.vacant_ids.get(param, ()), str(probes.VACANT_ID_BASE)}

    def _send(self, op_id: str, identity: str, expected: Expected, probe: probes.Probe, cell: Cell) -> Cell:
        session = self.session(identity, op_id)
        check = probe.read_back if not expected.allowed else None
        before = self._read(check) if check else None
        if before is not None:
            probe.observable(before[1])
        try:
            resp = probe.send(session)
        except requests.RequestException as exc:
            cell.outcome, cell.reason = ERROR, f"no answer: {type(exc).__name__}"
            cell.reason_code = ReasonCode.NO_ANSWER.value
            cell.reproduce = self.ctx.session.last_curl()
            return cell
        cell.status = resp.status_code
        cell.outcome, cell.reason = judge(self._access(), op_id, identity, expected, resp)
        if cell.outcome == SKIPPED:  # the only undecidable answer: a setting that answers before the permission check
            cell.reason_code = ReasonCode.SETTING_OFF.value
        if check is not None and before is not None and cell.outcome == DENIED:
            what = changed(check, before, self._read(check))
            if what:
                cell.outcome, cell.reason = UNEXPECTED, f"{cell.reason}, but {what}"
        if cell.outcome in (UNEXPECTED, ERROR) and resp.request is not None:
            cell.reproduce = self.ctx.redactor.curl(resp.request)
        return cell

    def _read(self, check: probes.ReadBack) -> tuple[int, object]:
        """(status, body) of a GET with the run's own identity."""
        resp = self.ctx.session.call("GET", check.path)
        try:
            return resp.status_code, resp.json()
        except ValueError:
            return resp.status_code, None


def conclude(op_id: str, req, cells: list[Cell]) -> Conclusion:
    """The operation's verdict: failed on any unexpected pair, error on any undecided one, skipped when none ran."""
    data = [c.as_dict() for c in cells]
    bad = [c for c in cells if c.outcome == UNEXPECTED]
    broken = [c for c in cells if c.outcome == ERROR]
    summary = "; ".join(f"{c.identity}: {c.outcome}" + (f" ({c.status})" if c.status else "") for c in cells)
    need = "public" if req.public else ", ".join(req.needs) or "a valid identity"
    if bad:
        lines = [
            f"{len(bad)} identity/identities not treated as the release's role model says ({op_id} needs {need}; "
            f"{req.source}):"
        ]
        for c in bad:
            lines.append(f"- {c.identity} (expected {c.expected}): {c.reason}")
            if c.reproduce:
                lines.append(f"  reproduce: {c.reproduce}")
        return Conclusion("failed", "\n".join(lines), reproduce=bad[0].reproduce, cells=data, group=req.group)
    if broken:
        return Conclusion(
            "error",
            f"{op_id} could not be decided for " + ", ".join(f"{c.identity} ({c.reason})" for c in broken),
            reproduce=broken[0].reproduce,
            cells=data,
            group=req.group,
            reason_code=broken[0].reason_code,
        )
    if all(c.outcome == SKIPPED for c in cells):
        return Conclusion(
            "skipped",
            cells[0].reason if cells else "no identity",
            cells=data,
            group=req.group,
            reason_code=cells[0].reason_code if cells else "",
        )
    return Conclusion("passed", f"needs {need}: {summary}", cells=data, group=req.group)
