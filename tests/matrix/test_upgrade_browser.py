"""The upgrade page in a real headless Chromium, used for the task it exists for.

Scripted task: "2.10.5 → 3.3.2: which operations disappear?". A reader opens the page rendered from the
recorded matrix runs (reports/runs/) on a laptop (1366×800) and a phone (400×800) and must find the answer
on the first screen, without scrolling: the removed-operations item is inside the window and names every
operation the 3.3.2 spec no longer has (read from the two specs here, not from the page's code). Nothing is
wider than the window, every evidence link lands on its section, and ACF_SCREENSHOTS=DIR keeps the first
screens (CI keeps them as artifacts). Skipped without a browser, except in CI (see
tests/reporting/test_report_browser.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.matrix import upgrade_pages, upgrade_report
from conformance.specs import catalog

REPORTS = Path(__file__).resolve().parents[2] / "reports"
SCREENS = ((1366, 800), (400, 800))


@pytest.fixture(scope="module")
def page_file(tmp_path_factory) -> Path:
    doc = upgrade_pages.document("2.10.5", "3.3.2", REPORTS)
    return upgrade_report.write(doc, tmp_path_factory.mktemp("upgrade"), ("html",))[0]


def _disappeared() -> list[str]:
    """The 2.10.5 operations on users, roles and permissions, none of which 3.3.2 has under any path."""
    after = catalog.operations(catalog.load_spec("3.3.2"))
    assert not [op for op in after if re.search(r"/(users|roles|permissions)\b", op.path)]
    return [
        op.operation_id
        for op in catalog.operations(catalog.load_spec("2.10.5"))
        if re.search(r"/(users|roles|permissions)\b", op.path)
    ]


@pytest.mark.parametrize(("width", "height"), SCREENS)
def test_which_operations_disappear_is_answered_on_the_first_screen(browser, page_file, shots, width, height):
    page = browser.open(page_file.as_uri(), width, height)
    try:
        assert page.js("window.innerWidth") == width and page.js("window.innerHeight") == height
        page.screenshot(shots / f"upgrade-2.10.5-to-3.3.2-{width}x{height}.png", max_height=height)
        box = page.js("""(function (e) { var r = e.getBoundingClientRect();
            return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, text: e.textContent,
                    shown: e.checkVisibility({visibilityProperty: true})}; })(document.getElementById('h-removed'))""")
        assert box["shown"] and box["top"] >= 0 and box["bottom"] <= height, box  # no scrolling needed
        assert box["left"] >= 0 and box["right"] <= width, box
        assert "Operations removed" in box["text"]
        for op in _disappeared():
            assert op in box["text"], op
    finally:
        page.close()


@pytest.mark.parametrize(("width", "height"), SCREENS)
def test_nothing_is_wider_than_the_window_and_every_evidence_link_lands(browser, page_file, width, height):
    page = browser.open(page_file.as_uri(), width, height)
    try:
        page.assert_fits_the_window()
        missing = page.js("""Array.from(document.querySelectorAll('a[href^="#"]')).map(function (a) {
            return a.getAttribute('href').slice(1); }).filter(function (id) { return !document.getElementById(id); })""")
        assert missing == []
        assert page.js("document.querySelectorAll('#headline > li').length") >= 8
    finally:
        page.close()
