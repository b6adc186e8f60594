"""Posture checks: how the deployment is set up where that matters for security."""
