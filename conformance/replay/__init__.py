"""Replaying recorded deviations against a live target: the guarded requests that show whether each one occurs.

The data (`conformance.expectations`) says what a defect looks like; this layer sends its reproduction and
negative control through the run's guarded session and judges the answers (`deviations verify`, `sweep`).
"""
