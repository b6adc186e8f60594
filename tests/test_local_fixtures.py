"""The queued asset event `up` leaves on a local 3.x target, against a stand-in for the API (no Airflow).

The stand-in keeps Airflow 3.0's rules as checked on a real 3.0.6 (see conformance/local/fixtures.py):
an asset event queues only *unpaused* consumers, a paused DAG keeps its queue, and the queued-event
reads answer 404 while nothing is queued. The real target is exercised by `up` in test_local_targets.
"""

from __future__ import annotations

from types import SimpleNamespace

from conformance.local import fixtures
from conformance.probes import dags

ASSET_ID = 19


class FakeApi:
    """GET/PATCH/POST of the routes the fixture uses, with Airflow 3.0's queueing rule."""

    def __init__(self, *, paused: bool = True, queued: bool = False, visible: bool = True, empty_list: bool = False):
        self.paused, self.visible, self.empty_list = paused, visible, empty_list
        self.queue: set[int] = {ASSET_ID} if queued else set()
        self.events: list[dict] = []
        self.sent: list[tuple[str, str]] = []

    def call(self, method, path, *, body=None, params=None):
        self.sent.append((method, path))
        dag = f"/dags/{dags.ASSETS_DAG_ID}"
        if (method, path) == ("GET", dag):
            return _resp(200 if self.visible else 404, {"dag_id": dags.ASSETS_DAG_ID, "is_paused": self.paused})
        if (method, path) == ("GET", "/assets"):
            assert params["name_pattern"] == dags.QUEUED_ASSET
            items = [{"id": ASSET_ID + 1, "name": f"{dags.QUEUED_ASSET}_other", "uri": "x-other://a"},
                     {"id": ASSET_ID, "name": dags.QUEUED_ASSET, "uri": dags.ASSETS[dags.QUEUED_ASSET]}]
            return _resp(200, {"assets": items if self.visible else []})
        if (method, path) == ("GET", f"{dag}/assets/queuedEvents"):
            if not self.queue and not self.empty_list:
                return _resp(404, {"detail": "not found"})
            return _resp(200, {"queued_events": [{"dag_id": dags.ASSETS_DAG_ID, "asset_id": a} for a in self.queue]})
        if (method, path) == ("PATCH", dag):
            assert params == {"update_mask": "is_paused"}
            self.paused = body["is_paused"]
            return _resp(200, {"is_paused": self.paused})
        if (method, path) == ("POST", "/assets/events"):
            self.events.append(body)
            if not self.paused:  # Airflow queues only unpaused consumers
                self.queue.add(body["asset_id"])
            return _resp(200, {"id": len(self.events), "asset_id": body["asset_id"]})
        raise AssertionError(f"unexpected {method} {path}")


def _resp(status: int, body: dict):
    return SimpleNamespace(status_code=status, json=lambda: body)


def _dags_folder(tmp_path, version="3.0.6"):
    dags.install(tmp_path, version)
    return tmp_path


def test_up_queues_one_event_and_leaves_the_dag_paused(tmp_path):
    api, said = FakeApi(), []
    assert fixtures.ensure_queued_asset_event(api, _dags_folder(tmp_path), said.append, wait_s=0)
    assert api.queue == {ASSET_ID} and len(api.events) == 1 and api.paused
    assert api.events[0]["asset_id"] == ASSET_ID
    assert ("PATCH", f"/dags/{dags.ASSETS_DAG_ID}") in api.sent
    assert "queued one asset event" in said[-1]


def test_a_warm_home_gets_no_second_event(tmp_path):
    api = FakeApi(queued=True)
    for _ in range(3):  # `up` again and again on a home whose event is still queued
        assert fixtures.ensure_queued_asset_event(api, _dags_folder(tmp_path), lambda _m: None, wait_s=0)
    assert api.events == [] and all(m == "GET" for m, _ in api.sent)


def test_an_empty_list_reads_as_nothing_queued(tmp_path):
    """3.1+ answers an empty queue with 200 and no items: the event is posted as on 3.0."""
    api = FakeApi(empty_list=True)
    assert fixtures.ensure_queued_asset_event(api, _dags_folder(tmp_path), lambda _m: None, wait_s=0)
    assert len(api.events) == 1 and api.queue == {ASSET_ID}


def test_a_consumed_queue_is_refilled_once(tmp_path):
    """A disruptive run may clear the queue; the next `up` queues one event again, then none."""
    api = FakeApi(queued=True)
    api.queue.clear()
    folder = _dags_folder(tmp_path)
    fixtures.ensure_queued_asset_event(api, folder, lambda _m: None, wait_s=0)
    fixtures.ensure_queued_asset_event(api, folder, lambda _m: None, wait_s=0)
    assert len(api.events) == 1


def test_an_unpaused_dag_is_left_paused_after_the_event(tmp_path):
    api = FakeApi(paused=False)
    assert fixtures.ensure_queued_asset_event(api, _dags_folder(tmp_path), lambda _m: None, wait_s=0)
    assert api.paused and len(api.events) == 1
    api.paused = False  # a disruptive run's bulk PATCH /dags (pattern conformance_probe): `up` pauses it again
    assert fixtures.ensure_queued_asset_event(api, _dags_folder(tmp_path), lambda _m: None, wait_s=0)
    assert api.paused and len(api.events) == 1


def test_nothing_is_sent_without_the_dag_file(tmp_path):
    said: list[str] = []
    api = FakeApi()
    assert not fixtures.ensure_queued_asset_event(api, tmp_path, said.append, wait_s=0)
    assert api.sent == [] and dags.ASSETS_DAG_ID in said[-1]


def test_a_dag_not_parsed_in_time_posts_nothing_and_does_not_fail_up(tmp_path):
    said: list[str] = []
    api = FakeApi(visible=False)
    assert not fixtures.ensure_queued_asset_event(api, _dags_folder(tmp_path), said.append, wait_s=0)
    assert api.events == [] and "not visible" in said[-1]


def test_only_3x_gets_the_asset_probe_dag_and_its_names_come_from_the_constants():
    assert f"{dags.ASSETS_DAG_ID}.py" not in dags.render("2.10.5")
    source = dags.render("3.0.6")[f"{dags.ASSETS_DAG_ID}.py"].decode()
    compile(source, dags.ASSETS_DAG_ID, "exec")
    for line in (f'dag_id="{dags.ASSETS_DAG_ID}"', "schedule=QUEUED & HELD", "is_paused_upon_creation=True",
                 *(f'Asset(name="{name}", uri="{uri}")' for name, uri in dags.ASSETS.items())):
        assert line in source, line
    assert all(name.startswith("conformance_probe") for name in dags.ASSETS)


def test_the_queued_asset_is_found_by_exact_name_and_uri():
    uri = dags.ASSETS[dags.QUEUED_ASSET]
    assert dags.queued_asset_id([{"id": 3, "name": dags.QUEUED_ASSET + "x", "uri": uri},
                                 {"id": 4, "name": dags.QUEUED_ASSET, "uri": "x-other://q"},
                                 {"id": 5, "name": dags.QUEUED_ASSET, "uri": uri}]) == 5
    assert dags.queued_asset_id(None) is None and dags.queued_asset_id([{"id": "5"}]) is None
