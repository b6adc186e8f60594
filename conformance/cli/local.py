"""Placeholder: replaced by the local-target commands (up/down/status/probe-dags)."""
COMMANDS: list = []
