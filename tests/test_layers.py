"""The package's structure: dependencies point one way, and functions stay small (the fast layer).

Every `import conformance...` in the package (also those inside functions) is
read with `ast`. Two rules: no module imports, directly or through others, a
module that imports it back; and each part of the package imports only parts
listed in the same or an earlier layer below. `python -m pytest tests/test_layers.py -q`
prints the offending import when either breaks. The project's tests keep the package's
folders: tests/safety/ for conformance/safety/, and so on (tests/system/ aside).
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "conformance"

# From the bottom up; a part may import parts of its own layer and of the layers before it.
LAYERS = (
    (
        "__init__",
        "errors",
        "paths",
        "options",
        "generation",
        "progress",
    ),  # what every part may use (the package face: its version)
    ("model",),  # the domain vocabulary: owned resource kinds, statuses, kinds, profiles, classes, reason codes
    ("target",),  # which Airflow answers, with which credentials
    ("http",),  # sending: session, retries, rate, interrupts, redaction, routing, paging
    ("probes", "specs", "local"),  # the probe DAGs, reference specs, real local releases
    ("safety",),  # guard, ledger, cleanup: what a request may touch
    ("checks",),  # response checks, schema validation, how a check declares itself
    ("expectations",),  # per-version expectations and known deviations
    ("clients",),  # official API clients: their releases, venvs, and their reading of recorded answers
    ("verdict", "context"),  # how a check states its verdict; what a check may use of the run
    ("tiers", "replay"),  # the parts that send checks' requests: the tiers; the replay of recorded deviations
    ("reporting",),  # results.json and the reports
    ("run",),  # one run: context, pytest plugin, selection, outcomes
    ("matrix",),  # runs across releases
    ("plugin", "cli", "__main__"),  # the entry points
)
DAG_FILES = PACKAGE / "probe_dags"  # files for Airflow's DAG folder, never imported by the suite
RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def _tree(path: Path) -> ast.Module:
    """A module of the package, parsed once: parsing all of it takes a second or more, and four tests read it."""
    return ast.parse(path.read_text(encoding="utf-8"))


def _imports(path: Path, known: set[str]) -> set[str]:
    """The package modules `path` imports (a `from x import name` of a submodule counts as that submodule)."""
    found = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "conformance"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "conformance":
            subs = {f"{node.module}.{a.name}" for a in node.names} & known
            found |= subs or {node.module}
    return {m for m in found if m in known}


@functools.cache
def _graph() -> dict[str, set[str]]:
    """Which package modules each module imports (built once; the tests only read it)."""
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py") if DAG_FILES not in p.parents}
    return {name: _imports(path, set(files)) - {name} for name, path in files.items()}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_part_of_the_package_has_a_layer():
    assert {_part(m) for m in _graph()} - set(RANK) == set()


def test_imports_point_down_the_layers():
    upward = [
        f"{src} imports {dst}" for src, dsts in _graph().items() for dst in dsts if RANK[_part(dst)] > RANK[_part(src)]
    ]
    assert upward == []


def _cycles(graph: dict[str, set[str]]) -> list[str]:
    """Each import cycle found by a depth-first walk, as `a -> b -> a`."""
    state: dict[str, str] = {}
    cycles: list[str] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join([*path[path.index(nxt) :], node, nxt] if nxt in path else [node, nxt]))
            elif nxt not in state:
                visit(nxt, [*path, node])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    return cycles


def _tier(module: str) -> str | None:
    """The tier package a module belongs to (`conformance.tiers.<tier>.x`), None for the tiers' own shared modules."""
    parts = module.split(".")
    return parts[2] if len(parts) > 3 and parts[1] == "tiers" else None


SHARED_TIER_PARTS = ("shared",)  # conformance/tiers/shared/: what more than one tier uses


def test_a_tier_imports_no_other_tiers_modules():
    """A tier reaches what tiers share through `conformance.tiers.shared` (and the tiers' root modules), never
    through another tier's internals."""
    crossing = [
        f"{src} imports {dst}"
        for src, dsts in _graph().items()
        for dst in dsts
        if _tier(src) and _tier(dst) and _tier(dst) not in (_tier(src), *SHARED_TIER_PARTS)
    ]
    assert crossing == []


def test_no_import_cycle_between_modules():
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a -> b -> c -> a"]
    assert _cycles({"a": {"b"}, "b": set()}) == []


# a longer function does several jobs; data tables are module constants, not functions. Counted in statements
# (nested ones included), not lines: the formatter lays one call out over as many lines as it has arguments,
# so a line count would follow the layout, not the work a function does
MAX_FUNCTION_STATEMENTS = 60


def _statements(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    return sum(isinstance(node, ast.stmt) for node in ast.walk(function)) - 1  # the def itself is not counted


def test_no_function_in_the_package_holds_more_than_sixty_statements():
    long = []
    for path in PACKAGE.rglob("*.py"):
        if DAG_FILES in path.parents:
            continue
        for node in ast.walk(_tree(path)):
            if (
                isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                and _statements(node) > MAX_FUNCTION_STATEMENTS
            ):
                long.append(
                    f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name} ({_statements(node)} statements)"
                )
    assert long == []


def test_the_statement_count_sees_nested_statements():
    tree = ast.parse(
        "def f():\n    if x:\n        a = 1\n        b = call(\n            1,\n            2,\n        )\n    return a\n"
    )
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef) and _statements(function) == 4


TESTS = Path(__file__).resolve().parent
OWN_TEST_FOLDERS = ("system",)  # tests/system/: end-to-end tests of the whole suite that belong to no one part


def test_the_tests_mirror_the_package():
    """Every folder of tests/ holding test modules is a folder of the package (or tests/system/), is a package
    itself, and no two test modules share a name (docs/testing.md, "Where a test goes")."""
    modules = sorted(TESTS.rglob("test_*.py"))
    folders = {p.parent.relative_to(TESTS) for p in modules} - {Path(".")}
    stray = [str(f) for f in sorted(folders) if f.parts[0] not in OWN_TEST_FOLDERS and not (PACKAGE / f).is_dir()]
    no_init = [
        str(d.relative_to(TESTS))
        for f in folders
        for d in (TESTS / f, *(TESTS / f).parents)
        if d.is_relative_to(TESTS) and d != TESTS and not (d / "__init__.py").is_file()
    ]
    names = [p.name for p in modules]
    assert (stray, sorted(set(no_init)), sorted({n for n in names if names.count(n) > 1})) == ([], [], [])
