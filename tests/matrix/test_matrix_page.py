"""The matrix page's data and rendering without a browser: areas from the specs' tags, the change view's pairs,
deviation rows, cells cut at a word, the upgrade pages it links, and `matrix --render-only`.

The browser half (height, overflow, sticky headers, contrast, keyboard) is tests/matrix/test_matrix_page_browser.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from markupsafe import escape

from conformance.cli import main
from conformance.matrix import areas, build, databases, page
from conformance.matrix.cells import clip
from conformance.matrix.collect import Column
from conformance.reporting.findings import upstream_links
from conformance.specs import catalog
from tests.sample_run import sample_run

PUBLISHED = Path(__file__).resolve().parents[2] / "reports" / "compatibility.json"


@pytest.fixture(scope="module")
def published() -> dict:
    return json.loads(PUBLISHED.read_text(encoding="utf-8"))


def test_areas_are_the_specs_tags_one_group_per_spelling(published):
    """Each operation's area is its first tag in the newest reference spec that has it, folded across spellings."""
    newest: dict[str, str] = {}
    for v in published["versions"]:
        newest.update(catalog.operation_tags(catalog.load_spec(v["reference_spec"])))
    assert set(published["areas"]) == set(newest)
    for op, tag in newest.items():
        assert areas.fold(published["areas"][op]) == areas.fold(tag), op
    spellings: dict[str, set[str]] = {}
    for area in published["areas"].values():
        spellings.setdefault(areas.fold(area), set()).add(area)
    assert all(len(names) == 1 for names in spellings.values()), spellings


def test_a_check_sits_in_the_area_of_the_operation_it_exercises(published):
    for cid, row in published["checks"].items():
        area = areas.check_area(cid, row["operations"], published["areas"])
        ops = row["operations"] or ([cid.split(".", 1)[1]] if cid.split(".", 1)[1] in published["areas"] else [])
        assert area == (published["areas"][ops[0]] if ops else areas.NO_OPERATION), cid


def test_change_view_pairs_a_database_column_with_its_own_release():
    labels = ["2.9.3", "2.10.5", "2.10.5 · PostgreSQL", "2.11.2", "3.3.2", "3.3.2 · PostgreSQL", "3.4.0 · PostgreSQL"]
    pairs = databases.change_pairs(labels)
    assert ("2.10.5", "2.10.5 · PostgreSQL") in pairs and ("2.10.5", "2.11.2") in pairs
    for a, b in pairs:  # never from one release's database column to another release
        assert databases.split_label(a)[1] == "sqlite"
        assert databases.split_label(b)[1] == "sqlite" or databases.split_label(a)[0] == databases.split_label(b)[0]
    assert not any(b == "3.4.0 · PostgreSQL" for _, b in pairs), "no SQLite column of 3.4.0 to pair it with"


def test_published_change_view_and_page_follow_the_pairs(published):
    versions = [v["version"] for v in published["versions"]]
    shown = [(d["from"], d["to"]) for d in published["behaviour_diffs"]]
    assert shown == [p for p in databases.change_pairs(versions) if p in shown]
    text = build.render_html(published)
    for a, b in shown:
        if databases.split_label(b)[1] != "sqlite":
            assert f"{a}: SQLite → {databases.LABELS[databases.split_label(b)[1]]}" in text


def test_deviation_rows_carry_summary_class_and_upstream_link(published):
    text = build.render_html(published)
    for dev_id, note in published["deviation_notes"].items():
        group = text.split(f'<tbody class="group" id="deviations-{note["class"].replace("_", "-")}">', 1)[1].split(
            "</tbody>", 1
        )[0]
        row = group.split(f"<code>{dev_id}</code>", 1)[1].split("</th>", 1)[0]
        assert str(escape(note["summary"])) in row, dev_id
        for link in upstream_links(note["upstream"]):
            assert (f'href="{link["url"]}"' if link["url"] else link["text"]) in row, dev_id


def test_no_hover_only_text_on_the_page(published):
    """Nothing the page says is kept in a title attribute alone (a touch screen and a keyboard cannot hover)."""
    assert " title=" not in build.render_html(published).split("<body>", 1)[1]


def test_messages_are_cut_at_a_word():
    text = "needs DELETE connection: viewer: denied (403); " * 10
    cut = clip(text, 100)
    assert len(cut) <= 100 and cut.endswith("…") and text.startswith(cut[:-1])
    assert text[len(cut) - 1] in " ,;:", "cut inside a word"
    assert clip("short", 100) == "short"


def test_upgrade_pages_are_read_from_the_folder(tmp_path):
    (tmp_path / "upgrade").mkdir()
    for name in ("2.10.5-to-2.11.2.html", "3.2.2-to-3.3.2.html", "notes.txt", "index.html"):
        (tmp_path / "upgrade" / name).write_text("x")
    assert page.upgrades_beside(tmp_path) == {("2.10.5", "2.11.2"), ("3.2.2", "3.3.2")}
    assert page.upgrades_beside(tmp_path / "nowhere") == frozenset()


def _two_release_doc() -> dict:
    columns = [
        Column(v, status="ran", exit_code=1, duration_s=1.0, results=sample_run(v).as_dict())
        for v in ("2.10.5", "3.3.2")
    ]
    return build.build(columns)


def test_picker_links_a_page_that_exists_and_offers_the_command_otherwise():
    doc = _two_release_doc()
    without = build.render_html(doc)
    assert 'id="upgrade-open" hidden' in without and 'id="upgrade-missing" >' in without
    assert "airflow-conformance upgrade 2.10.5 3.3.2" in without
    with_page = build.render_html(doc, frozenset({("2.10.5", "3.3.2")}))
    assert 'href="upgrade/2.10.5-to-3.3.2.html"' in with_page and 'id="upgrade-missing" hidden' in with_page
    assert json.dumps(["2.10.5-to-3.3.2"]) in with_page


def test_render_only_rewrites_the_page_from_the_json_alone(tmp_path):
    shutil.copy(PUBLISHED, tmp_path / "compatibility.json")
    before = (tmp_path / "compatibility.json").read_bytes()
    result = CliRunner().invoke(main, ["matrix", "--render-only", "--report-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "compatibility.json").read_bytes() == before, "--render-only must not touch the evidence"
    assert 'id="checks-matrix"' in (tmp_path / "compatibility.html").read_text(encoding="utf-8")
    assert (
        (tmp_path / "compatibility.md")
        .read_text(encoding="utf-8")
        .startswith("# Airflow REST API compatibility matrix")
    )
    missing = CliRunner().invoke(main, ["matrix", "--render-only", "--report-dir", str(tmp_path / "empty")])
    assert missing.exit_code == 2 and "--render-only needs" in missing.output


def test_render_only_fills_areas_and_notes_of_an_older_json(tmp_path, published):
    older = {k: v for k, v in published.items() if k not in ("areas", "deviation_notes")}
    (tmp_path / "compatibility.json").write_text(json.dumps(older), encoding="utf-8")
    build.rerender(tmp_path)
    text = (tmp_path / "compatibility.html").read_text(encoding="utf-8")
    assert text.count('<tbody class="group" id="checks-') > 5, "checks not grouped by the specs' areas"
    assert "no longer in the deviation data" not in text
