"""Monitoring: import errors of the broken probe file."""

from __future__ import annotations

from conformance.checks.metadata import scenario
from conformance.http.paging import list_all
from conformance.probes.dags import BROKEN_FILENAME


def _broken(api, verdict) -> list[dict]:
    """The import errors of the broken probe file, read through every page (a paging fault is a violation)."""
    listing = list_all(api, "/importErrors", "import_errors", ident="import_error_id")
    verdict.that(not listing.problem, f"listing GET /importErrors: {listing.problem}", resp=listing.response)
    return [e for e in listing.items if isinstance(e, dict) and str(e.get("filename", "")).endswith(BROKEN_FILENAME)]


@scenario(
    "import_errors.broken_probe_listed",
    "The broken probe file is listed as an import error",
    "GET /importErrors MUST list a DAG file that failed to import, with filename, timestamp and stack trace.",
    operations=["get_import_errors"],
    needs=["probe_dags"],
)
def test_listed(api, verdict, expect):
    resp = api.call("GET", "/importErrors")
    verdict.status(resp, 200, "GET /importErrors")
    verdict.schema(resp, "GET /importErrors")
    found = _broken(api, verdict)
    if not verdict.that(bool(found), f"no import error for {BROKEN_FILENAME}"):
        return
    missing = [k for k in expect["fields"] if k not in found[0]]
    verdict.that(not missing, f"import error lacks {missing}")
    verdict.that(
        "deliberately broken" in found[0].get("stack_trace", ""), "stack trace does not show the import failure"
    )


@scenario(
    "import_errors.by_id",
    "An import error reads back by id; an unknown id is 404",
    "GET /importErrors/{id} MUST return a listed import error and 404 for an unknown id.",
    operations=["get_import_error"],
    needs=["probe_dags"],
)
def test_by_id(api, verdict):
    found = _broken(api, verdict)
    if not verdict.that(bool(found), f"no import error for {BROKEN_FILENAME}"):
        return
    ident = found[0]["import_error_id"]
    resp = api.call("GET", f"/importErrors/{ident}")
    verdict.status(resp, 200, "GET /importErrors/{id}")
    verdict.that(resp.json().get("import_error_id") == ident, "by-id returns another import error")
    verdict.schema(resp, "GET /importErrors/{id}")
    verdict.status(api.call("GET", "/importErrors/987654321"), 404, "GET an unknown import error id")
