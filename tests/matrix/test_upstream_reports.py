"""`deviations report`: a ready-to-file upstream issue for every deviation, from the committed matrix (no Airflow).

The matrix keys its deviations by column label ("3.3.2 · PostgreSQL" included) and its
runs under reports/runs/ hold the recorded, redacted curls. Every entry of the data must
render from that evidence; the expected values are read from the evidence itself, never
written here, so a new entry or a new matrix is covered as it comes.
"""

from __future__ import annotations

import functools
import json
import re

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from conformance import paths
from conformance.expectations import all_deviations
from conformance.local.home import SECRETS_FILE
from conformance.matrix import databases
from conformance.matrix.upstream import gather, read_matrix, report
from tests.harness import REPO_ROOT, cli

MATRIX = REPO_ROOT / "reports" / "compatibility.json"
RUNS = MATRIX.parent / "runs"
DEVIATIONS = all_deviations()
OCCURRED = ("occurs", "excused")


@functools.lru_cache(maxsize=1)
def _matrix() -> dict:
    """The committed matrix, parsed once (tests only read it)."""
    return read_matrix(MATRIX)


def _cells(dev_id: str) -> dict:
    return _matrix()["deviations"].get(dev_id) or {}


def _seen(dev_id: str) -> list[str]:
    return [label for label, cell in _cells(dev_id).items() if any(cell.get(k) for k in OCCURRED)]


def _recorded_curls() -> dict[str, set[str]]:
    """{deviation id: curls the committed evidence recorded for it alone} (replays, and results excused by it only)."""
    out: dict[str, set[str]] = {}
    for folder in RUNS.iterdir():
        replays = json.loads((folder / "deviations.json").read_text()) if (folder / "deviations.json").is_file() else []
        for r in replays:
            if r.get("verdict") == "occurs" and r.get("curl"):
                out.setdefault(r["id"], set()).add(r["curl"])
        results = json.loads((folder / "results.json").read_text()) if (folder / "results.json").is_file() else {}
        for r in results.get("results", []):
            ids = [d["id"] for d in r.get("deviations") or []]
            if r.get("status") == "known_deviation" and r.get("reproduce") and len(ids) == 1:
                out.setdefault(ids[0], set()).add(r["reproduce"])
    return out


# A credential that escaped redaction: an Authorization or Cookie value that is not ***, curl -u, a JWT.
LEAKS = (
    re.compile(r"(?i)authorization:\s*(basic|bearer)\s+(?!\*\*\*)\S"),
    re.compile(r"(?i)cookie:\s*(?!\*\*\*)[^'\s]"),
    re.compile(r"(?:^|\s)-u\s+'?[^'\s:]+:[^'\s]+"),
    re.compile(r"eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}"),
)
# (a JWT is header.payload.signature, both JSON: a DAG file's `file_token` in a path is payload.signature, no credential)


def _local_secrets() -> list[str]:
    """The passwords and keys of this machine's local targets (their homes' credential files), when there are any."""
    found = []
    for file in (paths.cache_dir() / "homes").glob(f"*/{SECRETS_FILE}"):
        data = json.loads(file.read_text(encoding="utf-8"))
        values = [*data.values(), *(data.get("role_passwords") or {}).values()]
        found += [v for v in values if isinstance(v, str) and len(v) >= 8]
    return found


def _leaks(text: str) -> list[str]:
    """What in `text` looks like a credential (pattern names only: a found secret is never repeated)."""
    hits = [rx.pattern[:30] for rx in LEAKS if rx.search(text)]
    return hits + ["a local target's secret"] * any(s in text for s in _local_secrets())


