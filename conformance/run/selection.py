"""Which collected checks a run keeps, and why it skips the others.

A check is dropped when its kind was not asked for (`--only`), and skipped
with a reason a person can act on when it cannot be decided on this target:
another Airflow version, a profile that does not allow its writes, missing
probe DAGs, or credentials the target refuses by configuration.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

from conformance.checks.metadata import Meta
from conformance.context import CheckContext
from conformance.model.kinds import TIER_OF_KIND
from conformance.model.profiles import Profile
from conformance.model.reasons import ReasonCode

KIND_OF = TIER_OF_KIND
# how a skip says the check is not part of the release (the matrix tells "not applicable" from "not decided" by it)
NOT_APPLICABLE_PREFIX = "not applicable to Airflow "
# how a skip says the check needs a target with Airflow's default auth config (the matrix restarts 2.0-2.2 for it)
AUTH_DEFAULT_REASON = (
    "needs a target running Airflow's default auth settings (airflow-conformance up --auth-config default)"
)
DENY_ALL_REASON = (
    "the target refuses valid credentials by configuration (Airflow's default [api] auth_backend "
    "deny_all on 2.0-2.2); only the auth-default checks apply"
)


def meta_of(item: pytest.Item) -> dict | None:
    """The check an item is (id, kind, title, operations, MUST), or None for an item that is not a check."""
    marker = item.get_closest_marker("conformance")
    if marker is not None:
        meta: Meta = marker.args[0]
        return {
            "meta": meta,
            "result_id": meta.result_id,
            "kind": meta.kind,
            "title": meta.title,
            "operations": list(meta.operations),
            "must": meta.must,
        }
    marker = item.get_closest_marker("conformance_property")
    if marker is not None:
        return {"meta": None, **marker.kwargs}
    return None


class Skip(NamedTuple):
    """Why a check is skipped: a code for machines, a sentence for people."""

    code: ReasonCode
    text: str


def lacks_reason(ctx: CheckContext, operations) -> str | None:
    """Why the run's own identity cannot decide a check that makes these operations (None: it may make them all)."""
    for op_id in operations:
        missing = ctx.primary_lacks(op_id)
        if missing:
            return (
                f"needs {', '.join(missing)} for {op_id}, which the --auth identity (role {ctx.primary_role}) "
                f"does not hold on Airflow {ctx.target.airflow_version} (conformance/expectations/access.yaml)"
            )
    return None


def skip_reason(ctx: CheckContext, meta: Meta | None, kind: str, operations=()) -> str | None:
    """Why this check cannot be decided on this target with these options; None when it can."""
    skip = skip_of(ctx, meta, kind, operations)
    return skip.text if skip else None


def skip_of(ctx: CheckContext, meta: Meta | None, kind: str, operations=()) -> Skip | None:
    """The code and the sentence of `skip_reason` (None when the check can be decided)."""
    if meta is None:  # generated items (properties, authorization): the run-wide reasons, and the identity's privileges
        if ctx.auth_denied:
            return Skip(ReasonCode.DENY_ALL, DENY_ALL_REASON)
        lacking = lacks_reason(ctx, operations) if kind in ("property", "effect") else None
        return Skip(ReasonCode.PRIVILEGE, lacking) if lacking else None
    version = ctx.target.version
    if not meta.applies_to(version):
        rng = " and ".join(
            x for x in (f">= {meta.since}" if meta.since else "", f"< {meta.until}" if meta.until else "") if x
        )
        return Skip(
            ReasonCode.NOT_APPLICABLE, f"{NOT_APPLICABLE_PREFIX}{ctx.target.airflow_version} (applies to {rng})"
        )
    if not Profile(ctx.options.profile).allows(meta.tier):
        return Skip(ReasonCode.PROFILE, f"needs the {meta.tier} profile; this run uses --profile {ctx.options.profile}")
    if "auth_default" in meta.needs and not ctx.auth_denied:
        return Skip(ReasonCode.AUTH_DEFAULT, AUTH_DEFAULT_REASON)
    if ctx.auth_denied and "auth_default" not in meta.needs:
        return Skip(ReasonCode.DENY_ALL, DENY_ALL_REASON)
    lacking = lacks_reason(ctx, meta.privileged_operations())
    if lacking:
        return Skip(ReasonCode.PRIVILEGE, lacking)
    if "probe_dags" in meta.needs and not ctx.probe_dags:
        return Skip(
            ReasonCode.PROBE_DAGS,
            "the suite's probe DAGs are not deployed on the target; deploy them with "
            "`airflow-conformance probe-dags install DAGS_FOLDER --airflow VERSION`",
        )
    return None
