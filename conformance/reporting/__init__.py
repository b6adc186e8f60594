"""Run results and the files written from them (results.json, junit.xml, report.html, summary.md)."""
