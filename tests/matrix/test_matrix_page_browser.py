"""The published compatibility matrix page in a real headless Chromium, at 1366x800 and 400x800 (issue #24).

The page is rendered afresh from the published reports/compatibility.json (the real
18 columns and 300-odd checks, not a toy), with one upgrade page beside it. Every
expectation is computed from that json, never written down, so the tests follow the
data: the page must stay under 15,000 px at 1366 px with its groups closed, show
nothing past the right edge on a phone, keep its column and row headers in view while
the grid scrolls, keep every badge inside its cell, meet WCAG AA contrast, and give a
keyboard user every message a tooltip or a folded cell holds. The screenshots
(matrix-*.png) go to $ACF_SCREENSHOTS, which CI keeps.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conformance.matrix import areas, build, page
from tests.browser import PAST_RIGHT_EDGE, Page

WIDE, PHONE, TALL = 1366, 400, 800
MAX_HEIGHT = 15_000  # px at 1366 wide, groups and details closed (issue #24)
PUBLISHED = Path(__file__).resolve().parents[2] / "reports" / "compatibility.json"
OPEN_ALL = (
    "document.querySelectorAll('tbody.group').forEach(function (g) { g.classList.add('open'); });"
    "document.querySelectorAll('details').forEach(function (d) { d.open = true; })"
)
ANY_PAST_RIGHT_EDGE = """Array.from(document.querySelectorAll('body *')).filter(function (e) {
  return e.getBoundingClientRect().right > window.innerWidth + 1; }).slice(0, 5).map(function (e) {
  return e.tagName + '.' + e.className + ' ' + (e.textContent || '').slice(0, 60); })"""
SHOWN = "(function (e) { return !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden'; })"


@pytest.fixture(scope="module")
def matrix(tmp_path_factory) -> dict:
    """compatibility.html rendered from the published json by `matrix --render-only`'s path, with the upgrade
    page of its newest pair beside it; the json and that pair for the expectations."""
    out = tmp_path_factory.mktemp("published-matrix")
    shutil.copy(PUBLISHED, out / "compatibility.json")
    doc = json.loads(PUBLISHED.read_text(encoding="utf-8"))
    choices = page.upgrade_choices([v["version"] for v in doc["versions"]])
    pair = (choices[-2], choices[-1])
    (out / page.UPGRADE_DIR).mkdir()
    (out / page.upgrade_page(*pair)).write_text("<!doctype html><title>upgrade</title><h1>upgrade</h1>\n")
    build.rerender(out)
    return {"uri": (out / "compatibility.html").as_uri(), "doc": doc, "pair": pair, "choices": choices}


def _open(browser, matrix, width):
    return browser.open(matrix["uri"], width, TALL)


@pytest.fixture(scope="module")
def read_only(browser, matrix) -> Iterator[Callable[..., Page]]:
    """`read_only(width, unfolded=False)`: the page at that width as opened, or with every group and detail open,
    opened once for all the tests that only read it. The page is 2.6 MB: opening it takes a second or two and laying
    it out unfolded several more, while reading it (measures, screenshots, computed styles) changes nothing."""
    pages: dict[tuple[int, bool], Page] = {}

    def view(width: int, unfolded: bool = False) -> Page:
        if (width, unfolded) not in pages:
            pages[width, unfolded] = _open(browser, matrix, width)
            if unfolded:
                pages[width, unfolded].js(OPEN_ALL)
        return pages[width, unfolded]

    yield view
    for opened in pages.values():
        opened.close()


def test_height_at_1366_nothing_past_the_right_edge_and_screenshots(read_only, shots):
    for width in (WIDE, PHONE):
        opened = read_only(width)
        height = opened.js("document.documentElement.scrollHeight")
        opened.screenshot(shots / f"matrix-{width}.png", max_height=6000)
        if width == WIDE:
            assert height <= MAX_HEIGHT, f"{height} px tall at {WIDE} px with every group closed"
        for state, view in (("as opened", opened), ("every group and detail open", read_only(width, unfolded=True))):
            assert view.js("document.documentElement.scrollWidth") <= width, state
            assert view.js(PAST_RIGHT_EDGE) == [], state
            if width == PHONE:  # on a phone the grids do not scroll sideways either: nothing at all sticks out
                assert view.js(ANY_PAST_RIGHT_EDGE) == [], state


def test_groups_start_closed_and_count_their_rows(read_only, matrix):
    """Every group opens closed, says how many rows it holds, and holds the checks of its API area."""
    doc = matrix["doc"]
    expected: dict[str, int] = {}
    for cid, row in doc["checks"].items():
        area = areas.check_area(cid, row.get("operations") or [], doc.get("areas") or {})
        expected[area] = expected.get(area, 0) + 1
    view = read_only(WIDE)
    shown_rows = view.js(f"Array.from(document.querySelectorAll('tr.row')).filter({SHOWN}).length")
    clients = len(doc.get("clients") or {})  # the clients grid has no groups: its rows show
    assert shown_rows == clients
    groups = view.js("""Array.from(document.querySelectorAll('#checks-matrix tbody.group')).map(function (g) {
      return [g.querySelector('.area').textContent, g.querySelector('.count').textContent,
              g.querySelectorAll('tr.row').length, g.querySelector('button').getAttribute('aria-expanded')]; })""")
    assert {area: rows for area, _, rows, _ in groups} == expected
    for area, count, rows, expanded in groups:
        assert int(count.split()[0]) == rows and expanded == "false", (area, count)


def test_headers_stay_in_view_while_the_grid_scrolls(browser, matrix, shots):
    view = _open(browser, matrix, WIDE)
    try:
        biggest = view.js("""Array.from(document.querySelectorAll('#checks-matrix tbody.group')).sort(function (a, b) {
          return b.querySelectorAll('tr.row').length - a.querySelectorAll('tr.row').length; })[0].id""")
        view.click(f"#{biggest} tr.group-head button")
        wrap = "document.querySelector('#checks-matrix').closest('.gridwrap')"
        room = view.js(
            f"(function (w) {{ w.scrollIntoView(); return [w.scrollHeight - w.clientHeight, "
            f"w.scrollWidth - w.clientWidth]; }})({wrap})"
        )
        assert room[0] > 400 and room[1] > 300, f"the grid does not scroll both ways ({room}): nothing to prove"
        # scroll the grid (not the page) down to the middle of the open group's rows, and to the right
        moved = view.js(f"""(function (w) {{
          var rows = w.querySelectorAll('#{biggest} tr.row'), row = rows[Math.floor(rows.length / 2)];
          w.scrollTop += row.getBoundingClientRect().top - w.getBoundingClientRect().top - w.clientHeight / 2;
          w.scrollLeft = 300; return [w.scrollTop, w.scrollLeft]; }})({wrap})""")
        assert moved[0] > 200 and moved[1] == 300, moved
        seen = view.js(f"""(function (w) {{
          var box = w.getBoundingClientRect(), top = box.top + w.clientTop, left = box.left + w.clientLeft;
          function at(e) {{ var r = e.getBoundingClientRect(), hit = document.elementFromPoint(r.left + 4, r.top + r.height / 2);
                           return {{top: r.top, left: r.left, onTop: e === hit || e.contains(hit)}}; }}
          var corner = w.querySelector('thead th.corner').getBoundingClientRect();
          var heads = Array.from(w.querySelectorAll('thead th[data-col]')).filter(function (th) {{
            var r = th.getBoundingClientRect(); return r.left >= corner.right && r.right <= box.right; }});
          var rows = Array.from(w.querySelectorAll('tbody.open tr.row th')).filter(function (th) {{
            var r = th.getBoundingClientRect(); return r.top > top + 60 && r.bottom < box.bottom - 10; }});
          return {{top: top, left: left, corner: at(w.querySelector('thead th.corner')), column: heads.length ? at(heads[0]) : null,
                   row: rows.length ? at(rows[0]) : null}};
        }})({wrap})""")
        view.screenshot(shots / f"matrix-{WIDE}-grid-scrolled.png", max_height=TALL, top=int(view.js("window.scrollY")))
        for name in ("corner", "column"):
            assert seen[name] and abs(seen[name]["top"] - seen["top"]) <= 1 and seen[name]["onTop"], (name, seen)
        for name in ("corner", "row"):
            assert seen[name] and abs(seen[name]["left"] - seen["left"]) <= 1 and seen[name]["onTop"], (name, seen)
    finally:
        view.close()


def test_badges_stay_inside_their_cells(read_only):
    view = read_only(WIDE, unfolded=True)
    outside = view.js("""Array.from(document.querySelectorAll('.mx td .badge')).filter(function (b) {
      var r = b.getBoundingClientRect(), c = b.closest('td').getBoundingClientRect();
      return r.width > 0 && (r.right > c.right + 0.5 || r.left < c.left - 0.5); }).slice(0, 5).map(function (b) {
      return b.closest('td').getAttribute('data-label') + ': ' + b.textContent; })""")
    assert outside == []


CONTRAST = """(function () {
  function rgba(text) { var m = text.match(/[\\d.]+/g) || [0, 0, 0, 0]; return [+m[0], +m[1], +m[2], m.length > 3 ? +m[3] : 1]; }
  function lum(c) { var v = c.slice(0, 3).map(function (x) { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
                    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; }
  function background(e) { for (; e; e = e.parentElement) { var c = rgba(getComputedStyle(e).backgroundColor); if (c[3] > 0) { return c; } }
                           return [255, 255, 255, 1]; }
  var low = [];
  document.querySelectorAll('body *').forEach(function (e) {
    var own = Array.from(e.childNodes).some(function (n) { return n.nodeType === 3 && n.textContent.trim(); });
    if (!own || !e.getClientRects().length || e.closest('svg, script, style')) { return; }
    var s = getComputedStyle(e), fg = rgba(s.color), bg = background(e);
    if (fg[3] < 1) { fg = [0, 1, 2].map(function (i) { return fg[i] * fg[3] + bg[i] * (1 - fg[3]); }).concat([1]); }
    var a = lum(fg), b = lum(bg), ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    var large = parseFloat(s.fontSize) >= 24 || (parseFloat(s.fontSize) >= 18.66 && +s.fontWeight >= 700);
    if (ratio < (large ? 3 : 4.5)) { low.push(e.tagName + '.' + e.className + ' ' + ratio.toFixed(2) + ' ' + s.color + ' on ' + bg + ': ' + e.textContent.trim().slice(0, 40)); }
  });
  return low.slice(0, 8);
})()"""


@pytest.mark.parametrize("width", (WIDE, PHONE))
def test_text_meets_wcag_aa_contrast(read_only, width):
    assert read_only(width, unfolded=True).js(CONTRAST) == []


def _words(text: str) -> str:
    return " ".join(re.findall(r"[\w./]+", text.lower()))


def test_every_tooltip_and_folded_message_is_reachable_by_keyboard(browser, matrix, read_only):
    # a tooltip's text (title attribute, SVG <title>) must also be text a keyboard reaches: on the page once
    # every group and fold is open (both open with Enter, below), or the accessible name of its figure
    view = read_only(WIDE, unfolded=True)
    page_text = _words(
        view.js(
            "document.body.innerText + ' ' + Array.from(document.querySelectorAll('[aria-label]'))"
            ".map(function (e) { return e.getAttribute('aria-label'); }).join(' ')"
        )
    )
    tips = view.js(
        "Array.from(document.querySelectorAll('[title]')).map(function (e) { return e.getAttribute('title'); })"
        ".concat(Array.from(document.querySelectorAll('svg title')).map(function (t) { return t.textContent; }))"
    )
    assert [t for t in tips if _words(t) not in page_text] == []
    view = _open(browser, matrix, WIDE)
    try:  # a keyboard user: Enter on a group opens it, Tab reaches a folded cell, Enter opens its message
        group = view.js("""(function () {
          var g = Array.from(document.querySelectorAll('#checks-matrix tbody.group')).filter(function (g) {
            return g.querySelector('tr.row td details'); })[0];
          g.querySelector('tr.group-head button').focus(); return g.id; })()""")
        view.press("Enter", 13, "\r")
        assert (
            view.js(f"document.querySelector('#{group} tr.group-head button').getAttribute('aria-expanded')") == "true"
        )
        for _ in range(400):
            view.press("Tab", 9)
            if view.js("document.activeElement.tagName") == "SUMMARY":
                break
        assert view.js("document.activeElement.tagName") == "SUMMARY", "Tab never reached a folded cell"
        assert view.js(f"document.querySelector('#{group}').contains(document.activeElement)")
        view.press("Enter", 13, "\r")
        message = view.js(
            f"(function (d) {{ return d.open && {SHOWN}(d.querySelector('p')) ? d.querySelector('p').innerText : ''; }})"
            "(document.activeElement.parentElement)"
        )
        assert message.strip(), "Enter did not show the cell's message"
    finally:
        view.close()


# the check rows the filters leave (a closed group's rows count: it says how many it holds)
UNFILTERED = "Array.from(document.querySelectorAll('#checks-matrix tr.row')).filter(function (r) { return !r.hidden; })"


def _differing(doc: dict, a: str, b: str) -> list[str]:
    return [cid for cid, row in doc["checks"].items() if row["cells"][a]["status"] != row["cells"][b]["status"]]


def test_release_picker_and_where_they_differ(browser, matrix):
    doc, (a, b) = matrix["doc"], matrix["pair"]
    differ = _differing(doc, a, b)
    view = _open(browser, matrix, WIDE)
    try:
        view.click("#upgrade-compare")  # the chosen pair, side by side, only where they differ
        heads = view.js(
            f"Array.from(document.querySelectorAll('#checks-matrix thead th[data-col]')).filter({SHOWN})"
            ".map(function (th) { return th.textContent; })"
        )
        assert heads == [a, b]
        rows = view.js(f"{UNFILTERED}.map(function (r) {{ return r.querySelector('code').textContent; }})")
        assert sorted(rows) == sorted(differ)
        groups = view.js(
            "Array.from(document.querySelectorAll('#checks-matrix tbody.group')).filter(function (g) { return !g.hidden; }).length"
        )
        assert groups == len(
            {areas.check_area(c, doc["checks"][c].get("operations") or [], doc.get("areas") or {}) for c in differ}
        )
        assert view.js("location.hash") == f"#compare={a},{b}"
    finally:
        view.close()
    view = browser.open(f"{matrix['uri']}#compare={a},{b}", WIDE, TALL)  # the address of that view, shared
    try:
        assert view.js(f"{UNFILTERED}.length") == len(differ)
        assert view.js(
            "[document.getElementById('upgrade-from').value, document.getElementById('upgrade-to').value]"
        ) == [a, b]
        view.click("#only-differ")
        assert view.js("document.querySelectorAll('#checks-matrix tr.row[hidden]').length") == 0
        view.click("[data-pick=all]")
        shown = view.js(
            f"Array.from(document.querySelectorAll('#checks-matrix thead th[data-col]')).filter({SHOWN}).length"
        )
        assert shown == len(doc["versions"])
        first = doc["versions"][0]["version"]
        view.click("[data-pick-col='0']")
        assert view.js(f"{SHOWN}(document.querySelector('#operations-matrix td[data-col=\"0\"]'))") is False, first
        assert view.js("document.getElementById('columns-shown').textContent").startswith(
            f"{len(doc['versions']) - 1} of "
        )
    finally:
        view.close()


def test_upgrade_picker_opens_the_page_or_offers_the_command(browser, matrix):
    (a, b), choices = matrix["pair"], matrix["choices"]
    view = _open(browser, matrix, PHONE)
    try:
        assert view.js(f"{SHOWN}(document.getElementById('upgrade-open'))") is True
        assert view.js(f"{SHOWN}(document.getElementById('upgrade-missing'))") is False
        view.js(
            f"(function (s) {{ s.value = {choices[0]!r}; s.dispatchEvent(new Event('change')); }})"
            "(document.getElementById('upgrade-from'))"
        )
        assert view.js(f"{SHOWN}(document.getElementById('upgrade-open'))") is False
        assert (
            view.js("document.getElementById('upgrade-command').textContent")
            == f"airflow-conformance upgrade {choices[0]} {b}"
        )
        view.click("#upgrade-copy")
        said = ""
        for _ in range(50):  # the clipboard answers asynchronously
            said = view.js("document.getElementById('upgrade-copied').textContent")
            if said:
                break
            time.sleep(0.05)
        assert said, "the copy button said nothing"
        if said != "copied":  # no clipboard here: the command is selected for Ctrl+C instead
            assert view.js("window.getSelection().toString()") == f"airflow-conformance upgrade {choices[0]} {b}", said
        view.js(
            f"(function (s) {{ s.value = {a!r}; s.dispatchEvent(new Event('change')); }})"
            "(document.getElementById('upgrade-from'))"
        )
        view.click("#upgrade-link")
        view.browser.wait_event("Page.loadEventFired", view.session)
        assert view.js("location.href").endswith(f"/upgrade/{a}-to-{b}.html")
    finally:
        view.close()
