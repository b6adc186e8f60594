"""The documentation holds together (no Airflow: the fast layer).

README.md is the front door: at most 12 KB, opening with the two commands (the main job and the
fast tests), and ending in a map that links every page of docs/. Every relative link of the
README, ARCHITECTURE.md, CONTRIBUTING.md and docs/*.md reaches a file, and an anchor a heading
of that file; the CI example the README shows is the workflow shipped in .ci/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
DOCUMENTS = [README, ROOT / "ARCHITECTURE.md", ROOT / "CONTRIBUTING.md", *PAGES]
README_MAX_BYTES = 12 * 1024

FENCE = re.compile(r"^```.*?^```[ \t]*$", re.S | re.M)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]\n]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.M)


def _prose(text: str) -> str:
    """The text without fenced blocks and code spans, where a `[x](y)` is not a link."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped (backticks too), spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading anchors by its text
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    anchors = set()
    for heading in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        slug = _slug(heading)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _relative_links(path: Path) -> list[str]:
    targets = LINK.findall(_prose(path.read_text(encoding="utf-8")))
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.I)]  # http:, https:, mailto:


def test_readme_is_at_most_12_kib():
    size = len(README.read_bytes())
    assert size <= README_MAX_BYTES, f"README.md is {size} bytes; move detail into docs/ (limit {README_MAX_BYTES})"


def test_readme_opens_with_the_two_commands():
    text = README.read_text(encoding="utf-8")
    match = re.match(r"# [^\n]+\n+```bash\n(.*?)\n```\n(.*?)\n\n", text, re.S)
    assert match, "README.md must open with its title and then a fenced bash block"
    lines = match.group(1).splitlines()
    assert len(lines) == 2, lines
    job, tests = (line.split("#", 1) for line in lines)
    assert job[0].strip() == "pip install . && airflow-conformance run"
    assert tests[0].strip() == "pip install -e '.[test]' && pytest"
    assert "fast layer" in tests[1] and "no Airflow" in tests[1]
    under = match.group(2)
    assert "`pytest -m airflow`" in under and "2.10.5 and 3.3.2" in under and ".ci/run" in under


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(path):
    broken = []
    for target in _relative_links(path):
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target}: no file {linked.relative_to(ROOT) if linked.is_relative_to(ROOT) else linked}")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target}: no heading with anchor #{anchor} in {linked.relative_to(ROOT)}")
    assert broken == []


def test_every_docs_page_is_in_the_readme_map():
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in _relative_links(README)}
    assert [p.name for p in PAGES if p.resolve() not in linked] == []
    assert (ROOT / "ARCHITECTURE.md").resolve() in linked and (ROOT / "CONTRIBUTING.md").resolve() in linked


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_every_docs_page_opens_with_a_title_and_what_it_holds(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) > 2 and re.match(r"# \S", lines[0]), lines[:1]
    assert lines[1].strip() and not lines[1].startswith(("#", "|", "-", "`")), lines[1]


@pytest.mark.parametrize("path", [README, ROOT / "docs" / "staging-and-ci.md"], ids=lambda p: p.name)
def test_the_ci_example_is_the_shipped_workflow(path):
    blocks = re.findall(r"^```yaml\n(.*?)^```", path.read_text(encoding="utf-8"), re.S | re.M)
    assert len(blocks) == 1
    shipped = yaml.safe_load((ROOT / ".ci" / "conformance.github.yml").read_text(encoding="utf-8"))
    assert yaml.safe_load(blocks[0]) == shipped