@pytest.mark.parametrize("dev", DEVIATIONS, ids=lambda d: d.id)
def test_every_deviation_renders_from_the_committed_matrix(dev):
    text, evidence = report(dev, _matrix(), MATRIX)
    seen = _seen(dev.id)
    if seen:
        assert sorted(evidence.releases) == sorted(seen), "affected releases are where the matrix saw it"
    else:  # an entry newer than the matrix: its range, said as such
        assert evidence.releases and "compatibility.json never saw it" in text
    assert f"`{dev.failure_class}`" in text and dev.summary in text and dev.response.describe() in text
    assert ", ".join(evidence.releases) in text
    assert ("```sh\ncurl " in text) == (evidence.curl is not None)
    assert "https://github.com/apache/airflow" in text and "## Trigger and negative control" in text
    if dev.trigger:
        assert dev.trigger.describe() in text
    assert (dev.upstream != "unreported") == text.startswith("**Already recorded upstream")
    assert _leaks(text) == []


@pytest.mark.parametrize("dev", DEVIATIONS[:1] + [d for d in DEVIATIONS if d.backend][:1], ids=lambda d: d.id)
def test_without_a_matrix_the_data_range_stands_in_and_says_so(dev, tmp_path):
    text, evidence = report(dev, read_matrix(tmp_path / "compatibility.json"), tmp_path / "compatibility.json")
    assert evidence.releases and evidence.curl is None and "no matrix at" in text
    assert all(databases.split_label(label)[1] == (dev.backend or "sqlite") for label in evidence.releases)
    assert all(Version(databases.split_label(label)[0]) in SpecifierSet(dev.versions) for label in evidence.releases)


def test_postgresql_columns_are_releases_on_postgresql_in_release_then_database_order():
    with_pg = [d for d in DEVIATIONS if any(databases.split_label(lb)[1] == "postgres" for lb in _seen(d.id))]
    assert with_pg, "the committed matrix has PostgreSQL columns"
    for dev in with_pg:
        releases = gather(dev, _matrix(), MATRIX).releases
        order = [(Version(databases.split_label(lb)[0]), databases.split_label(lb)[1] != "sqlite") for lb in releases]
        assert order == sorted(order) and any(" · PostgreSQL" in lb for lb in releases)


def test_a_replay_curl_recorded_on_a_postgresql_column_is_the_reproduction(tmp_path):
    """A replay recorded with its curl (deviations verify --json) in runs/<V>-postgres/ is what the report shows."""
    replay = next(
        r for r in json.loads((RUNS / "3.3.2-postgres" / "deviations.json").read_text()) if r["verdict"] == "occurs"
    )
    curl = next(iter(next(iter(_recorded_curls().values()))))  # a real, redacted curl of the committed evidence
    label = databases.label_of_dir("3.3.2-postgres", "3.3.2")
    matrix = {"deviations": {replay["id"]: {label: {"occurs": [replay["operation"]], "absent": [], "excused": []}}}}
    (tmp_path / "runs" / "3.3.2-postgres").mkdir(parents=True)
    (tmp_path / "runs" / "3.3.2-postgres" / "deviations.json").write_text(json.dumps([{**replay, "curl": curl}]))
    (tmp_path / "compatibility.json").write_text(json.dumps(matrix))
    dev = next(d for d in DEVIATIONS if d.id == replay["id"])
    text, evidence = report(dev, read_matrix(tmp_path / "compatibility.json"), tmp_path / "compatibility.json")
    assert evidence.releases == (label,) and evidence.curl and evidence.curl.column == label
    assert curl in text and "runs/3.3.2-postgres/deviations.json" in text and "Airflow 3.3.2 · PostgreSQL" in text


