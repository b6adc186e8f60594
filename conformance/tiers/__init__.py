"""The tiers of checks a run is made of: scenarios, properties (every operation) and posture.

Each tier is a package of pytest modules collected with `--pyargs`; a check declares
itself with `conformance.checks.metadata` and states its verdict with `conformance.verdict`.
"""
