"""The suite's probe DAGs: their files, their names, and how to drive their runs over the API.

DAGs cannot be created over the REST API, so every tier that needs a run of its
own (scenarios, properties, deviation replays) uses the probe DAG deployed next
to the target's DAGs; `runs` is the one place that triggers, polls and pauses it.
"""
