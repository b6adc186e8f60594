"""Everything about a run's input that can be decided before the first request.

Both routes (`airflow-conformance run` and `pytest --pyargs conformance`) call
`check` first: a bad `-k`, a malformed target URL or a folder the run could not
write is then one line and exit 2, with no request to the target, no local
Airflow provisioned, and no report of an earlier run overwritten.
"""

from __future__ import annotations

from pathlib import Path

from conformance.errors import ConfigError
from conformance.options import RunOptions
from conformance.reporting.outputs import ensure_writable, reason
from conformance.run.keyword import check_keyword
from conformance.target.detect import normalize_url


def check(options: RunOptions, keyword: str | None = None, report_flag: str = "--report-dir") -> None:
    """ConfigError for the first input defect found; `keyword` is the `-k` expression (the CLI's or pytest's own)."""
    check_keyword(keyword if keyword is not None else options.keyword)
    if options.url is not None:
        normalize_url(options.url)
    ensure_writable(Path(options.report_dir), report_flag)
    ensure_writable(_ledger_folder(), "the cache folder for the run's ledger (AIRFLOW_CONFORMANCE_CACHE)")


def _ledger_folder() -> Path:
    """Where the ledger of created objects goes: without it a sandbox run could not promise its cleanup."""
    from conformance.safety.ledger import ledger_dir  # noqa: PLC0415

    try:
        return ledger_dir()
    except OSError as exc:
        raise ConfigError(f"the cache folder (AIRFLOW_CONFORMANCE_CACHE) cannot be created ({reason(exc)})") from None
