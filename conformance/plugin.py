"""Placeholder pytest plugin; replaced by the suite's plugin."""
