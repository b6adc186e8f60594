"""report.html and compatibility.html in a real headless Chromium, at 1400 px and at 400 px.

(The matrix page's own workings, on the published matrix: tests/matrix/test_matrix_page_browser.py.)

Rendered from a run built in the test (tests/sample_run.py, with failures), so no
Airflow is needed. Each page is measured (nothing wider than the window), photographed,
and used as a reader would: the verdict and a failure's curl must be on screen, the
filters and status toggles must hide what they say, and every folded detail must open
with a click and with the keyboard. Set ACF_SCREENSHOTS=DIR to keep the screenshots.

Without a browser the module is skipped with the reason, except in CI (CI set), where
.ci/run installs Chromium and a missing browser is a failure.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from conformance.http.redact import Redactor
from conformance.matrix import build
from conformance.matrix.collect import Column
from conformance.reporting.writer import write_all
from tests.sample_run import SECRET, sample_run

WIDTHS = (1400, 400)
VISIBLE = """(function (el) {
  el.scrollIntoView({block: 'center'});
  var r = el.getBoundingClientRect(), hit = document.elementFromPoint(r.left + Math.min(r.width / 2, 20), r.top + r.height / 2);
  return {w: r.width, h: r.height, left: r.left, right: r.right,
          rendered: el.checkVisibility({contentVisibilityAuto: true, opacityProperty: true, visibilityProperty: true}),
          onTop: hit === el || el.contains(hit), text: el.textContent};
})(%s)"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    """report.html of the sample run and compatibility.html of two releases built from it."""
    out = tmp_path_factory.mktemp("browser-reports")
    columns = []
    for version in ("2.10.5", "3.3.2"):
        run = sample_run(version)
        write_all(run, out / "runs" / version, Redactor([SECRET]))
        columns.append(Column(version, status="ran", exit_code=1, duration_s=12.5, results=run.as_dict()))
    build.write(build.build(columns), out)
    return {"report": out / "runs" / "3.3.2" / "report.html", "compatibility": out / "compatibility.html"}


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ["report", "compatibility"])
def test_no_horizontal_overflow_and_a_screenshot(browser, pages, shots, name, width):
    page = browser.open(pages[name].as_uri(), width)
    try:
        assert page.js("window.innerWidth") == width, "the viewport was not emulated"
        path = page.screenshot(shots / f"{name}-{width}.png")  # as a reader first sees it
        assert _png_size(path)[0] == width
        page.assert_fits_the_window()
    finally:
        page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_verdict_and_a_failures_curl_are_on_screen(browser, pages, width):
    page = browser.open(pages["report"].as_uri(), width)
    try:
        for selector, text in (("#verdict", "Not conformant: Airflow 3.3.2"), ("#failure-groups pre.curl", "curl -X")):
            seen = page.js(VISIBLE % f"document.querySelector({selector!r})")
            assert seen["rendered"] and seen["onTop"] and seen["w"] > 0 and seen["h"] > 0, (selector, seen)
            assert 0 <= seen["left"] and seen["right"] <= width, (selector, seen)
            assert seen["text"].startswith(text) or text in seen["text"], seen["text"][:200]
    finally:
        page.close()


def _shown(page, box: str) -> int:
    return page.js(
        f"Array.from(document.querySelectorAll('#{box} [data-statuses]')).filter(function (e) "
        "{ return !e.hidden; }).length"
    )


def test_filters_and_status_toggles_hide_what_they_say(browser, pages):
    page = browser.open(pages["report"].as_uri(), 400)
    try:
        total = _shown(page, "all-checks")
        assert total == 9
        page.click("[data-filter-for=all-checks] input[data-status=failed]")
        assert _shown(page, "all-checks") == total - 3
        assert page.js("document.querySelector('[data-filter-for=all-checks] .shown').textContent") == "6 of 9 shown"
        page.js("document.querySelector('[data-filter-for=failure-groups] input[type=search]').focus()")
        page.type("get_pool")
        assert _shown(page, "failure-groups") == 1  # the schema group holds property.get_pool
        page.js("document.querySelector('[data-filter-for=operations] input[type=search]').focus()")
        page.type("not sent")
        assert _shown(page, "operations") == 1
    finally:
        page.close()


@pytest.mark.parametrize(
    "name, selector",
    [("report", "#deviation-groups > details > summary"), ("compatibility", "ul.changes details > summary")],
)
def test_details_open_by_click_and_by_keyboard(browser, pages, name, selector):
    page = browser.open(pages[name].as_uri(), 400)
    try:
        is_open = f"document.querySelector({selector!r}).parentElement.open"
        assert page.js(is_open) is False
        page.click(selector)
        assert page.js(is_open) is True
        page.click(selector)
        assert page.js(is_open) is False
        page.js(f"document.querySelector({selector!r}).focus()")
        page.press("Enter", 13, "\r")
        assert page.js(is_open) is True
        page.press("Tab", 9)
        assert page.js("document.activeElement.tagName") in ("SUMMARY", "A", "INPUT")
    finally:
        page.close()


def test_compatibility_has_a_legend_a_bar_per_release_and_words_in_every_cell(pages):
    html = pages["compatibility"].read_text()
    assert 'id="legend"' in html and "not applicable to the release" in html
    assert 'aria-label="2.10.5: passed 2, failed 3, known deviation 2, skipped 1, error 1"' in html
    assert 'aria-label="3.3.2: passed 2, failed 3, known deviation 2, skipped 1, error 1"' in html
    assert not any(symbol in html for symbol in ("✅", "❌", "⚠️", "💥")), "emoji need an emoji font"
    cells = html.split('id="checks-matrix"', 1)[1].split("</table>", 1)[0].split('<td class="cell"')[1:]
    assert cells and all('class="badge s-' in cell and "</span>" in cell for cell in cells)
