"""Refresh the deviation evidence of the matrix: replay every entry on each release, without re-running the suite.

`deviations range` and `deviations lint` judge each entry's version range by the
replays under `reports/runs/<column>/deviations.json`. Replaying is minutes per
release where a whole suite run is most of an hour for the matrix, so when only the
data changed (a new entry, a widened range) this sweep brings the evidence up to
date: per release it starts the local target, replays every entry, stops it again,
and finally re-renders the matrix from the runs on disk (as `matrix --rebuild`).

A target that was already running (someone else's) is used as it is and left running:
the sweep stops only what it started.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conformance.errors import ConformanceError
from conformance.matrix import build, collect, databases


def _running(version: str, database: str):
    """The local target of that release and database already running, if any (never restarted here)."""
    from conformance.local import instance  # noqa: PLC0415
    from conformance.local.target import target_key  # noqa: PLC0415

    key = target_key(version, database)
    return next((t for t in instance.running() if t.key == key and t.ready), None)


def replay_release(
    version: str,
    database: str,
    report_dir: Path,
    say: Callable[[str], None],
    python: str | None = None,
    timeout: float = 900,
) -> tuple[str, int | None]:
    """Replay every entry on one local release into runs/<column>/deviations.json; (column label, pairs or None)."""
    from conformance.local import instance  # noqa: PLC0415

    label = databases.column_label(version, database)
    out = report_dir / "runs" / databases.run_dir_name(label)
    if not (out / "results.json").is_file():
        say(f"Airflow {label}: no run under {out}; its replays would make a column without results, skipped")
        return label, None
    local = _running(version, database)
    started = local is None
    if started:
        try:
            local = instance.start(version, python=python, database=database, progress=say)
        except ConformanceError as exc:
            say(f"Airflow {label}: could not provision, its evidence stays as it was: {exc}")
            return label, None
    else:
        say(f"Airflow {label}: already running at {local.url}: used as it is and left running")
    try:
        say(f"Airflow {label}: replaying every entry of the deviation data")
        replays = collect.replay_deviations(local.url, local.auth_spec, out, timeout=timeout)
    finally:
        if started:
            say(f"Airflow {label}: stopping it (the sweep started it)")
            instance.stop(version, database)
    say(
        f"Airflow {label}: {len(replays)} replayed pair(s) into {out / 'deviations.json'}"
        if replays
        else f"Airflow {label}: the replay gave no outcome; {out / 'deviations.json'} left as it was"
    )
    return label, len(replays) if replays else None


def rebuild(report_dir: Path, say: Callable[[str], None]) -> list[Path]:
    """Re-render compatibility.{json,md,html} from the runs on disk, as `matrix --rebuild` does."""
    columns = collect.load_runs(report_dir, say)
    return build.write(build.build(columns), report_dir) if columns else []
