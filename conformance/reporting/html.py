"""report.html: one self-contained file (inline CSS/JS, no network), rendered with jinja2."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

_env = Environment(loader=PackageLoader("conformance.reporting", "templates"), autoescape=select_autoescape(["html"]))


def render_html(data: dict) -> str:
    results = data["results"]
    groups = {
        "failures": [r for r in results if r["status"] in ("failed", "error")],
        "known": [r for r in results if r["status"] == "known_deviation"],
        "passed": [r for r in results if r["status"] == "passed"],
        "skipped": [r for r in results if r["status"] == "skipped"],
    }
    return _env.get_template("report.html.j2").render(data=data, groups=groups)