def test_the_recorded_negative_control_is_shown_beside_the_control_request(tmp_path):
    """A control replay (`control: true` in deviations.json) is reported with its outcome under the control."""
    dev = next(d for d in DEVIATIONS if d.control and _seen(d.id))
    label = _seen(dev.id)[-1]
    curl = next(iter(next(iter(_recorded_curls().values()))))
    op = dev.control[0]["operation"]
    replays = [
        {"id": dev.id, "operation": op, "verdict": "occurs", "detail": "HTTP 500 text/html", "curl": curl},
        {
            "id": dev.id,
            "operation": op,
            "verdict": "control clean",
            "detail": "HTTP 201 application/json",
            "curl": curl.replace("-X ", "-X  "),
            "control": True,
        },
    ]
    folder = tmp_path / "runs" / databases.run_dir_name(label)
    folder.mkdir(parents=True)
    (folder / "deviations.json").write_text(json.dumps(replays))
    (tmp_path / "compatibility.json").write_text(json.dumps({"deviations": {dev.id: {label: _cells(dev.id)[label]}}}))
    text, evidence = report(dev, read_matrix(tmp_path / "compatibility.json"), tmp_path / "compatibility.json")
    assert evidence.curl and evidence.curl.curl == curl, "the reproduction is the replay, never the control"
    assert [c.detail for c in evidence.controls] == ["control clean: HTTP 201 application/json"]
    control_part = text.split("## Trigger and negative control")[1].split("## Expected")[0]
    assert f"operation `{op}`" in control_part and "control clean: HTTP 201 application/json" in control_part
    assert dev.trigger.describe() in control_part if dev.trigger else "not recorded" in control_part


def test_all_writes_one_file_per_deviation_and_an_index_with_the_recorded_curls(tmp_path):
    out = tmp_path / "reports"
    proc = cli("deviations", "report", "--all", "--out", str(out), "--matrix", str(MATRIX), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines() == [proc.stdout.strip()] and str(len(DEVIATIONS)) in proc.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{d.id}.md" for d in DEVIATIONS] + ["index.md"])
    index = (out / "index.md").read_text(encoding="utf-8")
    for dev in DEVIATIONS:
        assert f"[`{dev.id}`]({dev.id}.md) | `{dev.failure_class}`" in index
    recorded = _recorded_curls()
    assert recorded, "the committed evidence records curls"
    for dev_id, curls in recorded.items():
        if dev_id in {d.id for d in DEVIATIONS} and _seen(dev_id):
            assert any(c in (out / f"{dev_id}.md").read_text(encoding="utf-8") for c in curls), dev_id
    assert [f.name for f in out.iterdir() if _leaks(f.read_text(encoding="utf-8"))] == []


def test_the_leak_scan_finds_an_unredacted_curl():
    assert _leaks("curl -H 'Authorization: Bearer abc.def' 'http://x'") and _leaks("curl -u 'admin:pw' http://x")
    assert _leaks("'http://x/?token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLXZhbHVl'")
    assert not _leaks("curl -H 'Authorization: Bearer ***' -H 'Cookie: ***' 'http://x'")


@pytest.mark.parametrize(
    "args, says",
    [
        (("no-such-deviation",), "no deviation 'no-such-deviation'"),
        ((DEVIATIONS[0].id, "--all", "--out", "x"), "not both"),
        (("--all",), "--out DIR"),
    ],
)
def test_bad_invocations_exit_2_with_one_plain_line(args, says):
    proc = cli("deviations", "report", *args, timeout=60)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2 and len(lines) == 1 and says in lines[0] and "Traceback" not in proc.stderr


def test_an_unwritable_out_folder_exits_2_with_one_plain_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    proc = cli("deviations", "report", "--all", "--out", str(blocker / "reports"), timeout=120)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2 and len(lines) == 1 and "cannot write" in lines[0], proc.stderr


def test_the_default_matrix_is_the_committed_one(monkeypatch):
    monkeypatch.chdir(REPO_ROOT)  # the default --matrix is relative: reports/compatibility.json
    dev = next(d for d in DEVIATIONS if any(" · PostgreSQL" in lb for lb in _seen(d.id)))
    proc = cli("deviations", "report", dev.id, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "observed in compatibility.json" in proc.stdout and " · PostgreSQL" in proc.stdout
    assert _leaks(proc.stdout) == []
