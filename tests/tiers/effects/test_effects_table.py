"""The effects table derived from the reference specs, and the predicates the effects tier judges answers by.

Fast: no Airflow. The live side (each effect read back on real 2.10.5 and 3.3.2,
and each broken by the fault proxy's effect cases) is tests/system/test_detection.py.
"""

from __future__ import annotations

import pytest

from conformance.model.effects import EffectClass, Observation, WriteGap
from conformance.reporting.effects import writes_without_2xx
from conformance.specs.catalog import load_spec
from conformance.specs.effects import NO_2XX, effects_of, like_regex, summary
from conformance.tiers.effects.lists import _predicate, midpoints
from conformance.tiers.effects.reading import out_of_order


def _table(version: str) -> dict[str, object]:
    return {e.key: e for e in effects_of(load_spec(version))}


@pytest.mark.parametrize("version", ["2.0.2", "2.10.5", "3.0.6", "3.3.2"])
def test_every_query_parameter_of_the_spec_is_in_the_table(version):
    spec = load_spec(version)
    table = _table(version)
    from conformance.specs.catalog import operations  # noqa: PLC0415

    expected = {
        f"{op.operation_id}:query:{p['name']}"
        for op in operations(spec)
        for p in op.parameters
        if p.get("in") == "query"
    }
    assert expected and expected <= set(table)
    figures = summary(list(table.values()))
    assert figures["documented"] == figures["checked"] + figures["not_observable"] + figures["unchecked"]
    assert all(e.reason for e in table.values()), "every entry says how it is checked or why it is not"


def test_parameters_are_classified_by_their_documented_effect():
    table = _table("3.3.2")
    expect = {
        "get_dag_runs:query:state": (EffectClass.EQUALS, "state"),
        "get_dag_runs:query:start_date_gte": (EffectClass.RANGE, "start_date"),
        "get_variables:query:variable_key_pattern": (EffectClass.PATTERN, "key"),
        "get_pools:query:pool_name_prefix_pattern": (EffectClass.PREFIX, "name"),
        "get_dag_tags:query:tag_name_pattern": (EffectClass.PATTERN, "_value"),
        "get_dags:query:order_by": (EffectClass.ORDER, None),
        "get_dags:query:limit": (EffectClass.PAGE, None),
        "patch_pool:query:update_mask": (EffectClass.MASK, None),
    }
    for key, (cls, field) in expect.items():
        assert (table[key].effect_class, table[key].field) == (cls, field), key
        assert table[key].observation is Observation.CHECKED, key
    assert table["get_dags:query:paused"].field == "is_paused"  # the parameter and the item field differ
    assert table["post_connection:body:password"].observation is Observation.NOT_OBSERVABLE
    assert "post_pool:body:occupied_slots" not in _table("2.10.5"), "readOnly fields are answers, not inputs"


def test_like_patterns_follow_sql_wildcards_case_insensitively():
    assert like_regex("acf_b").match("xx ACFxB yy")  # `_` is any one character
    assert not like_regex("acf_b").match("acfb")
    assert like_regex("a%c").match("zzabbbczz")
    assert like_regex("ab", prefix=True).match("ABc") and not like_regex("ab", prefix=True).match("cab")
    assert like_regex("a.b").match("a.b") and not like_regex("a.b").match("axb")  # regex characters are literal


def test_order_is_judged_only_where_every_database_agrees():
    assert out_of_order([1, 3, 2], descending=False, byte_order=False) == (3, 2)
    assert out_of_order([3, 2, 1], descending=True, byte_order=False) is None
    assert out_of_order(["2026-01-02T00:00:00Z", "2026-01-01T00:00:00+00:00"], False, False) is not None
    # "a_b" vs "ab": C and SQLite put "_" after "A-Z" but a PostgreSQL locale may ignore it: judged only byte-wise
    assert out_of_order(["ab", "a_b"], descending=False, byte_order=False) is None
    assert out_of_order(["ab", "a_b"], descending=False, byte_order=True) == ("ab", "a_b")
    # durations a database computed in milliseconds (SQLite) tie below 1 ms; a millisecond apart they are judged
    assert out_of_order([1.188159, 1.18796], descending=False, byte_order=True) is None
    assert out_of_order([1.189, 1.187], descending=False, byte_order=True) == (1.189, 1.187)
    assert out_of_order([2, 1], descending=False, byte_order=True) == (2, 1)


def test_range_bounds_fall_between_stored_values():
    assert midpoints([3, 1, 2]) == [1.5, 2.5]
    assert midpoints(["2026-01-01T00:00:00+00:00", "2026-01-01T00:00:10+00:00"]) == ["2026-01-01T00:00:05+00:00"]
    table = _table("3.3.2")
    gte = _predicate(table["get_dag_runs:query:duration_gte"], 2.5)
    assert gte(3) is True and gte(2) is False
    assert gte(None) is None, "an unset value is not judged either way (3.x reads a null start_date as now)"
    equals = _predicate(table["get_dag_runs:query:state"], "success")
    assert equals("success") and not equals("failed") and not equals(None)
    tags = _predicate(table["get_dags:query:tags"], "example")
    assert tags([{"name": "example"}, {"name": "x"}]) and not tags([{"name": "x"}])


