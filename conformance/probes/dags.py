"""The suite's probe DAG files and how to put them into a DAGs folder.

DAGs cannot be created over the REST API, so scenarios that trigger runs, read
XComs or look for import errors need files deployed next to a target's DAGs.
The probe DAGs are rendered from one template (conformance/probe_dags/) per
Airflow major and DAG id, so the ids, task id, XCom key and marker the
scenarios look for are the constants below and nowhere else; the broken file
ships as it is. On 3.x a third file, the asset probe DAG, consumes two assets of
its own so a local target can hold one queued asset event (conformance/local/fixtures.py).
`up` installs them into local targets, `probe-dags install DIR` into any folder.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jinja2
from packaging.version import InvalidVersion, Version

from conformance import paths
from conformance.errors import ConfigError

PROBE_DAG_ID = "conformance_probe"
DISPOSABLE_DAG_ID = "conformance_probe_disposable"
PROBE_TASK_ID = "echo"
MAPPED_TASK_ID = "mapped"  # 2.x probe DAG on 2.3+: one mapped task instance, map index 0 (no XCom)
XCOM_KEY = "probe"
BROKEN_FILENAME = "conformance_broken.py"
MARKER = "AIRFLOW-CONFORMANCE-PROBE-MARKER"

SOURCE_DIR = paths.PACKAGE_DIR / "probe_dags"
TEMPLATE = "probe_dag.py.j2"
ASSETS_TEMPLATE = "probe_assets.py.j2"
TERMINAL = ("success", "failed")  # run and task states after which a probe run is done

# What each probe DAG is for, as its file's docstring tells whoever finds it in a DAGs folder.
PURPOSES = {
    PROBE_DAG_ID: "the suite's quick probe DAG: scenarios trigger it with a conf and read back its state, "
    "logs and XCom.",
    DISPOSABLE_DAG_ID: f"a twin of {PROBE_DAG_ID} that scenarios may delete over the API; it comes back "
    "when its file is parsed again.",
}


# The asset probe DAG (3.x only). Not one of the run's probe DAGs: the guard lets no run write to it
# (pause, trigger, clear its queue), so the one queued event `up` leaves behind stays for every run to read.
ASSETS_DAG_ID = "conformance_probe_assets"
ASSETS_TASK_ID = "wait"
# name -> URI of its two assets ("x-" URI schemes are kept as written on every 3.x); the first gets the
# queued event, the second never gets one, so the DAG (scheduled on both) is queued but never runs
QUEUED_ASSET = "conformance_probe_queued"
HELD_ASSET = "conformance_probe_held"
ASSETS = {QUEUED_ASSET: "x-conformance://probe/queued", HELD_ASSET: "x-conformance://probe/held"}
ASSETS_PURPOSE = (
    "the suite's asset probe DAG: it waits on two assets, so one event of the first stays queued "
    "for the queued-event reads to find (Airflow 3.0 answers 404 when nothing is queued)."
)


def queued_asset_id(assets: object) -> int | None:
    """The id of the asset probe DAG's first asset among the items of a GET /assets page, or None.

    Name and URI must both match (the list is asked for with `name_pattern`, which matches substrings).
    """
    for item in assets if isinstance(assets, list) else []:
        if (
            isinstance(item, dict)
            and item.get("name") == QUEUED_ASSET
            and item.get("uri") == ASSETS[QUEUED_ASSET]
            and isinstance(item.get("id"), int)
        ):
            return item["id"]
    return None


def unique_logical_date() -> str:
    """A logical date after the probe DAG's start date that no other run is likely to use.

    Random to the microsecond over half a year (about 1.6e13 values), so the dates of one run,
    of runs in parallel and of earlier runs whose objects remain do not meet by chance.
    """
    base = datetime(2023, 1, 1, tzinfo=timezone.utc)
    offset = timedelta(seconds=secrets.randbelow(1 << 24), microseconds=secrets.randbelow(1_000_000))
    return (base + offset).isoformat()


def render(version: str) -> dict[str, bytes]:
    """{file name: content} of the probe DAG files for `version`'s major.

    Rendered in memory so an install can compare with what a folder already holds.
    """
    major = major_of(version)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(SOURCE_DIR),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    try:
        template, assets_template = env.get_template(TEMPLATE), env.get_template(ASSETS_TEMPLATE)
        broken = (SOURCE_DIR / BROKEN_FILENAME).read_bytes()
    except (OSError, jinja2.TemplateNotFound):
        raise ConfigError(f"no probe DAG sources found in {SOURCE_DIR}; the package is incomplete") from None
    files = {BROKEN_FILENAME: broken}
    for dag_id, purpose in PURPOSES.items():
        source = template.render(
            major=major,
            dag_id=dag_id,
            purpose=purpose,
            marker=MARKER,
            task_id=PROBE_TASK_ID,
            xcom_key=XCOM_KEY,
            mapped_task_id=MAPPED_TASK_ID,
        )
        files[f"{dag_id}.py"] = source.encode("utf-8")
    if major == 3:
        source = assets_template.render(
            purpose=ASSETS_PURPOSE,
            dag_id=ASSETS_DAG_ID,
            task_id=ASSETS_TASK_ID,
            queued_asset=QUEUED_ASSET,
            queued_uri=ASSETS[QUEUED_ASSET],
            held_asset=HELD_ASSET,
            held_uri=ASSETS[HELD_ASSET],
        )
        files[f"{ASSETS_DAG_ID}.py"] = source.encode("utf-8")
    return dict(sorted(files.items()))


def install(dest_dir: str | Path, version: str) -> list[Path]:
    """Write the probe DAG files for `version` into an existing folder.

    Files whose content is already there are left untouched so the DAG processor
    does not re-parse them for nothing.
    """
    dest = Path(dest_dir)
    if not dest.is_dir():
        raise ConfigError(f"DAGs folder {dest} does not exist; create it or pass the deployment's DAGs folder")
    written: list[Path] = []
    for name, content in render(version).items():
        target = dest / name
        if not (target.is_file() and target.read_bytes() == content):
            target.write_bytes(content)
        written.append(target)
    return written


def major_of(version: str) -> int:
    """Major of a version string (2 or 3), or ConfigError: used by probe-DAG installs."""
    try:
        major = Version(version).major
    except InvalidVersion:
        raise ConfigError(f"'{version}' is not an Airflow version (expected e.g. 3.3.2)") from None
    if major not in (2, 3):
        raise ConfigError(f"Airflow {version}: only Airflow 2.x and 3.x are supported")
    return major
