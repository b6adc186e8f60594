"""Airflow-specific response checks (the registry lives in `conformance.checks.registry`)."""

from conformance.checks.registry import CHECKS, Check, check, run_all

__all__ = ["CHECKS", "Check", "check", "run_all"]