@pytest.mark.parametrize("version", ["2.10.5", "3.3.2"])
def test_the_probe_runs_task_instance_takes_the_dry_runs_and_a_state_change(version):
    table = _table(version)
    clear = table["post_clear_task_instances:body:dry_run"]
    assert (clear.effect_class, clear.observation) == (EffectClass.DRY_RUN, Observation.CHECKED)
    state = table["patch_task_instance:body:new_state"]
    assert (state.effect_class, state.observation) == (EffectClass.BODY_FIELD, Observation.CHECKED)
    if version.startswith("3"):  # 3.x has the dry run of a state change as an operation of its own
        dry = table["patch_task_instance_dry_run:body:new_state"]
        assert (dry.effect_class, dry.observation) == (EffectClass.DRY_RUN, Observation.CHECKED)
    else:
        assert table["patch_task_instance:body:dry_run"].observation is Observation.CHECKED


def test_notes_and_run_states_are_read_back_on_both_generations():
    v1, v2 = _table("2.10.5"), _table("3.3.2")
    for key in (
        "set_dag_run_note:body:note",
        "set_task_instance_note:body:note",
        "update_dag_run_state:body:state",
        "post_set_task_instances_state:body:new_state",
        "clear_dag_run:body:dry_run",
    ):
        assert v1[key].observation is Observation.CHECKED, key
    for key in (
        "patch_dag_run:body:note",
        "patch_dag_run:body:state",
        "patch_task_instance:body:note",
        "clear_dag_run:body:dry_run",
    ):
        assert v2[key].observation is Observation.CHECKED, key
    assert v2["clear_dag_run:body:note"].observation is Observation.UNCHECKED  # not read back yet: a gap


@pytest.mark.parametrize("version", ["2.10.5", "3.3.2"])
def test_list_bodies_filter_order_and_page_like_query_parameters(version):
    table = _table(version)
    op = "get_dag_runs_batch" if version.startswith("2") else "get_list_dag_runs_batch"
    states = table[f"{op}:body:states"]
    assert (states.effect_class, states.field, states.observation) == (EffectClass.EQUALS, "state", Observation.CHECKED)
    assert table[f"{op}:body:page_limit"].effect_class is EffectClass.PAGE
    assert table[f"{op}:body:order_by"].effect_class is EffectClass.ORDER
    assert table["get_task_instances_batch:body:dag_ids"].field == "dag_id"


@pytest.mark.parametrize("version", ["2.10.5", "3.3.2"])
def test_clear_flags_are_read_through_dry_runs_and_the_rest_say_what_they_need(version):
    table = _table(version)
    for flag in (
        "include_future",
        "include_past",
        "only_failed",
        "only_running",
        "task_ids",
        "dag_run_id",
        "start_date",
        "end_date",
    ):
        effect = table[f"post_clear_task_instances:body:{flag}"]
        assert (effect.effect_class, effect.observation) == (EffectClass.DRY_RUN, Observation.CHECKED), flag
    upstream = table["post_clear_task_instances:body:include_upstream"]
    assert upstream.observation is Observation.UNCHECKED and "dependencies" in upstream.reason


def test_not_observable_entries_name_the_setting_or_the_resource_they_need():
    v1, v2 = _table("2.10.5"), _table("3.3.2")
    for key in (
        "test_connection:body:host",
        "post_user:body:email",
        "patch_role:query:update_mask",
        "get_xcom_entry:query:deserialize",
    ):
        assert v1[key].observation is Observation.NOT_OBSERVABLE, key
    for key in ("post_pool:body:team_name", "enqueue_connection_test:body:executor"):
        assert v2[key].observation is Observation.NOT_OBSERVABLE, key
    assert "test_connection" in v1["test_connection:body:host"].reason
    assert v2["trigger_dag_run:body:partition_key"].observation is Observation.UNCHECKED  # needs a partitioned DAG


def test_map_index_selects_on_reads_and_deletes():
    v2 = _table("3.3.2")
    for key in (
        "get_log:query:map_index",
        "get_task_instance_try_details:query:map_index",
        "delete_task_instance:query:map_index",
        "delete_xcom_entry:query:map_index",
    ):
        assert (v2[key].effect_class, v2[key].observation) == (EffectClass.SELECTOR, Observation.CHECKED), key


def test_writes_without_a_2xx_come_with_the_reason_from_data():
    spec = load_spec("3.3.2")
    run = {"operations": {"post_pool": {"reached": 1}, "test_connection": {"reached": 0, "statuses": {"403": 2}}}}
    rows = {r["operation_id"]: r for r in writes_without_2xx(spec, [run])}
    assert "post_pool" not in rows and "get_pools" not in rows, "reached writes and reads are not listed"
    assert rows["test_connection"]["reason_code"] == WriteGap.SETTING.value
    assert rows["test_connection"]["statuses"] == {"403": 2}
    unknown = [r for r in rows.values() if r["operation_id"] not in NO_2XX]
    assert all(r["reason_code"] == WriteGap.UNKNOWN.value for r in unknown)
    assert "get_task_instances_batch" not in rows, "a POST list operation is a read"
